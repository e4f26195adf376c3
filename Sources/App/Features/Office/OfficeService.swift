import EdXML
import Fluent
import Foundation
import GovCore
import OfficeRules
import SQLKit
import Vapor

/// Who takes a step in the office: a signed-in member of the agency, or the office's own worker.
struct OfficeActor: Sendable {
    var username: String
    var fullName: String
    var agencyCode: String
    /// The person's unit (department code), for what a specialist sees.
    var unit: String?
    var roles: Set<Role>
    var audit: AuditActor

    /// The worker that receives from the hub (no person).
    static func worker(agency: String) -> OfficeActor {
        OfficeActor(username: "hub", fullName: "Trục liên thông", agencyCode: agency, unit: nil, roles: [],
                    audit: AuditActor(label: "office-worker", agencyCode: agency, ip: nil, requestID: nil))
    }

    /// Works in the document office (the worker, acting for the hub, does not).
    var isStaff: Bool { !roles.isDisjoint(with: AccessPolicy.documentOfficeRoles) }

    /// Sees every document of the agency (clerks and leaders do; a specialist sees their own work).
    var seesAll: Bool { roles.contains(.clerk) || roles.contains(.leader) }
}

/// The document office's public service: incoming and outgoing documents, their steps and the
/// statuses each step sends to the hub (through the outbox), the registers and search. Other
/// subsystems use this, never the office tables.
struct OfficeService: Sendable {
    let db: any Database

    static let incomingRegister = "VBĐ"
    static let outgoingRegister = "VBĐi"

    // MARK: errors

    static let notFound = GovError("office_document_not_found", .notFound,
                                   vi: "Không tìm thấy văn bản.", en: "No such document.")

    static func roleMissing(_ roles: [Role]) -> GovError {
        let list = roles.map(\.rawValue).joined(separator: ", ")
        return GovError("office_role_missing", .forbidden, vi: "Bước này dành cho: \(list).", en: "This step is for: \(list).")
    }

    static func stepNotAllowed(_ state: String) -> GovError {
        GovError("office_step_not_allowed", .conflict,
                 vi: "Văn bản đang ở trạng thái \"\(state)\", không thực hiện được bước này.",
                 en: "The document is \(state); this step is not possible now.")
    }

    // MARK: reading

    /// The document `id` if `actor` may see it; otherwise `office_document_not_found` (another
    /// agency's documents are not revealed to exist).
    func document(_ id: UUID, for actor: OfficeActor) async throws -> OfficeDocument {
        guard let doc = try await OfficeDocument.find(id, on: db), doc.agencyCode == actor.agencyCode,
              Self.canSee(doc, actor) else { throw Self.notFound }
        return doc
    }

    static func canSee(_ doc: OfficeDocument, _ actor: OfficeActor) -> Bool {
        if actor.seesAll { return true }
        if doc.secret { return false }
        if doc.createdBy == actor.username || doc.specialist == actor.username { return true }
        if let unit = actor.unit, doc.leadUnit == unit || (doc.coordinatingUnits ?? "").split(separator: ",").contains(Substring(unit)) {
            return true
        }
        return false
    }

    struct ListQuery: Sendable {
        var direction: OfficeDirection
        var state: String?
        /// Any of these states (with `state`, both must hold).
        var states: [String] = []
        var text: String?
        var page = 1
        var perPage = 50
        /// Whether to count the matches (the list pages show it; the search page does not).
        var countTotal = true
    }

    struct ListResult: Sendable {
        var documents: [OfficeDocument]
        /// How many match, counted up to ``countCap``.
        var total: Int
        /// Whether there are more than ``countCap``.
        var totalIsCapped: Bool = false
    }

    /// Counting stops here: an exact count of a million rows costs more than the page itself,
    /// and nobody pages through more than this by hand.
    static let countCap = 10_000

