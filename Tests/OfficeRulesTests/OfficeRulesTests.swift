import Foundation
import EdXML
import GovCore
import OfficeRules
import Testing

@Suite("Decree 30 document types and numbers")
struct OfficeRulesTests {
    @Test func twentyNineTypesWithExactAbbreviations() {
        #expect(DocumentType.all.count == 29)
        #expect(Set(DocumentType.all.map(\.id)).count == 29)
        #expect(DocumentType.named("QyĐ")?.name == "Quy định")
        #expect(DocumentType.named("QĐ")?.name == "Quyết định")
        #expect(DocumentType.named("qđ") == nil)
        #expect(DocumentType.named("TTr")?.name == "Tờ trình")
        #expect(DocumentType.officialLetter.usesUnitNotation)
        #expect(throws: GovError.self) { try DocumentType.require("XYZ") }
    }

    @Test func typedDocumentsAndLettersAreNumberedAsTheDecreeWrites() throws {
        let decision = try DocumentNumber(number: 12, type: DocumentType.require("QĐ"), agency: "UBND")
        #expect(decision.description == "12/QĐ-UBND")
        #expect(decision.printed == "Số: 12/QĐ-UBND")
        let letter = try DocumentNumber(number: 45, type: .officialLetter, agency: "UBND", unit: "VP")
        #expect(letter.description == "45/UBND-VP")
        let notice = try DocumentNumber(number: 5, type: DocumentType.require("TB"), agency: "VPCP")
        #expect(notice.description == "05/TB-VPCP")
    }

    @Test func badNumbersAndAbbreviationsAreRefusedWithACode() throws {
        let decision = try DocumentType.require("QĐ")
        for (number, agency, code) in [(0, "UBND", "document_number_invalid"), (1, "UB ND", "document_notation_invalid"),
                                       (1, "", "document_notation_invalid"), (1, "UBND/VP", "document_notation_invalid")] {
            #expect { try DocumentNumber(number: number, type: decision, agency: agency) } throws: { error in
                (error as? GovError)?.code == code
            }
        }
        #expect { try DocumentNumber(number: 3, type: .officialLetter, agency: "UBND") } throws: { error in
            (error as? GovError)?.code == "document_unit_missing"
        }
    }

    @Test func receivedNumbersAreRead() throws {
        let vpcp = try DocumentNumber(parsing: "7816/VPCP-TTĐT")
        #expect(vpcp.number == 7816 && vpcp.notation == "VPCP-TTĐT")
        #expect(try DocumentNumber(parsing: "Số: 05/TB-VPCP").description == "05/TB-VPCP")
        for bad in ["", "12", "12/", "/QĐ-UBND", "x/QĐ-UBND", "12/QĐ", "12/QĐ--UBND", "-1/QĐ-UBND", "12/QĐ-UB ND",
                    "12/QĐ-UBND'; DROP TABLE x;--", "١٢/QĐ-UBND"] {
            #expect(throws: GovError.self, "\(bad)") { try DocumentNumber(parsing: bad) }
        }
    }

    @Test func seriesRestartEachYearAndKeepSecretsApart() throws {
        let december = try CivilDate(parsing: "2026-12-31")
        let january = try CivilDate(parsing: "2027-01-01")
        let last = NumberSeries(register: "di-qd", date: december)
        let first = NumberSeries(register: "di-qd", date: january)
        #expect(last != first)
        #expect(first.next(after: nil) == 1)
        #expect(last.next(after: 341) == 342)
        #expect(NumberSeries(register: "di-qd", date: january, secret: true) != first)
        #expect(first.description == "di-qd/2027")
    }
}

@Suite("Working-day deadlines")
struct WorkingCalendarTests {
    func day(_ text: String) throws -> CivilDate { try CivilDate(parsing: text) }

    @Test func weekendsAndTheSolarHolidaysAreOff() throws {
        let calendar = WorkingCalendar(years: 2026...2026)
        #expect(calendar.isWorkingDay(try day("2026-12-04")))       // a Friday
        #expect(!calendar.isWorkingDay(try day("2026-12-05")))      // Saturday
        #expect(!calendar.isWorkingDay(try day("2026-12-06")))      // Sunday
        for holiday in ["2026-01-01", "2026-04-30", "2026-05-01", "2026-09-02"] {
            #expect(!calendar.isWorkingDay(try day(holiday)), "\(holiday)")
        }
    }

