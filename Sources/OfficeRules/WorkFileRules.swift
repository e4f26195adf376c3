import Foundation
import GovCore

/// A work file's code (ký hiệu hồ sơ, Decree 30/2020 Appendix V): the file's sequence number in the
/// year's list of files, a dot, and the abbreviation of the heading it is filed under — `01.TCCB`,
/// `12.VPĐT`. The number is written with at least two digits, so `1.TCCB` and `01.TCCB` are one code.
public struct WorkFileCode: Hashable, Sendable, CustomStringConvertible {
    /// The sequence number, from 1.
    public let number: Int
    /// The heading's abbreviation: 1…20 capital letters (Vietnamese ones such as Đ included) or digits.
    public let heading: String

    /// Reads `01.TCCB`; lower case is raised (`01.tccb` is `01.TCCB`). Throws `work_file_code_invalid`
    /// for anything else: no dot, 1–4 digits before it, a number of 0, spaces, punctuation or letters
    /// outside the Latin alphabets Vietnamese is written in.
    public init(parsing text: String) throws(GovError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        // NFC first: a decomposed Đ or Ệ typed on some keyboards is one character after it.
        let normalized = trimmed.precomposedStringWithCanonicalMapping.uppercased()
        let halves = normalized.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard halves.count == 2, (1...4).contains(halves[0].count), halves[0].allSatisfy({ $0.isASCII && $0.isNumber }),
              let number = Int(halves[0]), number >= 1,
              (1...20).contains(halves[1].count), halves[1].allSatisfy(Self.isHeadingCharacter) else {
            throw Self.invalid(trimmed)
        }
        self.number = number
        self.heading = String(halves[1])
    }

    /// `01.TCCB`.
    public var description: String {
        (number < 10 ? "0\(number)" : "\(number)") + "." + heading
    }

    /// An ASCII digit or a capital letter of the Latin blocks Vietnamese uses (A–Z, Latin-1,
    /// Latin Extended-A/B, Latin Extended Additional — where the letters with two marks are).
    static func isHeadingCharacter(_ character: Character) -> Bool {
        if character.isASCII { return character.isNumber || ("A"..."Z").contains(character) }
        guard character.isLetter, character.isUppercase else { return false }
        return character.unicodeScalars.allSatisfy { scalar in
            (0xC0...0x24F).contains(scalar.value) || (0x1E00...0x1EFF).contains(scalar.value)
        }
    }

    static func invalid(_ text: String) -> GovError {
        GovError("work_file_code_invalid", .invalid,
                 vi: "Ký hiệu hồ sơ \"\(text.prefix(40))\" không đúng dạng số thứ tự, dấu chấm và chữ viết tắt đề mục (ví dụ 01.TCCB).",
                 en: "File code \"\(text.prefix(40))\" is not a sequence number, a dot and a heading abbreviation (e.g. 01.TCCB).")
    }
}

/// How long a work file is kept (thời hạn bảo quản): permanently (Vĩnh viễn) or a number of years.
public enum WorkFileRetention: Hashable, Sendable, CustomStringConvertible {
    case permanent
    case years(Int)

    /// The longest term in years a file may be given; longer than that is permanent.
    public static let maxYears = 100

    /// Reads `permanent` (or `vĩnh viễn`) or a whole number of years from 1 to 100. Throws
    /// `work_file_retention_invalid` for anything else.
    public init(parsing text: String) throws(GovError) {
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if ["permanent", "vĩnh viễn", "vinh vien"].contains(value) {
            self = .permanent
            return
        }
        guard (1...3).contains(value.count), value.allSatisfy({ $0.isASCII && $0.isNumber }), let years = Int(value),
              (1...Self.maxYears).contains(years) else {
            throw GovError("work_file_retention_invalid", .invalid,
                           vi: "Thời hạn bảo quản là \"Vĩnh viễn\" hoặc số năm từ 1 đến \(Self.maxYears).",
                           en: "The retention is \"permanent\" or a number of years from 1 to \(Self.maxYears).")
        }
        self = .years(years)
    }

    /// The stored form: nil for permanent, the number of years otherwise.
    public init(storedYears: Int?) {
        self = storedYears.map { .years($0) } ?? .permanent
    }

    /// nil for permanent; what the `retention_years` column holds.
    public var storedYears: Int? {
        if case .years(let years) = self { return years }
        return nil
    }

    /// `permanent` or the number of years, as a form sends it.
    public var description: String {
        storedYears.map(String.init) ?? "permanent"
    }
}