    /// A page of the agency's documents, newest first, filtered by state and full-text search.
    func list(_ query: ListQuery, for actor: OfficeActor) async throws -> ListResult {
        let sql = db.sql
        let dialect = sql.dialect.name
        let offset = (query.page - 1) * query.perPage
        var conditions: [SQLQueryString] = ["d.agency_code = \(bind: actor.agencyCode)", "d.direction = \(bind: query.direction.rawValue)"]
        if let state = query.state {
            let condition: SQLQueryString = "d.state = \(bind: state)"
            conditions.append(condition)
        }
        if !query.states.isEmpty {
            let condition: SQLQueryString = "d.state IN (\(binds: query.states))"
            conditions.append(condition)
        }
        var from: SQLQueryString = "office_documents d"
        var order: SQLQueryString = "d.created_at DESC"
        if let text = query.text {
            // Only punctuation or operators: nothing can match.
            guard let plan = OfficeDocument.search.plan(FullTextQuery(text), alias: "d", dialect: dialect) else {
                return ListResult(documents: [], total: 0)
            }
            from = plan.from
            conditions.append(plan.condition)
            order = plan.order
        }
        if !actor.seesAll {
            var mine: [SQLQueryString] = ["d.created_by = \(bind: actor.username)", "d.specialist = \(bind: actor.username)"]
            if let unit = actor.unit {
                let condition: SQLQueryString = "d.lead_unit = \(bind: unit)"
                mine.append(condition)
            }
            let own: SQLQueryString = "d.secret = \(bind: false) AND (" + Self.joined(mine, " OR ") + ")"
            conditions.append(own)
        }
        let whereClause = Self.joined(conditions, " AND ")
        let rows = try await sql.raw("""
            SELECT d.id FROM \(from) WHERE \(whereClause)
            ORDER BY \(order) LIMIT \(literal: query.perPage + 1) OFFSET \(literal: offset)
            """).all()
        var ids = try rows.map { try $0.decode(column: "id", as: UUID.self) }
        let more = ids.count > query.perPage
        if more { ids.removeLast() }
        var total = offset + ids.count + (more ? 1 : 0)
        var capped = false
        if query.countTotal {
            let counted = try await sql.raw("""
                SELECT COUNT(*) AS n FROM (SELECT 1 FROM \(from) WHERE \(whereClause) LIMIT \(literal: Self.countCap + 1)) c
                """).first()?.decode(column: "n", as: Int.self) ?? 0
            capped = counted > Self.countCap
            // A page past the cap still links to the next one.
            total = max(min(counted, Self.countCap), total)
        }
        let docs = try await OfficeDocument.query(on: db).filter(\.$id ~~ ids).all()
        let position = Dictionary(uniqueKeysWithValues: ids.enumerated().map { index, id in (id, index) })
        return ListResult(documents: docs.sorted { position[$0.id!]! < position[$1.id!]! }, total: total, totalIsCapped: capped)
    }

    static func joined(_ parts: [SQLQueryString], _ separator: String) -> SQLQueryString {
        guard var result = parts.first else { return "" }
        for part in parts.dropFirst() { result = result + SQLQueryString(separator) + part }
        return result
    }

    func attachments(of doc: OfficeDocument) async throws -> [OfficeAttachment] {
        try await OfficeAttachment.query(on: db).filter(\.$document.$id == doc.requireID()).sort(\.$createdAt).all()
    }

    func attachment(_ id: UUID, of doc: OfficeDocument) async throws -> OfficeAttachment {
        guard let file = try await OfficeAttachment.find(id, on: db), file.$document.id == doc.id else { throw Self.notFound }
        return file
    }

    func history(of doc: OfficeDocument) async throws -> [OfficeHistory] {
        try await OfficeHistory.query(on: db).filter(\.$document.$id == doc.requireID()).sort(\.$at).all()
    }

    func assignments(of doc: OfficeDocument) async throws -> [OfficeAssignment] {
        try await OfficeAssignment.query(on: db).filter(\.$document.$id == doc.requireID()).all()
    }

