import Fluent
import Foundation
import GovCore
import Testing
import VaporTesting

@testable import App

@Suite("Calendar: the week, rooms, participants, feeds")
struct CalendarTests {
    /// Next week's Monday: inside the feeds' window, and clear of anything the demo data puts in this week.
    static let monday = CalendarTime.monday(of: .today().adding(days: 7))
    /// The Tuesday the entries are on.
    static let day = monday.adding(days: 1).iso

    static func userID(_ username: String, _ app: Application) async throws -> UUID {
        guard let user = try await User.query(on: app.db).filter(\.$username == username).first() else {
            throw TestFailure("no user \(username)")
        }
        return try user.requireID()
    }

    static func entryForm(_ title: String, start: String = "09:00", end: String = "10:00", room: UUID? = nil,
                          host: UUID? = nil, participants: [UUID] = [], kind: String = "meeting") -> [(String, String)] {
        var fields = [("kind", kind), ("title", title), ("start", "\(day)T\(start)"), ("end", "\(day)T\(end)"),
                      ("location", ""), ("details", "Chuẩn bị báo cáo; tài liệu, số liệu")]
        fields.append(("room", room?.uuidString ?? ""))
        fields.append(("host", host?.uuidString ?? ""))
        for participant in participants { fields.append(("participants[]", participant.uuidString)) }
        return fields
    }

    /// Creates an entry through the page; its id from the redirect.
    static func create(_ browser: TestBrowser, _ fields: [(String, String)]) async throws -> UUID {
        let response = try await browser.post("/calendar", fields)
        guard response.status == .seeOther, let location = response.headers.first(name: .location),
              let id = UUID(uuidString: String(location.dropFirst("/calendar/".count))) else {
            throw TestFailure("create: \(response.status) \(response.text.prefix(400))")
        }
        return id
    }

    static func room(_ browser: TestBrowser, _ name: String, _ app: Application) async throws -> UUID {
        let response = try await browser.post("/calendar/rooms", [("name", name), ("capacity", "30")])
        #expect(response.status == .seeOther)
        guard let room = try await CalendarRoom.query(on: app.db).filter(\.$name == name).first() else {
            throw TestFailure("no room \(name)")
        }
        return try room.requireID()
    }

    /// The feed path shown once after a rotation.
    static func rotate(_ browser: TestBrowser, scope: String) async throws -> String {
        let page = try await browser.post("/calendar/feeds/rotate", [("scope", scope)])
        #expect(page.status == .ok)
        guard let range = page.text.range(of: "id=\"issued-feed-url\">") else { throw TestFailure("no feed URL shown") }
        let rest = page.text[range.upperBound...]
        guard let end = rest.firstIndex(of: "<"), let path = rest[..<end].range(of: "/calendar/feed/") else {
            throw TestFailure("malformed feed URL")
        }
        return String(rest[path.lowerBound..<end])
    }

    /// RFC 5545 unfolding, so assertions see whole content lines.
    static func unfold(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n ", with: "")
    }

