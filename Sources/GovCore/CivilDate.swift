import Foundation

/// A calendar date with no time or zone (a decision date, a validity start), in the Gregorian calendar.
///
/// Stored and exchanged as ISO `yyyy-MM-dd` so that it never shifts by a day when moved between time zones.
/// Only years 1…9999 exist, because the text forms have exactly four year digits.
public struct CivilDate: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    /// The year, 1…9999.
    public let year: Int
    /// The month, 1…12.
    public let month: Int
    /// The day of the month, 1…28/29/30/31 as the month allows.
    public let day: Int

    /// Creates a date, or nil when it does not exist (February 30th, month 13, February 29th of a common year).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              day >= 1, day <= Self.daysIn(month: month, year: year) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `yyyy-MM-dd`, `yyyy/MM/dd` (EDXML) or `dd/MM/yyyy` (how Vietnamese documents write dates).
    ///
    /// Day and month may have one or two digits, the year must have four; surrounding whitespace is ignored.
    /// Throws `.invalid` error `date_invalid` for any other shape or for a date that does not exist.
    public init(parsing text: String) throws(GovError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let parsed = Self.parse(trimmed) else {
            let shown = trimmed.count > 40 ? String(trimmed.prefix(40)) + "…" : trimmed
            throw GovError(
                "date_invalid", .invalid,
                vi: "Ngày \"\(shown)\" không hợp lệ; dùng dạng yyyy-MM-dd hoặc dd/MM/yyyy.",
                en: "Invalid date \"\(shown)\"; use yyyy-MM-dd or dd/MM/yyyy."
            )
        }
        self = parsed
    }

    /// The date in the Gregorian calendar at `date` as seen in `timeZone`.
    public init(_ date: Date, in timeZone: TimeZone = VietnamTime.zone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        // Calendar always yields a real date; clamp only guards the 1…9999 text range.
        let year = min(max(parts.year ?? 1970, 1), 9999)
        self.year = year
        self.month = parts.month ?? 1
        self.day = parts.day ?? 1
    }

    /// Midnight at the start of this date in `timeZone` (Vietnam by default).
    public func start(in timeZone: TimeZone = VietnamTime.zone) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        // Every CivilDate exists in the Gregorian calendar, so the fallback is never taken.
        return calendar.date(from: DateComponents(year: year, month: month, day: day)) ?? Date(timeIntervalSince1970: 0)
    }

    /// The date `days` days later (earlier when negative).
    public func adding(days: Int) -> CivilDate {
        var calendar = Calendar(identifier: .gregorian)
        // UTC: whole days, no daylight-saving hour in between.
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        let base = calendar.date(from: DateComponents(year: year, month: month, day: day)) ?? Date(timeIntervalSince1970: 0)
        return CivilDate(calendar.date(byAdding: .day, value: days, to: base) ?? base, in: calendar.timeZone)
    }

    /// Today's date where the platform's users are (Vietnam by default), not where the server runs.
    public static func today(in timeZone: TimeZone = VietnamTime.zone) -> CivilDate {
        CivilDate(Date(), in: timeZone)
    }

    /// ISO form `yyyy-MM-dd`.
    public var iso: String {
        "\(Self.pad(year, 4))-\(Self.pad(month, 2))-\(Self.pad(day, 2))"
    }

    /// EDXML (QCVN 102) form `yyyy/MM/dd`.
    public var edxml: String {
        "\(Self.pad(year, 4))/\(Self.pad(month, 2))/\(Self.pad(day, 2))"
    }

    /// The ISO form.
    public var description: String { iso }

    /// Chronological order.
    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// Decodes from a single string in any form ``init(parsing:)`` accepts.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        do {
            try self.init(parsing: raw)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(error.code): \(error.en)")
        }
    }

    /// Encodes as the ISO string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso)
    }

    /// Whether `year` has a February 29th in the Gregorian calendar.
    public static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 1, 3, 5, 7, 8, 10, 12: return 31
        case 4, 6, 9, 11: return 30
        default: return isLeapYear(year) ? 29 : 28
        }
    }

    private static func pad(_ number: Int, _ width: Int) -> String {
        let digits = String(number)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    private static func parse(_ text: String) -> CivilDate? {
        let separator: Character
        if text.contains("-") && !text.contains("/") {
            separator = "-"
        } else if text.contains("/") && !text.contains("-") {
            separator = "/"
        } else {
            return nil
        }
        let parts = text.split(separator: separator, omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else {
            return nil
        }
        let numbers = parts.map { Int($0) }
        guard let a = numbers[0], let b = numbers[1], let c = numbers[2] else { return nil }
        if parts[0].count == 4, (1...2).contains(parts[1].count), (1...2).contains(parts[2].count) {
            return CivilDate(year: a, month: b, day: c)
        }
        // dd/MM/yyyy only with slashes: "01-02-2025" is ambiguous with US usage, so it is refused.
        if separator == "/", (1...2).contains(parts[0].count), (1...2).contains(parts[1].count), parts[2].count == 4 {
            return CivilDate(year: c, month: b, day: a)
        }
        return nil
    }
}