    func statuses(of doc: OfficeDocument) async throws -> [OfficeStatus] {
        try await OfficeStatus.query(on: db).filter(\.$document.$id == doc.requireID()).sort(\.$at).all()
    }

    func outbox(of doc: OfficeDocument) async throws -> [OfficeOutboxItem] {
        try await OfficeOutboxItem.query(on: db).filter(\.$documentID == doc.requireID()).sort(\.$createdAt).all()
    }

    // MARK: numbering

    /// The next number of `series` in the agency: one counter row per series, raised by one
    /// UPDATE … RETURNING inside the caller's transaction, so concurrent registrations queue on the
    /// row (PostgreSQL) or the write lock (SQLite) and never get the same number or leave a gap.
    static func nextNumber(agency: String, series: NumberSeries, on db: any Database) async throws -> Int {
        let key = series.description
        let sql = db.sql
        try await sql.raw("""
            INSERT INTO office_counters (agency_code, series, last) VALUES (\(bind: agency), \(bind: key), 0)
            ON CONFLICT (agency_code, series) DO NOTHING
            """).run()
        guard let row = try await sql.raw("""
            UPDATE office_counters SET last = last + 1 WHERE agency_code = \(bind: agency) AND series = \(bind: key) RETURNING last
            """).first() else {
            throw Abort(.internalServerError, reason: "number counter missing")
        }
        let last = try row.decode(column: "last", as: Int.self)
        return series.next(after: last - 1)
    }

    // MARK: history, outbox

    static func record(_ doc: OfficeDocument, _ action: String, note: String? = nil, by actor: OfficeActor,
                       on db: any Database) async throws {
        let line = OfficeHistory()
        line.$document.id = try doc.requireID()
        line.at = Date()
        line.actor = actor.username
        line.action = action
        line.note = note
        try await line.create(on: db)
        var details = ["state": doc.state]
        if let note { details["note"] = String(note.prefix(200)) }
        try await AuditLog.append("office.\(action)", entity: "office_document", id: doc.id?.uuidString.lowercased(),
                                  details: details, agencyCode: doc.agencyCode, by: actor.audit, on: db)
    }

    static func enqueue(_ kind: String, payload: Data, agency: String, document: UUID?, on db: any Database) async throws {
        let item = OfficeOutboxItem()
        item.agencyCode = agency
        item.documentID = document
        item.kind = kind
        item.payload = payload
        item.state = "pending"
        item.attempts = 0
        item.nextAt = Date()
        try await item.create(on: db)
    }

    /// Queues the status `code` about the incoming `doc` for its sender.
    static func enqueueStatus(_ code: StatusCode, for doc: OfficeDocument, description: String? = nil, by actor: OfficeActor,
                              on db: any Database) async throws {
        // A paper document has no electronic sender to tell.
        guard let bytes = doc.edxml, !doc.paper else { return }
        guard case .document(let original) = try EdXMLReader.read(bytes).message else { return }
        let status = EdXMLBuilder.status(
            code, for: original, from: Organization(organId: doc.agencyCode),
            description: description ?? code.officialDescription,
            staff: StaffInfo(department: actor.unit, staff: actor.fullName))
        let payload = try EdXMLWriter.write(.status(status))
        try await enqueue("status", payload: payload, agency: doc.agencyCode, document: doc.id, on: db)
    }

    // MARK: incoming steps

