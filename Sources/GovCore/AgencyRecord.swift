import Foundation

/// Whether an agency may still be used (send and receive documents, own users).
public enum AgencyState: String, Sendable, Codable, CaseIterable {
    /// In operation.
    case active
    /// Closed, merged away or suspended; kept so history still resolves.
    case locked
}

/// One entry of the agency directory, as edited in the UI and exchanged as CSV.
public struct AgencyRecord: Sendable, Equatable, Codable {
    /// The agency's identifier.
    public var code: AgencyCode
    /// Full official name.
    public var name: String
    /// Abbreviated name, if one is in use.
    public var shortName: String?
    /// The superior agency, if any.
    public var parentCode: AgencyCode?
    /// Administrative level, 1 (central/province) to 4.
    public var level: Int
    /// QCVN 102 group, free text (e.g. `G`, `H`, `Bộ, cơ quan ngang bộ`).
    public var group: String?
    /// Postal address.
    public var address: String?
    /// Official e-mail address.
    public var email: String?
    /// Telephone number, free text.
    public var phone: String?
    /// Fax number, free text.
    public var fax: String?
    /// Website; must be an http(s) URL.
    public var website: String?
    /// First day the code is valid.
    public var validFrom: CivilDate?
    /// Last day the code is valid.
    public var validTo: CivilDate?
    /// Whether the agency is in operation.
    public var state: AgencyState
    /// The agency that took over after a merger (e.g. the 2025 province mergers).
    public var successorCode: AgencyCode?
    /// Free remarks.
    public var note: String?

    /// The longest accepted name, in characters.
    public static let maxNameLength = 300
    /// The accepted administrative levels.
    public static let levels = 1...4

    /// Creates a record without checking it; call ``validate()`` before saving.
    public init(
        code: AgencyCode,
        name: String,
        shortName: String? = nil,
        parentCode: AgencyCode? = nil,
        level: Int = 1,
        group: String? = nil,
        address: String? = nil,
        email: String? = nil,
        phone: String? = nil,
        fax: String? = nil,
        website: String? = nil,
        validFrom: CivilDate? = nil,
        validTo: CivilDate? = nil,
        state: AgencyState = .active,
        successorCode: AgencyCode? = nil,
        note: String? = nil
    ) {
        self.code = code
        self.name = name
        self.shortName = shortName
        self.parentCode = parentCode
        self.level = level
        self.group = group
        self.address = address
        self.email = email
        self.phone = phone
        self.fax = fax
        self.website = website
        self.validFrom = validFrom
        self.validTo = validTo
        self.state = state
        self.successorCode = successorCode
        self.note = note
    }

    /// Every rule the record breaks (empty when it may be saved), all `.invalid`:
    /// `agency_name_empty`, `agency_name_too_long` (over 300 characters), `agency_level_invalid` (not 1…4),
    /// `agency_email_invalid`, `agency_valid_range_invalid` (validTo before validFrom),
    /// `agency_parent_self`, `agency_successor_self`, `agency_website_invalid` (not http:// or https://).
    public func validate() -> [GovError] {
        var errors: [GovError] = []
        let trimmedName = name.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmedName.isEmpty {
            errors.append(GovError(
                "agency_name_empty", .invalid,
                vi: "Tên cơ quan không được để trống.",
                en: "The agency name must not be empty."
            ))
        } else if name.count > Self.maxNameLength {
            errors.append(GovError(
                "agency_name_too_long", .invalid,
                vi: "Tên cơ quan dài tối đa \(Self.maxNameLength) ký tự.",
                en: "The agency name must be at most \(Self.maxNameLength) characters long."
            ))
        }
        if !Self.levels.contains(level) {
            errors.append(GovError(
                "agency_level_invalid", .invalid,
                vi: "Cấp của cơ quan phải từ 1 đến 4.",
                en: "The agency level must be between 1 and 4."
            ))
        }
        if let email, !EmailAddress.isPlausible(email) {
            errors.append(GovError(
                "agency_email_invalid", .invalid,
                vi: "Địa chỉ thư điện tử không hợp lệ.",
                en: "The e-mail address is not valid."
            ))
        }
        if let validFrom, let validTo, validTo < validFrom {
            errors.append(GovError(
                "agency_valid_range_invalid", .invalid,
                vi: "Ngày hết hiệu lực (\(validTo.iso)) không được trước ngày có hiệu lực (\(validFrom.iso)).",
                en: "The end of validity (\(validTo.iso)) must not be before its start (\(validFrom.iso))."
            ))
        }
        if parentCode == code {
            errors.append(GovError(
                "agency_parent_self", .invalid,
                vi: "Cơ quan không thể là cơ quan cấp trên của chính nó.",
                en: "An agency cannot be its own parent."
            ))
        }
        if successorCode == code {
            errors.append(GovError(
                "agency_successor_self", .invalid,
                vi: "Cơ quan không thể là cơ quan kế thừa của chính nó.",
                en: "An agency cannot be its own successor."
            ))
        }
        if let website, !Self.isWebURL(website) {
            errors.append(GovError(
                "agency_website_invalid", .invalid,
                vi: "Trang thông tin điện tử phải bắt đầu bằng http:// hoặc https://",
                en: "The website must start with http:// or https://"
            ))
        }
        return errors
    }

    private static func isWebURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        for scheme in ["http://", "https://"] where lower.hasPrefix(scheme) {
            let rest = lower.dropFirst(scheme.count)
            return !rest.isEmpty && !rest.contains(where: { $0.isWhitespace })
        }
        return false
    }
}