    @Test func deadlinesSkipWeekendsAndHolidaysGivenAsData() throws {
        let data = try HolidayData(parsing: """
            # a sample notice, not the Government's
            2026-02-16 off Tết
            2026-02-17 off Tết   # mùng 1
            2026-02-28 work làm bù
            """)
        let calendar = WorkingCalendar(years: 2026...2026, data: data)
        #expect(calendar.adding(workingDays: 1, to: try day("2026-12-04")) == (try day("2026-12-07")))
        #expect(calendar.adding(workingDays: 1, to: try day("2026-02-13")) == (try day("2026-02-18")))
        #expect(calendar.adding(workingDays: 0, to: try day("2026-02-14")) == (try day("2026-02-18")))
        #expect(calendar.isWorkingDay(try day("2026-02-28")))
        // 29/4 (Wed) + 2 working days: 30/4 and 1/5 are off, then the weekend.
        #expect(calendar.adding(workingDays: 2, to: try day("2026-04-29")) == (try day("2026-05-05")))
        #expect(calendar.workingDays(after: try day("2026-12-04"), through: try day("2026-12-08")) == 2)
        #expect(calendar.workingDays(after: try day("2026-12-08"), through: try day("2026-12-04")) == 0)
        // Across the new year: 31/12/2026 (Thu) + 1 skips 1/1/2027 only in a calendar that knows 2027.
        let twoYears = WorkingCalendar(years: 2026...2027)
        #expect(twoYears.adding(workingDays: 1, to: try day("2026-12-31")) == (try day("2027-01-04")))
    }

    @Test func badHolidayLinesAreNamed() {
        for (text, line) in [("2026-02-30 off", 1), ("# ok\n2026-02-16 holiday", 2), ("2026-02-16", 1), ("x off", 1)] {
            #expect(throws: GovError.self, "\(text)") { try HolidayData(parsing: text) }
            do {
                _ = try HolidayData(parsing: text)
            } catch {
                #expect(error.vi.contains("Dòng \(line)"), "\(text)")
            }
        }
    }
}

@Suite("iCalendar feed")
struct ICalendarFeedTests {
    let monday9am = Date(timeIntervalSince1970: 1_796_608_800)  // 2026-12-07 02:00 UTC = 09:00 in Hà Nội

    @Test func aMeetingBecomesAnEventInUTCWithCRLFLines() {
        let entry = CalendarEntry(uid: "a1@govoffice.G22", start: monday9am, end: monday9am + 5400,
                                  summary: "Họp giao ban tuần; lãnh đạo, các vụ", location: "Phòng họp số 1",
                                  details: "Dòng 1\nDòng 2 \\ hết", lastModified: monday9am)
        let feed = ICalendarFeed.render(name: "Lịch họp VPCP", entries: [entry], now: monday9am)
        #expect(feed.hasPrefix("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"))
        #expect(feed.hasSuffix("END:VCALENDAR\r\n"))
        #expect(!feed.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(feed.contains("DTSTART:20261207T020000Z\r\n"))
        #expect(feed.contains("DTEND:20261207T033000Z\r\n"))
        #expect(feed.contains("SUMMARY:Họp giao ban tuần\\; lãnh đạo\\, các vụ\r\n"))
        #expect(feed.contains("DESCRIPTION:Dòng 1\\nDòng 2 \\\\ hết\r\n"))
        #expect(feed.contains("STATUS:CONFIRMED"))
        var cancelled = entry
        cancelled.cancelled = true
        #expect(ICalendarFeed.render(name: "x", entries: [cancelled]).contains("STATUS:CANCELLED"))
    }

    @Test func longVietnameseLinesFoldAt75OctetsWithoutBreakingACharacter() {
        let summary = String(repeating: "Hội nghị trực tuyến toàn quốc về chuyển đổi số ", count: 6)
        let folded = ICalendarFeed.fold("SUMMARY:" + summary)
        let lines = folded.components(separatedBy: "\r\n")
        #expect(lines.count > 4)
        for line in lines {
            #expect(line.utf8.count <= 75, "\(line.utf8.count) octets")
        }
        for line in lines.dropFirst() {
            #expect(line.hasPrefix(" "))
        }
        let unfolded = folded.replacingOccurrences(of: "\r\n ", with: "")
        #expect(unfolded == "SUMMARY:" + summary)
    }