    /// Takes `step` on the incoming document: the rules of `IncomingWorkflow`, the new state, the
    /// number for an accepted document, the history line, the audit record and the status for the
    /// sender, all in one transaction.
    func take(_ step: IncomingStep, on id: UUID, by actor: OfficeActor, today: CivilDate = CivilDate.today()) async throws -> OfficeDocument {
        try await db.atomically { tx in
            guard let doc = try await OfficeDocument.find(id, on: tx), doc.agencyCode == actor.agencyCode,
                  doc.direction == .incoming, Self.canSee(doc, actor) else { throw Self.notFound }
            guard let state = IncomingState(rawValue: doc.state) else { throw Self.stepNotAllowed(doc.state) }
            let arrival = doc.arrivalDate.flatMap { try? CivilDate(parsing: $0) } ?? today
            let (next, status) = try IncomingWorkflow.apply(step, in: state, by: actor.roles, arrival: arrival)
            doc.state = next.rawValue
            var note: String?
            switch step {
            case .reject(let reason):
                doc.rejectionReason = reason
                note = reason
            case .accept:
                let series = NumberSeries(register: Self.incomingRegister, date: today)
                doc.registerCode = series.register
                doc.year = series.year
                doc.regNumber = try await Self.nextNumber(agency: doc.agencyCode, series: series, on: tx)
                doc.arrivalDate = doc.arrivalDate ?? today.iso
                note = "Số đến \(doc.regNumber!)"
            case .assign(let assignment):
                doc.leadUnit = assignment.leadUnit
                doc.coordinatingUnits = assignment.coordinatingUnits.joined(separator: ",")
                doc.deadline = assignment.deadlines[assignment.leadUnit]?.iso
                doc.opinion = assignment.opinion
                try await OfficeAssignment.query(on: tx).filter(\.$document.$id == id).delete()
                for unit in [assignment.leadUnit] + assignment.coordinatingUnits {
                    let row = OfficeAssignment()
                    row.$document.id = id
                    row.unit = unit
                    row.role = unit == assignment.leadUnit ? "lead" : "coordinate"
                    row.deadline = assignment.deadlines[unit]?.iso
                    try await row.create(on: tx)
                }
                note = assignment.opinion
            case .startProcessing:
                break
            case .finish:
                doc.doneAt = Date()
            }
            doc.searchText = Self.searchText(doc)
            try await doc.update(on: tx)
            try await Self.record(doc, "incoming.\(next.rawValue)", note: note, by: actor, on: tx)
            let description: String? = if case .reject(let reason) = step { reason } else { nil }
            try await Self.enqueueStatus(status, for: doc, description: description, by: actor, on: tx)
            return doc
        }
    }

    /// A unit leader (or the leader) hands the document to a specialist of the agency.
    func assignSpecialist(_ username: String, on id: UUID, by actor: OfficeActor, accounts: AccountService) async throws {
        guard actor.roles.contains(.leader) else { throw Self.roleMissing([.leader]) }
        let people = try await accounts.members(ofAgencyCode: actor.agencyCode)
        guard people.contains(where: { $0.username == username }) else {
            throw GovError("office_specialist_unknown", .invalid,
                           vi: "Người xử lý \"\(username.prefix(40))\" không thuộc cơ quan.",
                           en: "\"\(username.prefix(40))\" is not a member of this agency.")
        }
        try await db.atomically { tx in
            guard let doc = try await OfficeDocument.find(id, on: tx), doc.agencyCode == actor.agencyCode,
                  doc.direction == .incoming else { throw Self.notFound }
            guard ["assigned", "processing"].contains(doc.state) else { throw Self.stepNotAllowed(doc.state) }
            doc.specialist = username
            try await doc.update(on: tx)
            try await Self.record(doc, "incoming.specialist", note: username, by: actor, on: tx)
        }
    }

    /// The clerk answers the sender's request to take a document back: 15 (agreed; the document
    /// is withdrawn) or 16 (refused).
    func answerRevocation(agree: Bool, on id: UUID, reason: String?, by actor: OfficeActor) async throws {
        guard actor.roles.contains(.clerk) else { throw Self.roleMissing([.clerk]) }
        try await db.atomically { tx in
            guard let doc = try await OfficeDocument.find(id, on: tx), doc.agencyCode == actor.agencyCode,
                  doc.direction == .incoming else { throw Self.notFound }
            guard doc.revocation == "requested" else {
                throw GovError("office_no_revocation_request", .conflict,
                               vi: "Không có yêu cầu thu hồi nào đang chờ trả lời.",
                               en: "No revocation request is waiting for an answer.")
            }
            doc.revocation = agree ? "agreed" : "refused"
            try await doc.update(on: tx)
            try await Self.record(doc, agree ? "incoming.revocation_agreed" : "incoming.revocation_refused",
                                  note: reason, by: actor, on: tx)
            try await Self.enqueueStatus(agree ? .revokeAccepted : .revokeRefused, for: doc, description: reason,
                                         by: actor, on: tx)
        }
    }

