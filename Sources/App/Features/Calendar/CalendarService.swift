import Fluent
import Foundation
import GovCore
import OfficeRules
import SQLKit
import Vapor

/// The work and meeting calendar's interface for the rest of the system: entries with their rooms and
/// participants, rooms, and the iCalendar feeds that calendar apps subscribe to. Every change is
/// audited in its own transaction. Callers check AccessPolicy first; the service checks that what
/// an entry names (room, host, participants) belongs to the entry's agency.
struct CalendarService: Sendable {
    let db: any Database

    static let participantsTable = "calendar_participants"

    /// What a person asks for when creating or changing an entry.
    struct Draft: Sendable {
        var kind: CalendarKind
        var title: String
        var start: Date
        var end: Date
        var roomID: UUID?
        var location: String?
        var details: String
        var hostUserID: UUID?
        var participantIDs: Set<UUID>
    }

    /// Whose entries a week shows.
    enum HostFilter: Sendable, Equatable {
        /// Everything of the agency.
        case all
        /// The agency's own entries (lịch chung), hosted by nobody.
        case agencyWide
        /// One person's: those they host or take part in.
        case user(UUID)
    }

    // MARK: Errors

    static let forbidden = GovError("forbidden_calendar", .forbidden,
                                    vi: "Bạn không có quyền với lịch công tác của cơ quan này.",
                                    en: "You may not use this agency's calendar.")
    static let forbiddenWrite = GovError("forbidden_calendar_write", .forbidden,
                                         vi: "Chỉ văn thư, lãnh đạo và quản trị cơ quan được sửa lịch công tác.",
                                         en: "Only the agency's clerks, leaders and admins may change its calendar.")
    static let entryNotFound = GovError("calendar_entry_not_found", .notFound,
                                        vi: "Không tìm thấy lịch.", en: "Calendar entry not found.")
    static let feedNotFound = GovError("calendar_feed_not_found", .notFound,
                                       vi: "Không tìm thấy lịch đăng ký theo liên kết này; có thể liên kết đã được tạo lại.",
                                       en: "No calendar feed at this link; it may have been replaced.")
    static let titleRequired = GovError("calendar_title_required", .invalid,
                                        vi: "Nội dung lịch là bắt buộc (tối đa 300 ký tự).",
                                        en: "A title is required (at most 300 characters).")
    static let endBeforeStart = GovError("calendar_end_before_start", .invalid,
                                         vi: "Thời gian kết thúc phải sau thời gian bắt đầu.",
                                         en: "The end must be after the start.")
    static let tooLong = GovError("calendar_too_long", .invalid,
                                  vi: "Một lịch kéo dài tối đa 31 ngày.", en: "An entry lasts at most 31 days.")
    static let textTooLong = GovError("calendar_text_too_long", .invalid,
                                      vi: "Địa điểm tối đa 300 ký tự, nội dung chi tiết tối đa 4000 ký tự.",
                                      en: "The place takes at most 300 characters and the details at most 4000.")
    static let roomUnknown = GovError("calendar_room_unknown", .invalid,
                                      vi: "Phòng họp không thuộc cơ quan này.", en: "The room is not one of this agency's.")
    static let hostOtherAgency = GovError("calendar_host_other_agency", .invalid,
                                          vi: "Người chủ trì phải là cán bộ đang làm việc của cơ quan.",
                                          en: "The host must be an active member of the agency.")
    static let participantOtherAgency = GovError("calendar_participant_other_agency", .invalid,
                                                 vi: "Thành phần tham dự phải là cán bộ đang làm việc của cơ quan.",
                                                 en: "Participants must be active members of the agency.")
    static let tooManyParticipants = GovError("calendar_participants_too_many", .invalid,
                                              vi: "Tối đa 200 người tham dự.", en: "At most 200 participants.")
    static let entryCancelled = GovError("calendar_entry_cancelled", .conflict,
                                         vi: "Lịch đã hủy, không sửa được.", en: "The entry is cancelled and cannot change.")
    static let roomNameInvalid = GovError("calendar_room_name_invalid", .invalid,
                                          vi: "Tên phòng là bắt buộc (tối đa 200 ký tự).",
                                          en: "A room name is required (at most 200 characters).")
    static let roomCapacityInvalid = GovError("calendar_room_capacity_invalid", .invalid,
                                              vi: "Sức chứa là số từ 1 đến 10000.", en: "The capacity is a number from 1 to 10000.")