    @Test func aClerkCreatesAnEntryThatTheWeekAndTheDetailShow() async throws {
        try await withTestApp { app in
            let clerk = TestBrowser(app)
            try await clerk.login("g22.vanthu")
            let leader = try await Self.userID("g22.lanhdao", app)
            let specialist = try await Self.userID("g22.chuyenvien", app)
            let id = try await Self.create(clerk, Self.entryForm("Họp giao ban tuần", host: leader, participants: [specialist]))

            let detail = try await clerk.get("/calendar/\(id)")
            #expect(detail.status == .ok)
            #expect(detail.text.contains("Họp giao ban tuần"))
            #expect(detail.text.contains("Phạm Thị Chuyên Viên"))
            #expect(detail.text.contains("Lê Văn Lãnh Đạo"))

            let week = try await clerk.get("/calendar?week=\(Self.monday.adding(days: 3).iso)")
            #expect(week.status == .ok)
            #expect(week.text.contains("Họp giao ban tuần"))
            #expect(week.text.contains("Thứ Hai") && week.text.contains("Chủ nhật"))
            #expect(week.text.contains(CalendarController.display(Self.monday)))
            #expect(week.text.contains(CalendarController.display(Self.monday.adding(days: 6))))
            #expect(week.text.contains("week=\(Self.monday.adding(days: -7).iso)"))
            #expect(week.text.contains("week=\(Self.monday.adding(days: 7).iso)"))
            // The leader's own filter shows it; the agency-wide one does not.
            #expect(try await clerk.get("/calendar?week=\(Self.day)&host=\(leader)").text.contains("Họp giao ban tuần"))
            #expect(!(try await clerk.get("/calendar?week=\(Self.day)&host=agency").text.contains("Họp giao ban tuần")))
            #expect(try await clerk.get("/calendar?week=not-a-date").status == .badRequest)
            #expect(try await clerk.get("/calendar?host=nobody").status == .badRequest)

            let audited = try await AuditRecord.query(on: app.db).filter(\.$action == "calendar.create")
                .filter(\.$entityID == id.uuidString).first()
            #expect(audited?.actor == "user:g22.vanthu")
            #expect(audited?.agencyCode == "000.00.00.G22")

            // Every staff member of the agency reads it; only keepers of the calendar write.
            let specialistBrowser = TestBrowser(app)
            try await specialistBrowser.login("g22.chuyenvien")
            #expect(try await specialistBrowser.get("/calendar/\(id)").status == .ok)
            #expect(try await specialistBrowser.get("/calendar/new").status == .forbidden)
            #expect(try await specialistBrowser.post("/calendar", Self.entryForm("Lén thêm")).status == .forbidden)
            #expect(try await specialistBrowser.post("/calendar/\(id)/cancel", []).status == .forbidden)
        }
    }