    // MARK: paper documents

    struct PaperDocument: Sendable {
        var senderName: String
        var codeNumber: String
        var typeCode: String
        var subject: String
        var promulgationDate: CivilDate?
        var urgency: Int
        var secret: Bool
        var scan: UploadedFile?
    }

    struct UploadedFile: Sendable {
        var name: String
        var contentType: String
        var data: Data
    }

    /// The clerk registers a paper document by hand (with its scan): registered at once, with the
    /// next incoming number; no status goes anywhere.
    func registerPaper(_ paper: PaperDocument, by actor: OfficeActor, today: CivilDate = CivilDate.today()) async throws -> OfficeDocument {
        guard actor.roles.contains(.clerk) else { throw Self.roleMissing([.clerk]) }
        let type = try OfficeRules.DocumentType.require(paper.typeCode)
        let subject = try Self.required(paper.subject, field: "subject", vi: "trích yếu", en: "subject")
        let sender = try Self.required(paper.senderName, field: "sender", vi: "cơ quan ban hành", en: "issuing agency")
        let parsed = paper.codeNumber.trimmingCharacters(in: .whitespaces).isEmpty ? nil : try DocumentNumber(parsing: paper.codeNumber)
        let number = parsed.map { $0.number < 10 ? "0\($0.number)" : String($0.number) }
        let notation = parsed?.notation
        if let scan = paper.scan {
            try OfficeAttachmentPolicy.check(scan)
        }
        return try await db.atomically { tx in
            let doc = OfficeDocument()
            doc.id = UUID()
            doc.agencyCode = actor.agencyCode
            doc.direction = .incoming
            doc.state = IncomingState.registered.rawValue
            let series = NumberSeries(register: Self.incomingRegister, date: today, secret: paper.secret)
            doc.registerCode = series.register
            doc.year = series.year
            doc.secret = paper.secret
            doc.regNumber = try await Self.nextNumber(agency: actor.agencyCode, series: series, on: tx)
            doc.codeNumber = number
            doc.codeNotation = notation
            doc.arrivalDate = today.iso
            doc.typeCode = type.id
            doc.typeName = type.name
            doc.subject = subject
            doc.content = subject
            doc.senderName = sender
            doc.promulgationDate = paper.promulgationDate?.iso
            doc.urgency = paper.urgency
            doc.recipients = ""
            doc.paper = true
            doc.createdBy = actor.username
            doc.searchText = Self.searchText(doc)
            try await doc.create(on: tx)
            if let scan = paper.scan { try await Self.attach(scan, to: doc, on: tx) }
            try await Self.record(doc, "incoming.paper_registered", note: "Số đến \(doc.regNumber!)", by: actor, on: tx)
            return doc
        }
    }

    static func attach(_ file: UploadedFile, to doc: OfficeDocument, on db: any Database) async throws {
        let row = OfficeAttachment()
        row.$document.id = try doc.requireID()
        row.name = file.name
        row.contentType = file.contentType
        row.size = file.data.count
        row.data = file.data
        try await row.create(on: db)
    }

    static func required(_ text: String, field: String, vi: String, en: String, max: Int = 2000) throws -> String {
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else {
            throw GovError("office_field_required", .invalid, vi: "Cần nhập \(vi).", en: "The \(en) is required.")
        }
        guard value.count <= max else {
            throw GovError("office_field_too_long", .invalid, vi: "\(vi.capitalized) quá dài (tối đa \(max) ký tự).",
                           en: "The \(en) is too long (at most \(max) characters).")
        }
        return value
    }