    static func roomBusy(_ clash: CalendarEntryRecord) -> GovError {
        GovError("calendar_room_busy", .conflict,
                 vi: "Phòng đã có lịch \"\(clash.title)\" (\(DisplayTime.format(clash.startAt)) – \(CalendarTime.clock(clash.endAt))) trùng thời gian.",
                 en: "The room is already booked for \"\(clash.title)\" (\(DisplayTime.format(clash.startAt)) – \(CalendarTime.clock(clash.endAt))) at that time.")
    }

    static func roomExists(_ name: String) -> GovError {
        GovError("calendar_room_exists", .conflict,
                 vi: "Cơ quan đã có phòng \"\(name)\".", en: "The agency already has a room named \"\(name)\".")
    }

    // MARK: Entries

    func find(id: UUID) async throws -> CalendarEntryRecord? {
        try await CalendarEntryRecord.find(id, on: db)
    }

    /// The people who take part in an entry.
    func participantIDs(of entryID: UUID) async throws -> [UUID] {
        try await db.sql.select().column("user_id").from(Self.participantsTable).where("entry_id", .equal, entryID)
            .all().map { try $0.decode(column: "user_id", as: UUID.self) }
    }

    func create(_ draft: Draft, agency: Agency, actor: AuditActor) async throws -> CalendarEntryRecord {
        let agencyID = try agency.requireID()
        let draft = try await checked(draft, agencyID: agencyID)
        let entry = CalendarEntryRecord()
        entry.id = UUID()
        entry.agencyID = agencyID
        entry.cancelled = false
        entry.createdBy = actor.label
        Self.apply(draft, to: entry)
        try await db.atomically { tx in
            try await Self.requireRoomFree(draft, excluding: nil, on: tx)
            try await entry.create(on: tx)
            try await Self.replaceParticipants(of: entry.requireID(), with: draft.participantIDs, on: tx)
            try await AuditLog.append("calendar.create", entity: "calendar_entry", id: entry.id?.uuidString,
                                      details: Self.auditDetails(draft), agencyCode: agency.code, by: actor, on: tx)
        }
        return entry
    }

    func update(_ entry: CalendarEntryRecord, _ draft: Draft, agency: Agency, actor: AuditActor) async throws {
        let agencyID = try agency.requireID()
        guard entry.agencyID == agencyID else { throw Self.forbidden }
        guard !entry.cancelled else { throw Self.entryCancelled }
        let draft = try await checked(draft, agencyID: agencyID)
        let entryID = try entry.requireID()
        try await db.atomically { tx in
            try await Self.requireRoomFree(draft, excluding: entryID, on: tx)
            Self.apply(draft, to: entry)
            try await entry.save(on: tx)
            try await Self.replaceParticipants(of: entryID, with: draft.participantIDs, on: tx)
            try await AuditLog.append("calendar.update", entity: "calendar_entry", id: entryID.uuidString,
                                      details: Self.auditDetails(draft), agencyCode: agency.code, by: actor, on: tx)
        }
    }

    /// Cancels an entry. It stays, so that subscribed calendar apps learn of the cancellation; a
    /// second cancel changes nothing.
    func cancel(_ entry: CalendarEntryRecord, agency: Agency, actor: AuditActor) async throws {
        guard entry.agencyID == (try agency.requireID()) else { throw Self.forbidden }
        guard !entry.cancelled else { return }
        try await db.atomically { tx in
            entry.cancelled = true
            try await entry.save(on: tx)
            try await AuditLog.append("calendar.cancel", entity: "calendar_entry", id: entry.id?.uuidString,
                                      details: ["title": entry.title], agencyCode: agency.code, by: actor, on: tx)
        }
    }

    /// The entries of the week that contains `weekStarting` (Monday to Sunday, Vietnam time),
    /// cancelled ones included so that the page can show them struck out.
    func week(agency: Agency, weekStarting: CivilDate, host: HostFilter) async throws -> [CalendarEntryRecord] {
        let monday = CalendarTime.monday(of: weekStarting)
        let from = monday.start()
        let to = monday.adding(days: 7).start()
        return try await entries(agencyID: try agency.requireID(), from: from, to: to, host: host, limit: 1000)
    }

    private func entries(agencyID: UUID, from: Date, to: Date, host: HostFilter, agencyWideToo: Bool = false,
                         limit: Int) async throws -> [CalendarEntryRecord] {
        var query = CalendarEntryRecord.query(on: db).filter(\.$agencyID == agencyID)
            .filter(\.$startAt < to).filter(\.$endAt > from)
        switch host {
        case .all:
            break
        case .agencyWide:
            query = query.filter(\.$hostUserID == nil)
        case .user(let userID):
            let taking = try await participations(of: userID, agencyID: agencyID, from: from, to: to)
            query = query.group(.or) { or in
                or.filter(\.$hostUserID == userID)
                if !taking.isEmpty { or.filter(\.$id ~~ taking) }
                if agencyWideToo { or.filter(\.$hostUserID == nil) }
            }
        }
        return try await query.sort(\.$startAt).sort(\.$title).limit(limit).all()
    }

