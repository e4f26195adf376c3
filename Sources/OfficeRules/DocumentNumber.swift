import GovCore

/// A document's number and notation ("Số, ký hiệu", Decree 30/2020 Appendix I): `12/QĐ-UBND` for a
/// typed document, `45/UBND-VP` for a công văn. Numbers below 10 get a leading zero (`05/TB-VPCP`).
public struct DocumentNumber: Hashable, Sendable, CustomStringConvertible {
    /// The number in its register's series, from 1.
    public let number: Int
    /// Everything after the slash, parts joined by `-` without spaces ("QĐ-UBND", "VPCP-TTĐT").
    public let notation: String

    /// A typed document's number (`12/QĐ-UBND`), or a công văn's (`45/UBND-VP`, which needs `unit`).
    /// Throws `document_number_invalid` for a number below 1 or a malformed abbreviation.
    public init(number: Int, type: DocumentType, agency: String, unit: String? = nil) throws(GovError) {
        guard number >= 1 else { throw Self.invalid("\(number)") }
        try Self.checkPart(agency)
        if type.usesUnitNotation {
            guard let unit else {
                throw GovError("document_unit_missing", .invalid,
                               vi: "Công văn cần chữ viết tắt của đơn vị soạn thảo (ví dụ 45/UBND-VP).",
                               en: "An official letter needs the drafting unit's abbreviation (e.g. 45/UBND-VP).")
            }
            try Self.checkPart(unit)
            notation = "\(agency)-\(unit)"
        } else {
            notation = "\(type.abbreviation!)-\(agency)" + (unit.map { "-\($0)" } ?? "")
            if let unit { try Self.checkPart(unit) }
        }
        self.number = number
    }

    /// Reads `12/QĐ-UBND`, `Số: 12/QĐ-UBND` or `7816/VPCP-TTĐT` (what a received document carries).
    /// Throws `document_number_invalid` for anything else.
    public init(parsing text: String) throws(GovError) {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        for prefix in ["Số:", "Số", "So:"] where body.hasPrefix(prefix) {
            body = body.dropFirst(prefix.count).drop { $0 == " " }
            break
        }
        let halves = body.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard halves.count == 2, halves[0].allSatisfy(\.isASCII), let number = Int(halves[0]), number >= 1 else {
            throw Self.invalid(text)
        }
        let parts = halves[1].split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 2 else { throw Self.invalid(text) }
        for part in parts {
            do { try Self.checkPart(String(part)) } catch { throw Self.invalid(text) }
        }
        self.number = number
        self.notation = String(halves[1])
    }

    /// `12/QĐ-UBND`.
    public var description: String {
        (number < 10 ? "0\(number)" : "\(number)") + "/" + notation
    }

    /// The line printed on the document: `Số: 12/QĐ-UBND`.
    public var printed: String { "Số: \(description)" }

    /// An abbreviation part: 1…20 letters (Vietnamese capitals such as Đ included) or digits.
    static func checkPart(_ part: String) throws(GovError) {
        guard (1...20).contains(part.count), part.allSatisfy({ $0.isLetter || $0.isNumber }) else {
            throw GovError("document_notation_invalid", .invalid,
                           vi: "Chữ viết tắt \"\(part.prefix(30))\" không hợp lệ: chỉ gồm chữ và số, không dấu cách, tối đa 20 ký tự.",
                           en: "Abbreviation \"\(part.prefix(30))\" is invalid: letters and digits only, no spaces, at most 20.")
        }
    }

    static func invalid(_ text: String) -> GovError {
        GovError("document_number_invalid", .invalid,
                 vi: "Số, ký hiệu \"\(text.prefix(40))\" không đúng dạng 12/QĐ-UBND.",
                 en: "Number and notation \"\(text.prefix(40))\" is not of the form 12/QĐ-UBND.")
    }
}

/// Which number series a new number comes from (Decree 30/2020 Art. 16): one per register and
/// calendar year, from 01 on 1 January; secret documents have a series of their own.
public struct NumberSeries: Hashable, Sendable, CustomStringConvertible {
    /// The register (sổ văn bản) the number belongs to.
    public let register: String
    /// The calendar year of the numbering date.
    public let year: Int
    /// Whether this is the separate series of secret documents.
    public let secret: Bool

    /// The series a document numbered on `date` in `register` belongs to.
    public init(register: String, date: CivilDate, secret: Bool = false) {
        self.register = register
        self.year = date.year
        self.secret = secret
    }

    /// The number after `last` in this series (1 when nothing was issued yet this year). Numbers are
    /// never reused: `last` is the highest ever issued in the series, cancelled ones included.
    public func next(after last: Int?) -> Int {
        (last ?? 0) + 1
    }

    /// `register/year` (with `/mật` for the secret series): the key a store keeps its counter under.
    public var description: String {
        "\(register)/\(year)" + (secret ? "/mật" : "")
    }
}
