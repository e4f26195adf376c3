import Foundation
import GovCore

/// Working days for deadlines ("hạn xử lý ... ngày làm việc"): Monday to Friday, less public holidays.
///
/// The solar holidays of the Labour Code 2019 (Art. 112: 1/1, 30/4, 1/5, 2/9) are built in. The days
/// the Government fixes each year — Tết and Giỗ Tổ Hùng Vương (lunar dates), the day next to 2/9, days
/// off given in exchange for a worked Saturday — come as data (``HolidayData``), so a new year's notice
/// is a file change, not a code change.
public struct WorkingCalendar: Sendable {
    /// Days off that are not weekends.
    public let holidays: Set<CivilDate>
    /// Saturdays or Sundays that are worked (đi làm bù).
    public let workedWeekendDays: Set<CivilDate>

    /// A calendar with the built-in solar holidays of `years` plus `data`.
    public init(years: ClosedRange<Int>, data: HolidayData = .init()) {
        var days = Set<CivilDate>()
        for year in years {
            for (month, day) in [(1, 1), (4, 30), (5, 1), (9, 2)] {
                if let date = CivilDate(year: year, month: month, day: day) { days.insert(date) }
            }
        }
        holidays = days.union(data.daysOff)
        workedWeekendDays = data.workedDays
    }

    /// Whether `date` is a working day.
    public func isWorkingDay(_ date: CivilDate) -> Bool {
        if workedWeekendDays.contains(date) { return true }
        if holidays.contains(date) { return false }
        return !Self.isWeekend(date)
    }

    /// The deadline `count` working days after `start` (the start day itself not counted): a document
    /// received on Friday with 1 working day is due on Monday, or later if Monday is a holiday.
    /// With `count` 0, the first working day from `start` on.
    public func adding(workingDays count: Int, to start: CivilDate) -> CivilDate {
        var date = start
        if count == 0 {
            while !isWorkingDay(date) { date = Self.day(after: date) }
            return date
        }
        var left = max(count, 0)
        while left > 0 {
            date = Self.day(after: date)
            if isWorkingDay(date) { left -= 1 }
        }
        return date
    }

    /// Working days after `start` up to and including `end` (0 when `end` is not after `start`):
    /// how late a document finished on `end` is against a deadline of `start`.
    public func workingDays(after start: CivilDate, through end: CivilDate) -> Int {
        guard start < end else { return 0 }
        var count = 0
        var date = start
        while date < end {
            date = Self.day(after: date)
            if isWorkingDay(date) { count += 1 }
        }
        return count
    }

    static func isWeekend(_ date: CivilDate) -> Bool {
        // Foundation's weekday of the day's start in UTC: 1 = Sunday, 7 = Saturday.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        let weekday = calendar.component(.weekday, from: date.start(in: calendar.timeZone))
        return weekday == 1 || weekday == 7
    }

    static func day(after date: CivilDate) -> CivilDate { date.adding(days: 1) }
}

/// The year-by-year holiday notices, as text: one line per day, `yyyy-MM-dd off <note>` for a day off
/// or `yyyy-MM-dd work <note>` for a worked weekend day; `#` starts a comment.
///
/// ```
/// # Tết Bính Ngọ, as the Government's notice for 2026 gives it
/// 2026-02-16 off Tết
/// 2026-02-28 work làm bù
/// ```
public struct HolidayData: Sendable, Equatable {
    /// Days off.
    public var daysOff: Set<CivilDate> = []
    /// Weekend days that are worked.
    public var workedDays: Set<CivilDate> = []

    /// No extra days.
    public init() {}

    /// Reads the text form; throws `holiday_data_invalid` naming the first bad line.
    public init(parsing text: String) throws(GovError) {
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard !fields.isEmpty else { continue }
            guard fields.count >= 2, let date = try? CivilDate(parsing: String(fields[0])),
                  fields[1] == "off" || fields[1] == "work" else {
                throw GovError("holiday_data_invalid", .invalid,
                               vi: "Dòng \(index + 1) của lịch nghỉ không đúng dạng \"yyyy-MM-dd off|work ghi chú\".",
                               en: "Line \(index + 1) of the holiday data is not \"yyyy-MM-dd off|work note\".")
            }
            if fields[1] == "off" { daysOff.insert(date) } else { workedDays.insert(date) }
        }
    }
}