    /// The entries between `from` and `to` that `userID` takes part in.
    private func participations(of userID: UUID, agencyID: UUID, from: Date, to: Date) async throws -> [UUID] {
        try await db.sql.select().column(SQLColumn("entry_id", table: "p"))
            .from(SQLAlias(SQLIdentifier(Self.participantsTable), as: SQLIdentifier("p")))
            .join(SQLAlias(SQLIdentifier(CalendarEntryRecord.schema), as: SQLIdentifier("e")), method: SQLJoinMethod.inner,
                  on: SQLColumn("id", table: "e"), .equal, SQLColumn("entry_id", table: "p"))
            .where(SQLColumn("user_id", table: "p"), .equal, SQLBind(userID))
            .where(SQLColumn("agency_id", table: "e"), .equal, SQLBind(agencyID))
            .where(SQLColumn("start_at", table: "e"), .lessThan, SQLBind(to))
            .where(SQLColumn("end_at", table: "e"), .greaterThan, SQLBind(from))
            .limit(5000)
            .all().map { try $0.decode(column: "entry_id", as: UUID.self) }
    }

    /// Validates `draft` against the agency: text, times, room, host and participants.
    private func checked(_ draft: Draft, agencyID: UUID) async throws -> Draft {
        var draft = draft
        draft.title = draft.title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !draft.title.isEmpty, draft.title.count <= 300 else { throw Self.titleRequired }
        draft.location = draft.location?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
        draft.details = draft.details.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (draft.location?.count ?? 0) <= 300, draft.details.count <= 4000 else { throw Self.textTooLong }
        guard draft.end > draft.start else { throw Self.endBeforeStart }
        guard draft.end.timeIntervalSince(draft.start) <= 31 * 86_400 else { throw Self.tooLong }
        if let roomID = draft.roomID {
            guard let room = try await CalendarRoom.find(roomID, on: db), room.agencyID == agencyID else {
                throw Self.roomUnknown
            }
        }
        guard draft.participantIDs.count <= 200 else { throw Self.tooManyParticipants }
        var asked = draft.participantIDs
        if let host = draft.hostUserID { asked.insert(host) }
        let members = Dictionary(uniqueKeysWithValues: try await AccountService.users(ids: asked, on: db)
            .filter { $0.isActive && $0.$agency.id == agencyID }.compactMap { user in user.id.map { ($0, user) } })
        if let host = draft.hostUserID, members[host] == nil { throw Self.hostOtherAgency }
        guard draft.participantIDs.allSatisfy({ members[$0] != nil }) else { throw Self.participantOtherAgency }
        return draft
    }

    fileprivate static func apply(_ draft: Draft, to entry: CalendarEntryRecord) {
        entry.kind = draft.kind.rawValue
        entry.title = draft.title
        entry.startAt = draft.start
        entry.endAt = draft.end
        entry.roomID = draft.roomID
        entry.location = draft.location
        entry.details = draft.details
        entry.hostUserID = draft.hostUserID
    }

    /// Refuses a room already booked by an overlapping entry that is not cancelled. The room's row is
    /// locked first (a row lock on PostgreSQL, the write lock on SQLite), so two bookings of one room
    /// made at once on different nodes are checked one after the other.
    private static func requireRoomFree(_ draft: Draft, excluding entryID: UUID?, on tx: any Database) async throws {
        guard let roomID = draft.roomID else { return }
        try await tx.lockRow(in: CalendarRoom.schema, id: roomID, column: "name")
        var query = CalendarEntryRecord.query(on: tx).filter(\.$roomID == roomID).filter(\.$cancelled == false)
            .filter(\.$startAt < draft.end).filter(\.$endAt > draft.start)
        if let entryID { query = query.filter(\.$id != entryID) }
        if let clash = try await query.first() { throw roomBusy(clash) }
    }

    fileprivate static func replaceParticipants(of entryID: UUID, with users: Set<UUID>, on tx: any Database) async throws {
        try await tx.sql.delete(from: participantsTable).where("entry_id", .equal, entryID).run()
        guard !users.isEmpty else { return }
        var insert = tx.sql.insert(into: participantsTable).columns("entry_id", "user_id")
        for user in users.sorted(by: { $0.uuidString < $1.uuidString }) {
            insert = insert.values(SQLBind(entryID), SQLBind(user))
        }
        try await insert.run()
    }

