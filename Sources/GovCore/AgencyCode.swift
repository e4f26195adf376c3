import Foundation

/// An agency's identifier in the national directory (mã định danh điện tử, QĐ 20/2020/QĐ-TTg).
///
/// Construction guarantees a non-empty, trimmed code of at most 64 ASCII letters, digits, `.`, `-`
/// and `_`. Codes that do not follow the national `000.00.00.G22` shape are still accepted, because
/// local registries predate the standard; ``standardWarning`` lets the UI say so.
public struct AgencyCode: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    /// The code, exactly as it is stored and compared (case-sensitive).
    public let value: String

    /// The longest accepted code, in characters.
    public static let maxLength = 64

    /// Validates a code typed or imported by a person; surrounding whitespace is ignored.
    ///
    /// Throws `.invalid` errors `agency_code_empty`, `agency_code_too_long` or
    /// `agency_code_invalid_characters`.
    public init(validating raw: String) throws(GovError) {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty {
            throw GovError(
                "agency_code_empty", .invalid,
                vi: "Mã định danh cơ quan không được để trống.",
                en: "The agency code must not be empty."
            )
        }
        if trimmed.unicodeScalars.count > Self.maxLength {
            throw GovError(
                "agency_code_too_long", .invalid,
                vi: "Mã định danh cơ quan dài tối đa \(Self.maxLength) ký tự.",
                en: "The agency code must be at most \(Self.maxLength) characters long."
            )
        }
        guard trimmed.unicodeScalars.allSatisfy(Self.isAllowed) else {
            throw GovError(
                "agency_code_invalid_characters", .invalid,
                vi: "Mã định danh cơ quan chỉ được chứa chữ cái không dấu, chữ số và các ký tự . - _",
                en: "The agency code may contain only letters A–Z, digits and the characters . - _"
            )
        }
        self.value = trimmed
    }

    /// For values that are known to be unusable as a real code (CSV placeholders); never exposed.
    init(unchecked value: String) {
        self.value = value
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", ".", "-", "_": return true
        default: return false
        }
    }

    /// Whether the code has the national shape `ddd.dd.dd.Xdd` (e.g. `000.00.00.G22`).
    public var isStandard: Bool {
        let bytes = Array(value.utf8)
        guard bytes.count == 13 else { return false }
        func digit(_ i: Int) -> Bool { bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        let dot = UInt8(ascii: ".")
        return digit(0) && digit(1) && digit(2) && bytes[3] == dot
            && digit(4) && digit(5) && bytes[6] == dot
            && digit(7) && digit(8) && bytes[9] == dot
            && bytes[10] >= UInt8(ascii: "A") && bytes[10] <= UInt8(ascii: "Z")
            && digit(11) && digit(12)
    }

    /// The level-1 unit part of a standard code (`G22` in `000.00.00.G22`); nil for non-standard codes.
    public var level1Code: String? {
        isStandard ? String(value.suffix(3)) : nil
    }

    /// The group letter of a standard code (`G` in `000.00.00.G22`); nil for non-standard codes.
    public var groupLetter: String? {
        isStandard ? String(value.suffix(3).prefix(1)) : nil
    }

    /// A warning (`agency_code_nonstandard`) when the code is accepted but not in the national shape; nil otherwise.
    public var standardWarning: GovWarning? {
        if isStandard { return nil }
        return GovWarning(
            "agency_code_nonstandard",
            vi: "Mã \(value) không theo cấu trúc mã định danh chuẩn (ví dụ 000.00.00.G22); mã vẫn được chấp nhận.",
            en: "Code \(value) does not follow the standard identifier format (e.g. 000.00.00.G22); it is accepted anyway."
        )
    }

    /// Orders codes by their string value, which keeps siblings of a standard code together.
    public static func < (lhs: AgencyCode, rhs: AgencyCode) -> Bool {
        lhs.value < rhs.value
    }

    /// The code itself.
    public var description: String { value }

    /// Decodes from a single string and rejects anything ``init(validating:)`` would reject.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        do {
            try self.init(validating: raw)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(error.code): \(error.en)")
        }
    }

    /// Encodes as a single string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