    @Test func controlCharactersDoNotBreakTheFeed() {
        let escaped = ICalendarFeed.escape("a\u{0}b\u{7}c\r\nd\re")
        #expect(escaped == "a b c\\nd\\ne")
        // A name that tries to end the calendar early stays one escaped property line.
        let lines = ICalendarFeed.render(name: "BEGIN:VEVENT\nEND:VCALENDAR", entries: []).components(separatedBy: "\r\n")
        #expect(lines.filter { $0 == "END:VCALENDAR" }.count == 1)
        #expect(!lines.contains("BEGIN:VEVENT"))
        #expect(ICalendarFeed.render(name: "x\ny", entries: []).contains("X-WR-CALNAME:x\\ny\r\n"))
    }
}

@Suite("Incoming document workflow")
struct IncomingWorkflowTests {
    let arrival = CivilDate(year: 2026, month: 12, day: 4)!

    func code(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch { return (error as? GovError)?.code }
    }

    @Test func theHappyPathSends03Then04Then05Then06() throws {
        var state = IncomingState.arrived
        let deadline = CivilDate(year: 2026, month: 12, day: 11)!
        let steps: [(IncomingStep, Set<Role>, IncomingState, StatusCode)] = [
            (.accept, [.clerk], .registered, .accepted),
            (.assign(.init(leadUnit: "VP", coordinatingUnits: ["TCCB"], deadlines: ["VP": deadline, "TCCB": arrival],
                           opinion: "Giao Văn phòng chủ trì")), [.leader], .assigned, .assigned),
            (.startProcessing, [.specialist], .processing, .processing),
            (.finish, [.specialist], .done, .done),
        ]
        for (step, roles, next, status) in steps {
            let result = try IncomingWorkflow.apply(step, in: state, by: roles, arrival: arrival)
            #expect(result.state == next)
            #expect(result.status == status)
            state = result.state
        }
        let refused = try IncomingWorkflow.apply(.reject(reason: "Sai nơi nhận"), in: .arrived, by: [.clerk], arrival: arrival)
        #expect(refused == (.rejected, .refused))
    }

    @Test func eachBadStepHasItsCode() {
        #expect(code { _ = try IncomingWorkflow.apply(.accept, in: .registered, by: [.clerk], arrival: arrival) }
            == "incoming_step_not_allowed")
        #expect(code { _ = try IncomingWorkflow.apply(.finish, in: .rejected, by: [.clerk], arrival: arrival) }
            == "incoming_step_not_allowed")
        #expect(code { _ = try IncomingWorkflow.apply(.accept, in: .arrived, by: [.specialist], arrival: arrival) }
            == "incoming_role_missing")
        #expect(code { _ = try IncomingWorkflow.apply(.assign(.init(leadUnit: "VP", opinion: "")), in: .registered,
                                                      by: [.clerk], arrival: arrival) } == "incoming_role_missing")
        #expect(code { _ = try IncomingWorkflow.apply(.reject(reason: "  \n"), in: .arrived, by: [.clerk], arrival: arrival) }
            == "reject_reason_required")
        #expect(code { _ = try IncomingWorkflow.apply(.assign(.init(leadUnit: " ", opinion: "x")), in: .registered,
                                                      by: [.leader], arrival: arrival) } == "assignment_lead_unit_required")
        #expect(code { _ = try IncomingWorkflow.apply(.assign(.init(leadUnit: "VP", coordinatingUnits: ["VP"], opinion: "x")),
                                                      in: .registered, by: [.leader], arrival: arrival) }
            == "assignment_lead_unit_repeated")
        let early = CivilDate(year: 2026, month: 12, day: 3)!
        #expect(code { _ = try IncomingWorkflow.apply(.assign(.init(leadUnit: "VP", deadlines: ["VP": early], opinion: "x")),
                                                      in: .registered, by: [.leader], arrival: arrival) }
            == "deadline_before_arrival")
    }
}