    /// What full-text search reads: number, subject, content and sender, folded.
    static func searchText(_ doc: OfficeDocument) -> String {
        FullTextQuery.indexText([doc.displayNumber, doc.regNumber.map(String.init), doc.typeName, doc.subject, doc.content,
                         doc.senderName, doc.senderCode].compactMap { $0 }.joined(separator: " "))
    }
}

/// Which files may be attached: office documents and scans, nothing executable, within a size.
enum OfficeAttachmentPolicy {
    static let allowedTypes: [String: Set<String>] = [
        "application/pdf": ["pdf"],
        "application/msword": ["doc"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ["docx"],
        "application/vnd.ms-excel": ["xls"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ["xlsx"],
        "application/vnd.oasis.opendocument.text": ["odt"],
        "image/png": ["png"],
        "image/jpeg": ["jpg", "jpeg"],
        "image/tiff": ["tif", "tiff"],
    ]
    static let maxBytes = 20 * 1024 * 1024

    /// Refuses a file whose type or extension is not an office document or scan
    /// (`office_attachment_type_not_allowed`, 415) or that is too large (`office_attachment_too_large`, 413).
    static func check(_ file: OfficeService.UploadedFile) throws {
        let name = file.name
        let type = file.contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        let ext = (name as NSString).pathExtension.lowercased()
        guard let extensions = allowedTypes[type], extensions.contains(ext) else {
            throw GovError("office_attachment_type_not_allowed", .unsupportedMediaType,
                           vi: "Tệp \"\(name.prefix(60))\" (\(type.prefix(60))) không được phép: chỉ nhận PDF, Word, Excel, ODT, PNG, JPEG, TIFF.",
                           en: "File \"\(name.prefix(60))\" (\(type.prefix(60))) is not allowed: PDF, Word, Excel, ODT, PNG, JPEG or TIFF only.")
        }
        // The browser's type and the name say nothing about the bytes: an executable renamed to
        // scan.pdf must not pass, so the first bytes must be those of the named format.
        if !matchesSignature(file.data, extension: ext) {
            throw GovError("office_attachment_type_not_allowed", .unsupportedMediaType,
                           vi: "Nội dung tệp \"\(name.prefix(60))\" không phải là tệp .\(ext) thật.",
                           en: "The content of \"\(name.prefix(60))\" is not a real .\(ext) file.")
        }
        guard file.data.count <= maxBytes else {
            throw GovError("office_attachment_too_large", .tooLarge,
                           vi: "Tệp \"\(name.prefix(60))\" lớn hơn \(maxBytes / 1024 / 1024) MB.",
                           en: "File \"\(name.prefix(60))\" is larger than \(maxBytes / 1024 / 1024) MB.")
        }
    }
}

extension OfficeAttachmentPolicy {
    /// Whether `data` starts like a file of the extension's format (PDF, PNG, JPEG, TIFF, the
    /// ZIP-based OOXML/ODF formats, the OLE-based .doc/.xls).
    static func matchesSignature(_ data: Data, extension ext: String) -> Bool {
        let head = [UInt8](data.prefix(8))
        func starts(_ bytes: [UInt8]) -> Bool { head.count >= bytes.count && Array(head.prefix(bytes.count)) == bytes }
        switch ext {
        case "pdf": return starts([0x25, 0x50, 0x44, 0x46])
        case "png": return starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        case "jpg", "jpeg": return starts([0xFF, 0xD8, 0xFF])
        case "tif", "tiff": return starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A])
        case "docx", "xlsx", "odt": return starts([0x50, 0x4B, 0x03, 0x04])
        case "doc", "xls": return starts([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
        default: return false
        }
    }
}

extension Request {
    var office: OfficeService { OfficeService(db: db) }
}

extension Application {
    var office: OfficeService { OfficeService(db: db) }
}
