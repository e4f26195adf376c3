import Foundation
import GovCore
import Testing

@Suite struct CivilDateTests {
    @Test func validDates() {
        #expect(CivilDate(year: 2024, month: 2, day: 29) != nil)
        #expect(CivilDate(year: 2000, month: 2, day: 29) != nil)
        #expect(CivilDate(year: 2025, month: 12, day: 31) != nil)
        #expect(CivilDate(year: 1, month: 1, day: 1) != nil)
        #expect(CivilDate(year: 9999, month: 12, day: 31) != nil)
    }

    @Test(arguments: [
        (2025, 2, 29), (1900, 2, 29), (2024, 2, 30), (2025, 4, 31), (2025, 13, 1), (2025, 0, 10),
        (2025, 1, 0), (2025, 1, 32), (0, 1, 1), (10000, 1, 1), (-5, 1, 1), (2025, -1, 1),
    ])
    func impossibleDates(year: Int, month: Int, day: Int) {
        #expect(CivilDate(year: year, month: month, day: day) == nil)
    }

    @Test(arguments: ["2025-07-01", "2025/07/01", "01/07/2025", "1/7/2025", "2025-7-1", " 2025-07-01 "])
    func parsesAcceptedForms(text: String) throws {
        let date = try CivilDate(parsing: text)
        #expect(date == CivilDate(year: 2025, month: 7, day: 1))
    }

    @Test(arguments: [
        "", "2025", "2025-07", "2025-07-01-01", "2025-02-29", "31/02/2024", "2025.07.01", "07/01/25",
        "01-07-2025", "2025/07-01", "２０２５-07-01", "2025-07-01T00:00", "abcd-ef-gh", "+2025-07-01",
        "2025--07-01", "20250-07-01", "2025-007-01", "13/13/2025", "٢٠٢٥-07-01",
    ])
    func rejectsBadText(text: String) {
        #expect(thrownCode { try CivilDate(parsing: text) } == "date_invalid")
    }

    @Test func formats() throws {
        let date = try #require(CivilDate(year: 987, month: 3, day: 4))
        #expect(date.iso == "0987-03-04")
        #expect(date.edxml == "0987/03/04")
        #expect(date.description == "0987-03-04")
        #expect(try CivilDate(parsing: date.iso) == date)
        #expect(try CivilDate(parsing: date.edxml) == date)
    }

    @Test func ordering() throws {
        let a = try CivilDate(parsing: "2024-12-31")
        let b = try CivilDate(parsing: "2025-01-01")
        let c = try CivilDate(parsing: "2025-01-02")
        #expect(a < b && b < c)
        #expect([c, a, b].sorted() == [a, b, c])
    }

    @Test func codableAsISOString() throws {
        let date = try #require(CivilDate(year: 2025, month: 7, day: 1))
        let data = try JSONEncoder().encode([date])
        #expect(String(decoding: data, as: UTF8.self) == #"["2025-07-01"]"#)
        #expect(try JSONDecoder().decode([CivilDate].self, from: data) == [date])
        #expect(throws: DecodingError.self) {
            _ = try JSONDecoder().decode([CivilDate].self, from: Data(#"["2025-02-30"]"#.utf8))
        }
    }

    @Test func dateInTimeZone() throws {
        // 2025-06-30T20:00:00Z is already July 1st in Hanoi (UTC+7).
        let instant = Date(timeIntervalSince1970: 1_751_313_600)
        #expect(CivilDate(instant, in: TimeZone(identifier: "Asia/Ho_Chi_Minh")!).iso == "2025-07-01")
        #expect(CivilDate(instant, in: TimeZone(identifier: "UTC")!).iso == "2025-06-30")
    }

    @Test func todayIsPlausible() {
        let today = CivilDate.today()
        let utc = CivilDate.today(in: TimeZone(identifier: "UTC")!)
        #expect(today.year >= 2025)
        // Vietnam is never behind UTC.
        #expect(today >= utc)
    }
}

@Suite("Civil date arithmetic")
struct CivilDateArithmeticTests {
    @Test("adding days crosses months, leap days and years, both ways")
    func addingDays() throws {
        #expect(try CivilDate(parsing: "2024-02-28").adding(days: 1).iso == "2024-02-29")
        #expect(try CivilDate(parsing: "2024-02-29").adding(days: 1).iso == "2024-03-01")
        #expect(try CivilDate(parsing: "2026-12-31").adding(days: 1).iso == "2027-01-01")
        #expect(try CivilDate(parsing: "2027-01-01").adding(days: -1).iso == "2026-12-31")
        #expect(try CivilDate(parsing: "2026-06-15").adding(days: 0).iso == "2026-06-15")
    }

    @Test("the start of a date is its midnight in Vietnam (UTC+7), the day before at 17:00 UTC")
    func startInVietnam() throws {
        let start = try CivilDate(parsing: "2026-01-01").start()
        #expect(start == Date(timeIntervalSince1970: 1_767_200_400))
        #expect(CivilDate(start).iso == "2026-01-01")
        #expect(CivilDate(start.addingTimeInterval(-1)).iso == "2025-12-31")
    }
}