    private static func auditDetails(_ draft: Draft) -> [String: String] {
        var details = ["title": draft.title, "kind": draft.kind.rawValue,
                       "start": CalendarTime.inputValue(draft.start), "end": CalendarTime.inputValue(draft.end),
                       "participants": String(draft.participantIDs.count)]
        if let room = draft.roomID { details["room"] = room.uuidString }
        if let host = draft.hostUserID { details["host"] = host.uuidString }
        return details
    }

    // MARK: Rooms

    func rooms(agencyID: UUID) async throws -> [CalendarRoom] {
        try await CalendarRoom.query(on: db).filter(\.$agencyID == agencyID).sort(\.$name).all()
    }

    func createRoom(agency: Agency, name raw: String, capacity: Int?, actor: AuditActor) async throws -> CalendarRoom {
        let agencyID = try agency.requireID()
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200 else { throw Self.roomNameInvalid }
        if let capacity, !(1...10_000).contains(capacity) { throw Self.roomCapacityInvalid }
        let room = CalendarRoom(agencyID: agencyID, name: name, capacity: capacity)
        try await db.atomically { tx in
            // The unique index refuses a name taken meanwhile by another node; this gives the common case its message.
            if try await CalendarRoom.query(on: tx).filter(\.$agencyID == agencyID).filter(\.$name == name).first() != nil {
                throw Self.roomExists(name)
            }
            try await room.create(on: tx)
            var details = ["name": name]
            if let capacity { details["capacity"] = String(capacity) }
            try await AuditLog.append("calendar.room_create", entity: "calendar_room", id: room.id?.uuidString,
                                      details: details, agencyCode: agency.code, by: actor, on: tx)
        }
        return room
    }

    // MARK: Feeds

    /// The current token record of a feed: the person's (`userID`) or the agency's (nil).
    func feedToken(agencyID: UUID, userID: UUID?) async throws -> CalendarFeedToken? {
        try await CalendarFeedToken.query(on: db).filter(\.$agencyID == agencyID).filter(\.$userID == userID)
            .sort(\.$createdAt, .descending).first()
    }

    /// Issues a new secret for a feed and forgets the old one, whose URL stops working. Only the
    /// hash is kept: the secret is in the returned URL path and nowhere else.
    func rotateFeed(agency: Agency, userID: UUID?, actor: AuditActor) async throws -> String {
        let agencyID = try agency.requireID()
        let secret = SystemSecret.generate()
        try await db.atomically { tx in
            try await CalendarFeedToken.query(on: tx).filter(\.$agencyID == agencyID).filter(\.$userID == userID).delete()
            try await CalendarFeedToken(userID: userID, agencyID: agencyID, tokenHash: SystemSecret.hash(secret)).create(on: tx)
            try await AuditLog.append("calendar.feed_rotate", entity: "calendar_feed", id: userID?.uuidString ?? "agency",
                                      agencyCode: agency.code, by: actor, on: tx)
        }
        return secret
    }

    /// The iCalendar text of the feed whose secret is `token`. A person's feed holds what they host
    /// or take part in and the agency's own entries; the agency's feed holds everything. It ends with
    /// its owner: a locked account or agency, or a person who moved to another agency, has no feed.
    func feed(token: String, now: Date = Date()) async throws -> String {
        guard !token.isEmpty, token.count <= 100,
              let record = try await CalendarFeedToken.query(on: db).filter(\.$tokenHash == SystemSecret.hash(token)).first(),
              let agency = try await AgencyDirectory(db: db).find(id: record.agencyID), agency.agencyState == .active else {
            throw Self.feedNotFound
        }
        let name: String
        let host: HostFilter
        if let userID = record.userID {
            guard let user = try await AccountService.users(ids: [userID], on: db).first, user.isActive,
                  user.$agency.id == record.agencyID else { throw Self.feedNotFound }
            name = "Lịch công tác — \(user.fullName)"
            host = .user(userID)
        } else {
            name = "Lịch công tác — \(agency.name)"
            host = .all
        }
        // A bounded window keeps the feed small for apps that poll it every few minutes.
        let records = try await entries(agencyID: record.agencyID, from: now.addingTimeInterval(-92 * 86_400),
                                        to: now.addingTimeInterval(400 * 86_400), host: host, agencyWideToo: true,
                                        limit: 2000)
        let rooms = Dictionary(uniqueKeysWithValues: try await self.rooms(agencyID: record.agencyID)
            .compactMap { room in room.id.map { ($0, room.name) } })
        let people = try await participants(of: records.compactMap(\.id))
        var ids = Set(people.values.flatMap { $0 })
        ids.formUnion(records.compactMap(\.hostUserID))
        let names = Dictionary(uniqueKeysWithValues: try await AccountService.users(ids: ids, on: db)
            .compactMap { user in user.id.map { ($0, user.fullName) } })
        let entries = records.compactMap { entry -> CalendarEntry? in
            guard let id = entry.id else { return nil }
            let place = [entry.roomID.flatMap { rooms[$0] }, entry.location].compactMap { $0 }.joined(separator: " — ")
            var lines = entry.details.isEmpty ? [] : [entry.details]
            if let host = entry.hostUserID.flatMap({ names[$0] }) { lines.append("Chủ trì: \(host)") }
            let taking = (people[id] ?? []).compactMap { names[$0] }.sorted()
            if !taking.isEmpty { lines.append("Thành phần: " + taking.joined(separator: ", ")) }
            return CalendarEntry(uid: "\(id.uuidString.lowercased())@govoffice", start: entry.startAt, end: entry.endAt,
                                 summary: entry.title, location: place.nilIfEmpty,
                                 details: lines.isEmpty ? nil : lines.joined(separator: "\n"),
                                 lastModified: entry.updatedAt ?? entry.createdAt ?? entry.startAt,
                                 cancelled: entry.cancelled)
        }
        return ICalendarFeed.render(name: name, entries: entries, now: now)
    }