    @Test func aRoomIsNotBookedTwiceForOverlappingTimes() async throws {
        try await withTestApp { app in
            let clerk = TestBrowser(app)
            try await clerk.login("g22.vanthu")
            let room = try await Self.room(clerk, "Phòng họp số 1", app)
            let first = try await Self.create(clerk, Self.entryForm("Họp A", start: "09:00", end: "10:00", room: room))

            let clash = try await clerk.post("/calendar", Self.entryForm("Họp B", start: "09:30", end: "10:30", room: room))
            #expect(clash.status == .conflict)
            #expect(clash.text.contains("data-code=\"calendar_room_busy\""))
            #expect(clash.text.contains("Họp B"), "the form comes back with what was typed")
            #expect(try await CalendarEntryRecord.query(on: app.db).filter(\.$title == "Họp B").count() == 0)

            // Back to back is not a clash, and neither is another room.
            _ = try await Self.create(clerk, Self.entryForm("Họp C", start: "10:00", end: "11:00", room: room))
            let other = try await Self.room(clerk, "Phòng họp số 2", app)
            _ = try await Self.create(clerk, Self.entryForm("Họp D", start: "09:30", end: "10:30", room: other))

            // The service says the same to any caller; a cancelled booking frees the room.
            let agency = try #require(try await AgencyDirectory(db: app.db).find(id: try await agencyID("000.00.00.G22", app)))
            let draft = CalendarService.Draft(
                kind: .meeting, title: "Họp E", start: try CalendarTime.parse("\(Self.day)T09:15"),
                end: try CalendarTime.parse("\(Self.day)T09:45"), roomID: room, location: nil, details: "",
                hostUserID: nil, participantIDs: [])
            await #expect(throws: GovError("calendar_room_busy", .conflict, vi: "", en: "")) {
                _ = try await app.calendar.create(draft, agency: agency, actor: .commandLine)
            }
            #expect(try await clerk.post("/calendar/\(first)/cancel", []).status == .seeOther)
            _ = try await app.calendar.create(draft, agency: agency, actor: .commandLine)
        }
    }

    @Test func badEntriesComeBackAsTheFormWithTheirCode() async throws {
        try await withTestApp { app in
            let clerk = TestBrowser(app)
            try await clerk.login("g22.vanthu")
            let h41Clerk = try await Self.userID("h41.vanthu", app)
            let h41Room = try await app.calendar.createRoom(
                agency: try #require(try await AgencyDirectory(db: app.db).find(code: "000.00.00.H41")), name: "Phòng Nghệ An",
                capacity: nil, actor: .commandLine).requireID()
            let cases: [([(String, String)], HTTPStatus, String)] = [
                (Self.entryForm("Ngược giờ", start: "10:00", end: "09:00"), .badRequest, "calendar_end_before_start"),
                (Self.entryForm("Bằng giờ", start: "10:00", end: "10:00"), .badRequest, "calendar_end_before_start"),
                (Self.entryForm("   "), .badRequest, "calendar_title_required"),
                (Self.entryForm("Khách tỉnh khác", participants: [h41Clerk]), .badRequest, "calendar_participant_other_agency"),
                (Self.entryForm("Chủ trì tỉnh khác", host: h41Clerk), .badRequest, "calendar_host_other_agency"),
                (Self.entryForm("Phòng tỉnh khác", room: h41Room), .badRequest, "calendar_room_unknown"),
                (Self.entryForm("Loại lạ", kind: "party"), .badRequest, "calendar_kind_invalid"),
                ([("kind", "work"), ("title", "Giờ hỏng"), ("start", "3/3/2026 9h"), ("end", "\(Self.day)T10:00")],
                 .badRequest, "calendar_time_invalid"),
                (Self.entryForm("Người lạ") + [("participants[]", "not-a-uuid")], .badRequest, "calendar_participant_other_agency"),
            ]
            let entriesBefore = try await CalendarEntryRecord.query(on: app.db).count()
            for (fields, status, code) in cases {
                let response = try await clerk.post("/calendar", fields)
                #expect(response.status == status, "\(code)")
                #expect(response.text.contains("data-code=\"\(code)\""), "\(code)")
            }
            #expect(try await CalendarEntryRecord.query(on: app.db).count() == entriesBefore)
            let room = try await clerk.post("/calendar/rooms", [("name", ""), ("capacity", "x")])
            #expect(room.status == .badRequest)
            _ = try await Self.room(clerk, "Phòng trùng", app)
            let duplicate = try await clerk.post("/calendar/rooms", [("name", "Phòng trùng")])
            #expect(duplicate.status == .conflict)
            #expect(duplicate.text.contains("data-code=\"calendar_room_exists\""))
        }
    }

    @Test func anotherAgencysPeopleAreRefused() async throws {
        try await withTestApp { app in
            let clerk = TestBrowser(app)
            try await clerk.login("g22.vanthu")
            let id = try await Self.create(clerk, Self.entryForm("Việc nội bộ G22"))

            let stranger = TestBrowser(app)
            try await stranger.login("h41.vanthu")
            let page = try await stranger.get("/calendar/\(id)")
            #expect(page.status == .forbidden)
            #expect(!page.text.contains("Việc nội bộ G22"))
            #expect(try await stranger.get("/calendar/\(id)/edit").status == .forbidden)
            #expect(try await stranger.post("/calendar/\(id)/cancel", []).status == .forbidden)
            #expect(try await stranger.post("/calendar/\(id)", Self.entryForm("Chiếm quyền")).status == .forbidden)
            // Their own week never shows it.
            let week = try await stranger.get("/calendar?week=\(Self.day)")
            #expect(week.status == .ok)
            #expect(!week.text.contains("Việc nội bộ G22"))
            let entry = try #require(try await CalendarEntryRecord.find(id, on: app.db))
            #expect(!entry.cancelled && entry.title == "Việc nội bộ G22")
            #expect(try await stranger.get("/calendar/\(UUID())").status == .notFound)

            // A system admin is no member of the calendar by that role; the public has none.
            let citizen = TestBrowser(app)
            try await citizen.login("congdan")
            #expect(try await citizen.get("/calendar").status == .forbidden)
            #expect(!(try await citizen.get("/").text.contains("nav-calendar")))
            #expect(try await clerk.get("/").text.contains("nav-calendar"))
        }
    }

    @Test func feedsServeICalendarByTokenAndRotationRetiresTheOldLink() async throws {
        try await withTestApp { app in
            let clerk = TestBrowser(app)
            try await clerk.login("g22.vanthu")
            let leaderID = try await Self.userID("g22.lanhdao", app)
            let entry = try await Self.create(clerk, Self.entryForm("Tiếp đoàn công tác tỉnh Nghệ An", host: leaderID))
            let other = try await Self.create(clerk, Self.entryForm("Họp riêng của vụ", start: "14:00", end: "15:00",
                                                                    host: try await Self.userID("g22.quantri", app)))
            let shared = try await Self.create(clerk, Self.entryForm("Chào cờ đầu tuần", start: "07:30", end: "08:00"))

            let agencyPath = try await Self.rotate(clerk, scope: "agency")
            let calendarApp = TestBrowser(app)  // no session, like a calendar app
            let feed = try await calendarApp.get(agencyPath)
            #expect(feed.status == .ok)
            #expect(feed.headers.contentType?.description.hasPrefix("text/calendar") == true)
            #expect(feed.headers.contentType?.parameters["charset"]?.lowercased() == "utf-8")
            let text = Self.unfold(feed.text)
            #expect(feed.text.hasPrefix("BEGIN:VCALENDAR\r\n") && feed.text.hasSuffix("END:VCALENDAR\r\n"))
            #expect(text.contains("BEGIN:VEVENT"))
            #expect(text.contains("SUMMARY:Tiếp đoàn công tác tỉnh Nghệ An"))
            #expect(text.contains("UID:\(entry.uuidString.lowercased())@govoffice"))
            #expect(text.contains("DTSTART:\(Self.day.replacingOccurrences(of: "-", with: ""))T020000Z"),
                    "09:00 in Vietnam is 02:00 UTC")
            #expect(text.contains("Chuẩn bị báo cáo\\; tài liệu\\, số liệu"))
            #expect(text.contains("STATUS:CONFIRMED"))
            #expect(text.contains(other.uuidString.lowercased()) && text.contains(shared.uuidString.lowercased()))

            // The leader's own feed: what they host and the agency's own entries, not another person's.
            let leader = TestBrowser(app)
            try await leader.login("g22.lanhdao")
            let personal = Self.unfold(try await calendarApp.get(try await Self.rotate(leader, scope: "person")).text)
            #expect(personal.contains(entry.uuidString.lowercased()))
            #expect(personal.contains(shared.uuidString.lowercased()))
            #expect(!personal.contains(other.uuidString.lowercased()))

            // A specialist has a feed of their own but not the agency's.
            let specialist = TestBrowser(app)
            try await specialist.login("g22.chuyenvien")
            #expect(try await specialist.post("/calendar/feeds/rotate", [("scope", "agency")]).status == .forbidden)
            #expect(try await specialist.post("/calendar/feeds/rotate", [("scope", "person")]).status == .ok)

            // Rotation: the old link is gone (404, the project's error body), the new one works.
            let rotated = try await Self.rotate(clerk, scope: "agency")
            #expect(rotated != agencyPath)
            calendarApp.acceptJSON = true
            let old = try await calendarApp.get(agencyPath)
            #expect(old.status == .notFound)
            #expect(old.errorCode == "calendar_feed_not_found")
            #expect(try await calendarApp.get(rotated).status == .ok)
            #expect(try await calendarApp.get("/calendar/feed/gos_guessed.ics").status == .notFound)
            #expect(try await AuditRecord.query(on: app.db).filter(\.$action == "calendar.feed_rotate").count() == 4)
        }
    }

    @Test func aCancelledEntryStaysInTheFeedAsCancelled() async throws {
        try await withTestApp { app in
            let clerk = TestBrowser(app)
            try await clerk.login("g22.vanthu")
            let id = try await Self.create(clerk, Self.entryForm("Họp bị hoãn"))
            #expect(try await clerk.post("/calendar/\(id)/cancel", []).status == .seeOther)
            #expect(try await clerk.get("/calendar/\(id)").text.contains("entry-cancelled"))
            // Cancelling twice changes nothing and audits once.
            #expect(try await clerk.post("/calendar/\(id)/cancel", []).status == .seeOther)
            #expect(try await AuditRecord.query(on: app.db).filter(\.$action == "calendar.cancel").count() == 1)
            #expect(try await clerk.get("/calendar/\(id)/edit").status == .conflict)

            let feed = Self.unfold(try await TestBrowser(app).get(try await Self.rotate(clerk, scope: "agency")).text)
            let event = try #require(feed.components(separatedBy: "BEGIN:VEVENT").first { $0.contains(id.uuidString.lowercased()) })
            #expect(event.contains("STATUS:CANCELLED"))
            #expect(event.contains("SUMMARY:Họp bị hoãn"))
        }
    }

    @Test func anEntryIsEditedThroughItsForm() async throws {
        try await withTestApp { app in
            let clerk = TestBrowser(app)
            try await clerk.login("g22.vanthu")
            let room = try await Self.room(clerk, "Phòng khánh tiết", app)
            let id = try await Self.create(clerk, Self.entryForm("Họp cũ", room: room))
            let form = try await clerk.get("/calendar/\(id)/edit")
            #expect(form.status == .ok)
            #expect(form.text.contains("value=\"\(Self.day)T09:00\""))
            // Moving an entry within its own booking is no clash with itself.
            let moved = try await clerk.post("/calendar/\(id)", Self.entryForm("Họp mới", start: "09:30", end: "11:00", room: room))
            #expect(moved.status == .seeOther)
            let entry = try #require(try await CalendarEntryRecord.find(id, on: app.db))
            #expect(entry.title == "Họp mới")
            #expect(CalendarTime.inputValue(entry.endAt) == "\(Self.day)T11:00")
            let bad = try await clerk.post("/calendar/\(id)", Self.entryForm("Họp mới", start: "12:00", end: "11:00"))
            #expect(bad.status == .badRequest)
        }
    }

    @Test func formsWithoutTheCSRFTokenAreRefused() async throws {
        try await withTestApp { app in
            let clerk = TestBrowser(app)
            try await clerk.login("g22.vanthu")
            let entries = try await CalendarEntryRecord.query(on: app.db).count()
            let rooms = try await CalendarRoom.query(on: app.db).count()
            let refused = try await clerk.post("/calendar", Self.entryForm("Giả mạo"), csrf: .none)
            #expect(refused.status == .forbidden)
            #expect(refused.text.contains("csrf_invalid"))
            #expect(try await clerk.post("/calendar/rooms", [("name", "Giả mạo")], csrf: .value("gos_wrong")).status == .forbidden)
            #expect(try await clerk.post("/calendar/feeds/rotate", [("scope", "person")], csrf: .none).status == .forbidden)
            #expect(try await CalendarEntryRecord.query(on: app.db).count() == entries)
            #expect(try await CalendarRoom.query(on: app.db).count() == rooms)
            #expect(try await CalendarFeedToken.query(on: app.db).count() == 0)
        }
    }

    @Test func theDemoDataHasThisWeeksCalendar() async throws {
        try await withTestApp { app in
            let clerk = TestBrowser(app)
            try await clerk.login("g22.vanthu")
            let week = try await clerk.get("/calendar")
            #expect(week.text.contains("Chào cờ và giao ban đầu tuần"))
            #expect(week.text.contains("Họp chuẩn bị phiên họp Chính phủ thường kỳ"))
            #expect(try await clerk.get("/calendar/rooms").text.contains("Phòng họp A (tầng 3)"))
            // One audited seed, and a second seed writes nothing.
            #expect(try await AuditRecord.query(on: app.db).filter(\.$action == "demo.seed").count() == 1)
            #expect(try await DemoSeeder.seedIfEmpty(app) == false)
            #expect(try await CalendarEntryRecord.query(on: app.db).count() == 3)
        }
    }

    @Test func weeksStartOnMondayInVietnam() throws {
        let sunday = try CivilDate(parsing: "2026-03-08")
        #expect(CalendarTime.monday(of: sunday).iso == "2026-03-02")
        #expect(CalendarTime.monday(of: try CivilDate(parsing: "2026-03-02")).iso == "2026-03-02")
        #expect(CalendarTime.monday(of: try CivilDate(parsing: "2026-01-01")).iso == "2025-12-29")
        #expect(try CivilDate(parsing: "2024-02-26").adding(days: 7).iso == "2024-03-04")
        #expect(throws: GovError.self) { try CalendarTime.parse("2026-03-03T25:00") }
        #expect(CalendarTime.inputValue(try CalendarTime.parse("2026-03-03 07:05")) == "2026-03-03T07:05")
    }
}
