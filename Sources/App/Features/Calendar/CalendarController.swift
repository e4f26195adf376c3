import Fluent
import Foundation
import GovCore
import Vapor

/// The calendar pages of the signed-in person's agency: the week, an entry, the entry form, rooms
/// and the feed links. Staff of the agency read; its clerks, leaders and admin write.
struct CalendarController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let calendar = routes.grouped(RequireSignInMiddleware()).grouped("calendar")
        calendar.get(use: week)
        calendar.get("new", use: newForm)
        calendar.post(use: create)
        calendar.get("rooms", use: rooms)
        calendar.post("rooms", use: createRoom)
        calendar.get("feeds", use: feeds)
        calendar.post("feeds", "rotate", use: rotateFeed)
        calendar.get(":id", use: show)
        calendar.get(":id", "edit", use: editForm)
        calendar.post(":id", use: update)
        calendar.post(":id", "cancel", use: cancel)
    }

    // MARK: Access

    /// The principal's own agency, whose calendar they may read.
    private func readable(_ req: Request) async throws -> (Principal, Agency) {
        let principal = try req.requirePrincipal()
        guard let agencyID = principal.agencyID, AccessPolicy.canViewCalendar(ofAgency: agencyID, principal),
              let agency = try await req.agencies.find(id: agencyID) else { throw CalendarService.forbidden }
        return (principal, agency)
    }

    /// The principal's own agency, whose calendar they may change.
    private func writable(_ req: Request) async throws -> (Principal, Agency) {
        let (principal, agency) = try await readable(req)
        guard AccessPolicy.canManageCalendar(ofAgency: try agency.requireID(), principal) else {
            throw CalendarService.forbiddenWrite
        }
        return (principal, agency)
    }

    /// The entry of the path: 404 when there is none, 403 when it belongs to an agency not the principal's.
    private func entry(_ req: Request, write: Bool) async throws -> (CalendarEntryRecord, Agency) {
        let principal = try req.requirePrincipal()
        guard let id = req.parameters.get("id", as: UUID.self), let entry = try await req.calendar.find(id: id) else {
            throw CalendarService.entryNotFound
        }
        guard AccessPolicy.canViewCalendar(ofAgency: entry.agencyID, principal) else { throw CalendarService.forbidden }
        guard !write || AccessPolicy.canManageCalendar(ofAgency: entry.agencyID, principal) else {
            throw CalendarService.forbiddenWrite
        }
        guard let agency = try await req.agencies.find(id: entry.agencyID) else { throw CalendarService.entryNotFound }
        return (entry, agency)
    }

    // MARK: Week

    struct Option: Encodable {
        var value: String
        var label: String
        var selected: Bool
    }

    struct Cell: Encodable {
        var id: String
        var time: String
        var title: String
        var kind: String
        var kindLabel: String
        var place: String?
        var host: String?
        var cancelled: Bool
    }

    struct DayRow: Encodable {
        var name: String
        var date: String
        var isToday: Bool
        var morning: [Cell]
        var afternoon: [Cell]
    }

    struct WeekBody: Encodable {
        var agencyName: String
        var from: String
        var to: String
        var week: String
        var host: String
        var prevURL: String
        var nextURL: String
        var thisWeekURL: String
        var hosts: [Option]
        var days: [DayRow]
        var count: Int
        var canWrite: Bool
    }

    static let dayKeys = ["calendar.day.mon", "calendar.day.tue", "calendar.day.wed", "calendar.day.thu",
                          "calendar.day.fri", "calendar.day.sat", "calendar.day.sun"]

    static let hostInvalid = GovError("calendar_host_invalid", .invalid,
                                      vi: "Bộ lọc lịch không hợp lệ.", en: "Invalid calendar filter.")

    @Sendable func week(req: Request) async throws -> Response {
        let (principal, agency) = try await readable(req)
        let agencyID = try agency.requireID()
        let asked = try req.queryText("week", maxLength: 40).map { try CivilDate(parsing: $0) }
        let monday = CalendarTime.monday(of: asked ?? CivilDate.today())
        let hostText = try req.queryText("host", maxLength: 64)
        let filter: CalendarService.HostFilter
        switch hostText {
        case nil: filter = .all
        case "agency": filter = .agencyWide
        case let text?:
            guard let id = UUID(uuidString: text) else { throw Self.hostInvalid }
            filter = .user(id)
        }
        let entries = try await req.calendar.week(agency: agency, weekStarting: monday, host: filter)
        let members = try await req.accounts.members(ofAgency: agencyID)
        let names = Dictionary(members.map { ($0.id, $0.fullName) }, uniquingKeysWith: { a, _ in a })
        let rooms = try await Self.roomNames(req, agencyID)

        let today = CivilDate.today()
        var days: [DayRow] = []
        for offset in 0..<7 {
            let date = monday.adding(days: offset)
            let dayStart = date.start()
            let noon = dayStart.addingTimeInterval(12 * 3600)
            let dayEnd = date.adding(days: 1).start()
            func cells(_ from: Date, _ to: Date) -> [Cell] {
                entries.filter { $0.startAt < to && $0.endAt > from }.map { Self.cell($0, req, day: date, names, rooms) }
            }
            days.append(DayRow(name: req.t(Self.dayKeys[offset]), date: CalendarTime.dayMonth(date), isToday: date == today,
                               morning: cells(dayStart, noon), afternoon: cells(noon, dayEnd)))
        }

        var hosts = [Option(value: "", label: req.t("calendar.filter.all"), selected: filter == .all),
                     Option(value: "agency", label: req.t("calendar.filter.agency"), selected: filter == .agencyWide)]
        for member in members where member.roles.contains(.leader) || filter == .user(member.id) {
            hosts.append(Option(value: member.id.uuidString, label: member.fullName, selected: filter == .user(member.id)))
        }
        func link(_ date: CivilDate) -> String {
            var components = URLComponents()
            components.path = "/calendar"
            components.queryItems = [URLQueryItem(name: "week", value: date.iso)]
                + (hostText.map { [URLQueryItem(name: "host", value: $0)] } ?? [])
            return components.string ?? "/calendar"
        }
        let sunday = monday.adding(days: 6)
        let body = WeekBody(
            agencyName: agency.name, from: Self.display(monday), to: Self.display(sunday), week: monday.iso,
            host: hostText ?? "", prevURL: link(monday.adding(days: -7)),
            nextURL: link(monday.adding(days: 7)), thisWeekURL: link(CalendarTime.monday(of: today)),
            hosts: hosts, days: days, count: entries.count,
            canWrite: AccessPolicy.canManageCalendar(ofAgency: agencyID, principal))
        return try await req.renderPage("calendar/week", title: "calendar.title", body)
    }

    static func display(_ date: CivilDate) -> String {
        String(format: "%02d/%02d/%04d", date.day, date.month, date.year)
    }

    static func names(_ users: [User]) -> [UUID: String] {
        Dictionary(users.compactMap { user in user.id.map { ($0, user.fullName) } }, uniquingKeysWith: { a, _ in a })
    }

    static func roomNames(_ req: Request, _ agencyID: UUID) async throws -> [UUID: String] {
        Dictionary(try await req.calendar.rooms(agencyID: agencyID).compactMap { room in room.id.map { ($0, room.name) } },
                   uniquingKeysWith: { a, _ in a })
    }

    static func cell(_ entry: CalendarEntryRecord, _ req: Request, day: CivilDate, _ names: [UUID: String],
                     _ rooms: [UUID: String]) -> Cell {
        let sameDay = CivilDate(entry.startAt) == day && CivilDate(entry.endAt.addingTimeInterval(-1)) == day
        let time = sameDay
            ? "\(CalendarTime.clock(entry.startAt))–\(CalendarTime.clock(entry.endAt))"
            : "\(CalendarTime.dayMonth(CivilDate(entry.startAt))) \(CalendarTime.clock(entry.startAt)) – "
                + "\(CalendarTime.dayMonth(CivilDate(entry.endAt))) \(CalendarTime.clock(entry.endAt))"
        return Cell(id: entry.id?.uuidString ?? "", time: time, title: entry.title, kind: entry.calendarKind.rawValue,
                    kindLabel: req.t(entry.calendarKind.labelKey), place: place(entry, rooms),
                    host: entry.hostUserID.flatMap { names[$0] }, cancelled: entry.cancelled)
    }

    static func place(_ entry: CalendarEntryRecord, _ rooms: [UUID: String]) -> String? {
        [entry.roomID.flatMap { rooms[$0] }, entry.location].compactMap { $0 }.joined(separator: " — ").nilIfEmpty
    }

    // MARK: One entry

    struct ShowBody: Encodable {
        var id: String
        var title: String
        var kindLabel: String
        var start: String
        var end: String
        var place: String?
        var details: String
        var host: String?
        var participants: [String]
        var cancelled: Bool
        var createdBy: String
        var week: String
        var canWrite: Bool
    }

    @Sendable func show(req: Request) async throws -> Response {
        let principal = try req.requirePrincipal()
        let (entry, agency) = try await self.entry(req, write: false)
        let agencyID = try agency.requireID()
        let entryID = try entry.requireID()
        var ids = Set(try await req.calendar.participantIDs(of: entryID))
        let participantIDs = ids
        if let host = entry.hostUserID { ids.insert(host) }
        let names = Self.names(try await AccountService.users(ids: ids, on: req.db))
        let rooms = try await Self.roomNames(req, agencyID)
        let body = ShowBody(
            id: entryID.uuidString, title: entry.title, kindLabel: req.t(entry.calendarKind.labelKey),
            start: DisplayTime.format(entry.startAt), end: DisplayTime.format(entry.endAt),
            place: Self.place(entry, rooms), details: entry.details, host: entry.hostUserID.flatMap { names[$0] },
            participants: participantIDs.compactMap { names[$0] }.sorted(), cancelled: entry.cancelled,
            createdBy: entry.createdBy, week: CalendarTime.monday(of: CivilDate(entry.startAt)).iso,
            canWrite: AccessPolicy.canManageCalendar(ofAgency: agencyID, principal))
        return try await req.renderPage("calendar/show", title: "calendar.entry.title", body)
    }

    @Sendable func cancel(req: Request) async throws -> Response {
        let (entry, agency) = try await self.entry(req, write: true)
        try await req.calendar.cancel(entry, agency: agency, actor: req.auditActor)
        req.flash("success", "calendar.flash.cancelled")
        return req.redirect(to: "/calendar/\(try entry.requireID().uuidString)")
    }

    // MARK: The entry form

    struct Check: Encodable {
        var value: String
        var label: String
        var checked: Bool
    }

    struct FormBody: Encodable {
        var action: String
        var isNew: Bool
        var title: String
        var start: String
        var end: String
        var location: String
        var details: String
        var kinds: [Option]
        var rooms: [Option]
        var hosts: [Option]
        var people: [Check]
        var error: String?
        var errorCode: String?
    }

    struct EntryForm: Content {
        var kind: String?
        var title: String?
        var start: String?
        var end: String?
        var room: String?
        var location: String?
        var details: String?
        var host: String?
        var participants: [String]?
    }

    private func renderForm(_ req: Request, agency: Agency, action: String, isNew: Bool, form: EntryForm,
                            error: GovError? = nil) async throws -> Response {
        let agencyID = try agency.requireID()
        let members = try await req.accounts.members(ofAgency: agencyID)
        let rooms = try await req.calendar.rooms(agencyID: agencyID)
        let chosen = Set(form.participants ?? [])
        let kind = form.kind ?? CalendarKind.work.rawValue
        let body = FormBody(
            action: action, isNew: isNew, title: form.title ?? "", start: form.start ?? "", end: form.end ?? "",
            location: form.location ?? "", details: form.details ?? "",
            kinds: CalendarKind.allCases.map { Option(value: $0.rawValue, label: req.t($0.labelKey), selected: $0.rawValue == kind) },
            rooms: [Option(value: "", label: req.t("calendar.form.no_room"), selected: (form.room ?? "").isEmpty)]
                + rooms.compactMap { room in
                    room.id.map { Option(value: $0.uuidString, label: Self.roomLabel(room, req), selected: $0.uuidString == form.room) }
                },
            hosts: [Option(value: "", label: req.t("calendar.filter.agency"), selected: (form.host ?? "").isEmpty)]
                + members.map { Option(value: $0.id.uuidString, label: $0.fullName, selected: $0.id.uuidString == form.host) },
            people: members.map { Check(value: $0.id.uuidString, label: $0.fullName, checked: chosen.contains($0.id.uuidString)) },
            error: error?.message(in: req.language), errorCode: error?.code)
        let status = error.map { AppErrorMiddleware.status(of: $0.kind) } ?? .ok
        return try await req.renderPage("calendar/form", title: isNew ? "calendar.new.title" : "calendar.edit.title",
                                        body, status: status)
    }

    static func roomLabel(_ room: CalendarRoom, _ req: Request) -> String {
        room.capacity.map { room.name + " (" + req.t("calendar.rooms.seats", ["n": String($0)]) + ")" } ?? room.name
    }

    static let kindInvalid = GovError("calendar_kind_invalid", .invalid,
                                      vi: "Loại lịch không hợp lệ.", en: "Invalid kind of entry.")

    /// The form as a draft; anything malformed is a GovError of kind `.invalid`.
    private func draft(_ form: EntryForm) throws -> CalendarService.Draft {
        guard let kind = CalendarKind(rawValue: form.kind ?? CalendarKind.work.rawValue) else { throw Self.kindInvalid }
        guard let startText = form.start, let endText = form.end else { throw CalendarTime.timeInvalid }
        let start = try CalendarTime.parse(startText)
        let end = try CalendarTime.parse(endText)
        func id(_ text: String?, _ error: GovError) throws -> UUID? {
            guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            guard let id = UUID(uuidString: text) else { throw error }
            return id
        }
        var participants = Set<UUID>()
        for text in form.participants ?? [] {
            if let id = try id(text, CalendarService.participantOtherAgency) { participants.insert(id) }
        }
        return CalendarService.Draft(
            kind: kind, title: form.title ?? "", start: start, end: end,
            roomID: try id(form.room, CalendarService.roomUnknown), location: form.location, details: form.details ?? "",
            hostUserID: try id(form.host, CalendarService.hostOtherAgency), participantIDs: participants)
    }

    @Sendable func newForm(req: Request) async throws -> Response {
        let (_, agency) = try await writable(req)
        // A new entry starts on the day asked for (the week page links each day), or today, at 08:00.
        let day = try req.queryText("date", maxLength: 40).map { try CivilDate(parsing: $0) }
            ?? CivilDate.today()
        let form = EntryForm(kind: CalendarKind.work.rawValue, start: "\(day.iso)T08:00", end: "\(day.iso)T09:00")
        return try await renderForm(req, agency: agency, action: "/calendar", isNew: true, form: form)
    }

    // The form handlers decode before they authorise, like the other admin pages: a body of the
    // wrong type is a 415 for everyone, whatever their rights.
    @Sendable func create(req: Request) async throws -> Response {
        let form = try req.content.decode(EntryForm.self)
        let (_, agency) = try await writable(req)
        do {
            let entry = try await req.calendar.create(try draft(form), agency: agency, actor: req.auditActor)
            req.flash("success", "calendar.flash.created")
            return req.redirect(to: "/calendar/\(try entry.requireID().uuidString)")
        } catch let error as GovError where error.kind == .invalid || error.kind == .conflict {
            return try await renderForm(req, agency: agency, action: "/calendar", isNew: true, form: form, error: error)
        }
    }

    @Sendable func editForm(req: Request) async throws -> Response {
        let (entry, agency) = try await self.entry(req, write: true)
        let entryID = try entry.requireID()
        guard !entry.cancelled else { throw CalendarService.entryCancelled }
        let form = EntryForm(
            kind: entry.kind, title: entry.title, start: CalendarTime.inputValue(entry.startAt),
            end: CalendarTime.inputValue(entry.endAt), room: entry.roomID?.uuidString, location: entry.location,
            details: entry.details, host: entry.hostUserID?.uuidString,
            participants: try await req.calendar.participantIDs(of: entryID).map(\.uuidString))
        return try await renderForm(req, agency: agency, action: "/calendar/\(entryID.uuidString)", isNew: false, form: form)
    }

    @Sendable func update(req: Request) async throws -> Response {
        let form = try req.content.decode(EntryForm.self)
        let (entry, agency) = try await self.entry(req, write: true)
        let entryID = try entry.requireID()
        do {
            try await req.calendar.update(entry, try draft(form), agency: agency, actor: req.auditActor)
            req.flash("success", "calendar.flash.updated")
            return req.redirect(to: "/calendar/\(entryID.uuidString)")
        } catch let error as GovError where error.kind == .invalid || error.kind == .conflict {
            return try await renderForm(req, agency: agency, action: "/calendar/\(entryID.uuidString)", isNew: false,
                                        form: form, error: error)
        }
    }

    // MARK: Rooms

    struct RoomRow: Encodable {
        var name: String
        var capacity: Int?
    }

    struct RoomsBody: Encodable {
        var agencyName: String
        var rows: [RoomRow]
        var canWrite: Bool
        var name: String
        var capacity: String
        var error: String?
        var errorCode: String?
    }

    struct RoomForm: Content {
        var name: String?
        var capacity: String?
    }

    private func renderRooms(_ req: Request, _ principal: Principal, _ agency: Agency, form: RoomForm = .init(),
                             error: GovError? = nil) async throws -> Response {
        let agencyID = try agency.requireID()
        let rooms = try await req.calendar.rooms(agencyID: agencyID)
        let body = RoomsBody(agencyName: agency.name, rows: rooms.map { RoomRow(name: $0.name, capacity: $0.capacity) },
                             canWrite: AccessPolicy.canManageCalendar(ofAgency: agencyID, principal),
                             name: form.name ?? "", capacity: form.capacity ?? "",
                             error: error?.message(in: req.language), errorCode: error?.code)
        return try await req.renderPage("calendar/rooms", title: "calendar.rooms.title", body,
                                        status: error.map { AppErrorMiddleware.status(of: $0.kind) } ?? .ok)
    }

    @Sendable func rooms(req: Request) async throws -> Response {
        let (principal, agency) = try await readable(req)
        return try await renderRooms(req, principal, agency)
    }

    @Sendable func createRoom(req: Request) async throws -> Response {
        let form = try req.content.decode(RoomForm.self)
        let (principal, agency) = try await writable(req)
        do {
            var capacity: Int?
            if let text = form.capacity?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
                guard let value = Int(text) else { throw CalendarService.roomCapacityInvalid }
                capacity = value
            }
            _ = try await req.calendar.createRoom(agency: agency, name: form.name ?? "", capacity: capacity,
                                                  actor: req.auditActor)
            req.flash("success", "calendar.flash.room_created")
            return req.redirect(to: "/calendar/rooms")
        } catch let error as GovError where error.kind == .invalid || error.kind == .conflict {
            return try await renderRooms(req, principal, agency, form: form, error: error)
        }
    }

    // MARK: Feeds

    struct FeedsBody: Encodable {
        var agencyName: String
        var personSince: String?
        var agencySince: String?
        var canManageAgencyFeed: Bool
        var issuedURL: String?
        var issuedScope: String?
    }

    struct RotateForm: Content {
        var scope: String?
    }

    static let scopeInvalid = GovError("calendar_feed_scope_invalid", .invalid,
                                       vi: "Chọn lịch của bạn hoặc lịch của cơ quan.",
                                       en: "Choose your own calendar or the agency's.")

    private func renderFeeds(_ req: Request, _ principal: Principal, _ agency: Agency, issuedURL: String? = nil,
                             issuedScope: String? = nil) async throws -> Response {
        let agencyID = try agency.requireID()
        let canManage = AccessPolicy.canManageCalendar(ofAgency: agencyID, principal)
        let person = try await req.calendar.feedToken(agencyID: agencyID, userID: principal.userID)
        let whole = canManage ? try await req.calendar.feedToken(agencyID: agencyID, userID: nil) : nil
        let body = FeedsBody(agencyName: agency.name, personSince: person.map { DisplayTime.format($0.createdAt) },
                             agencySince: whole.map { DisplayTime.format($0.createdAt) }, canManageAgencyFeed: canManage,
                             issuedURL: issuedURL, issuedScope: issuedScope)
        return try await req.renderPage("calendar/feeds", title: "calendar.feeds.title", body)
    }

    @Sendable func feeds(req: Request) async throws -> Response {
        let (principal, agency) = try await readable(req)
        return try await renderFeeds(req, principal, agency)
    }

    /// Makes a new link and shows it on this answer only: the server keeps just its hash.
    @Sendable func rotateFeed(req: Request) async throws -> Response {
        let scope = try req.content.decode(RotateForm.self).scope ?? "person"
        let (principal, agency) = try await readable(req)
        let userID: UUID?
        switch scope {
        case "person": userID = principal.userID
        case "agency":
            guard AccessPolicy.canManageCalendar(ofAgency: try agency.requireID(), principal) else {
                throw CalendarService.forbiddenWrite
            }
            userID = nil
        default: throw Self.scopeInvalid
        }
        let token = try await req.calendar.rotateFeed(agency: agency, userID: userID, actor: req.auditActor)
        return try await renderFeeds(req, principal, agency, issuedURL: Self.baseURL(req) + "/calendar/feed/\(token).ics",
                                     issuedScope: scope)
    }

    /// Where this server is reached, as the browser reached it, for a link pasted into a calendar app;
    /// a Host header that is not a plain host name gives a relative link instead.
    static func baseURL(_ req: Request) -> String {
        guard let host = req.headers.first(name: .host), !host.isEmpty, host.count <= 255,
              host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-:[]".contains($0)) }) else { return "" }
        return (req.cameOverHTTPS ? "https" : "http") + "://" + host
    }
}

/// The iCalendar feeds, outside the browser group: calendar apps have no session, the secret in the
/// URL is the credential.
struct CalendarFeedController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("calendar", "feed", ":token", use: feed)
    }

    @Sendable func feed(req: Request) async throws -> Response {
        var token = req.parameters.get("token") ?? ""
        if token.hasSuffix(".ics") { token.removeLast(4) }
        let text = try await req.calendar.feed(token: token)
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "calendar", parameters: ["charset": "utf-8"])
        // Apps poll; a few minutes' staleness is fine, and no shared cache may keep a private diary.
        headers.replaceOrAdd(name: .cacheControl, value: "private, max-age=300")
        headers.replaceOrAdd(name: .contentDisposition, value: "inline; filename=\"lich-cong-tac.ics\"")
        return Response(status: .ok, headers: headers, body: .init(string: text))
    }
}