    /// The participants of each of `entryIDs`.
    func participants(of entryIDs: [UUID]) async throws -> [UUID: [UUID]] {
        guard !entryIDs.isEmpty else { return [:] }
        var out: [UUID: [UUID]] = [:]
        for row in try await db.sql.select().column("entry_id").column("user_id").from(Self.participantsTable)
            .where("entry_id", .in, entryIDs).all() {
            out[try row.decode(column: "entry_id", as: UUID.self), default: []]
                .append(try row.decode(column: "user_id", as: UUID.self))
        }
        return out
    }
}

extension Request {
    var calendar: CalendarService { CalendarService(db: db) }
}

extension Application {
    var calendar: CalendarService { CalendarService(db: db) }
}

extension CalendarService {
    /// The demo calendar of the Government Office for the week of `today`: two rooms, the Monday
    /// flag-raising for everyone, a meeting of the leader and a working visit. Written inside the demo
    /// seed's transaction, which its one audit record covers.
    static func seedDemo(agencyID: UUID, users: [String: UUID], today: CivilDate, on tx: any Database) async throws {
        let hall = CalendarRoom(agencyID: agencyID, name: "Hội trường tầng 1", capacity: 200)
        let roomA = CalendarRoom(agencyID: agencyID, name: "Phòng họp A (tầng 3)", capacity: 30)
        try await hall.create(on: tx)
        try await roomA.create(on: tx)
        let monday = CalendarTime.monday(of: today)
        func at(_ day: Int, _ hour: Int, _ minute: Int = 0) -> Date {
            monday.adding(days: day).start()
                .addingTimeInterval(Double(hour * 3600 + minute * 60))
        }
        let leader = users["g22.lanhdao"]
        let items: [(CalendarKind, String, Date, Date, UUID?, String?, UUID?, [UUID?])] = [
            (.work, "Chào cờ và giao ban đầu tuần", at(0, 7, 30), at(0, 8, 30), hall.id, nil, nil, []),
            (.meeting, "Họp chuẩn bị phiên họp Chính phủ thường kỳ", at(1, 14), at(1, 16, 30), roomA.id, nil, leader,
             [users["g22.chuyenvien"], users["g22.vanthu"]]),
            (.work, "Làm việc với Bộ Tư pháp về dự thảo Nghị định", at(3, 8, 30), at(3, 11, 30), nil,
             "Bộ Tư pháp, 58-60 Trần Phú, Ba Đình, Hà Nội", leader, [users["g22.chuyenvien"]]),
        ]
        for (kind, title, start, end, room, location, host, people) in items {
            let entry = CalendarEntryRecord()
            entry.id = UUID()
            entry.agencyID = agencyID
            entry.cancelled = false
            entry.createdBy = AuditActor.commandLine.label
            apply(Draft(kind: kind, title: title, start: start, end: end, roomID: room, location: location, details: "",
                        hostUserID: host, participantIDs: Set(people.compactMap { $0 })), to: entry)
            try await entry.create(on: tx)
            try await replaceParticipants(of: try entry.requireID(), with: Set(people.compactMap { $0 }), on: tx)
        }
    }
}
