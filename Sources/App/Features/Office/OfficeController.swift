import EdXML
import Fluent
import Foundation
import GovCore
import OfficeRules
import Vapor

/// The document office's pages for clerks, leaders and specialists: the incoming and outgoing
/// lists with search, a document with the steps open to the person, the forms for a paper
/// document and a draft, the registers (page, print, CSV).
struct OfficeController: RouteCollection {
    let uploadLimit: Int

    func boot(routes: any RoutesBuilder) throws {
        let office = routes.grouped(RequireSignInMiddleware()).grouped("office")
        office.get(use: home)
        office.get("incoming", use: incoming)
        office.get("outgoing", use: outgoing)
        office.get("search", use: search)
        office.get("incoming", "new", use: paperForm)
        office.on(.POST, "incoming", body: .collect(maxSize: ByteCount(value: uploadLimit)), use: registerPaper)
        office.get("outgoing", "new", use: draftForm)
        office.on(.POST, "outgoing", body: .collect(maxSize: ByteCount(value: uploadLimit)), use: createDraft)
        office.get("documents", ":id", use: show)
        office.get("documents", ":id", "files", ":file", use: download)
        for step in ["accept", "reject", "assign", "specialist", "start", "finish", "revocation",
                     "approve", "number", "send", "revoke", "update"] {
            office.post("documents", ":id", PathComponent(stringLiteral: step)) { req in try await self.step(req, step) }
        }
        office.post("documents", ":id", "replace", use: replace)
        office.get("registers", ":direction", use: register)
        office.get("deadlines", use: deadlines)
        office.get("statistics", use: statistics)
    }

    static let noOffice = GovError("office_not_member", .forbidden,
                                   vi: "Sổ văn bản chỉ dành cho cán bộ của một cơ quan.",
                                   en: "The document office is for staff of an agency.")

    /// The signed-in person as an office actor; people without an agency (platform admins, the
    /// public) have no office.
    static func actor(_ req: Request) async throws -> OfficeActor {
        let principal = try req.requirePrincipal()
        guard let user = req.currentUser, let code = req.currentAgencyCode, AccessPolicy.usesDocumentOffice(principal) else {
            throw noOffice
        }
        let unit = try await user.$department.id.asyncMap { try await req.agencies.department(id: $0) }??.code
        return OfficeActor(username: user.username, fullName: user.fullName, agencyCode: code, unit: unit,
                           roles: principal.roles, audit: req.auditActor)
    }

    // MARK: lists

    struct Row: Encodable {
        var id: String
        var regNumber: String
        var number: String
        var date: String
        var typeName: String
        var subject: String
        var party: String
        var state: String
        var stateLabel: String
        var deadline: String
        var overdue: Bool
        var urgent: Bool
        var revocation: String?
    }

    /// A titled table of documents; the list, search and home pages show one or more.
    struct Section: Encodable {
        var id: String
        var title: String?
        var rows: [Row]
    }

    struct ListBody: Encodable {
        var direction: String
        var q: String?
        var state: String?
        var states: [Option]
        var sections: [Section]
        var pager: Pager
        var canCreate: Bool
        var total: Int
        /// More documents match than were counted (``OfficeService/countCap``).
        var capped: Bool
    }

    struct Option: Encodable {
        var value: String
        var label: String
        var selected: Bool
    }

    static func stateLabel(_ req: Request, _ doc: OfficeDocument) -> String {
        req.t("office.state.\(doc.direction == .incoming ? "in" : "out").\(doc.state)")
    }

    static func row(_ req: Request, _ doc: OfficeDocument, today: CivilDate) -> Row {
        let deadline = doc.deadline.flatMap { try? CivilDate(parsing: $0) }
        let open = doc.direction == .incoming && !["done", "rejected"].contains(doc.state)
        return Row(id: doc.id?.uuidString.lowercased() ?? "", regNumber: doc.regNumber.map { $0 < 10 ? "0\($0)" : String($0) } ?? "",
                   number: doc.displayNumber ?? "", date: (doc.direction == .incoming ? doc.arrivalDate : doc.promulgationDate) ?? "",
                   typeName: doc.typeName, subject: doc.subject,
                   party: doc.direction == .incoming ? (doc.senderName ?? "") : doc.recipientCodes.joined(separator: ", "),
                   state: doc.state, stateLabel: stateLabel(req, doc), deadline: deadline.map(\.iso) ?? "",
                   overdue: open && deadline.map { $0 < today } == true, urgent: doc.urgency >= 1, revocation: doc.revocation)
    }

    func list(_ req: Request, direction: OfficeDirection) async throws -> Response {
        let actor = try await Self.actor(req)
        let page = try req.queryInt("page", default: 1, range: 1...100_000)
        let q = try req.queryText("q")
        let stateValues = direction == .incoming ? IncomingState.allCases.map(\.rawValue) : OutgoingState.allCases.map(\.rawValue)
        let state = try req.queryText("state")
        if let state, !stateValues.contains(state) {
            throw GovError("query_invalid", .invalid, vi: "Trạng thái lọc không hợp lệ.", en: "Invalid state filter.")
        }
        let result = try await req.office.list(.init(direction: direction, state: state, text: q, page: page), for: actor)
        let today = CivilDate.today()
        let key = direction == .incoming ? "in" : "out"
        let body = ListBody(
            direction: key, q: q, state: state,
            states: stateValues.map { Option(value: $0, label: req.t("office.state.\(key).\($0)"), selected: $0 == state) },
            sections: [Section(id: "office-list", rows: result.documents.map { Self.row(req, $0, today: today) })],
            pager: Pager(path: "/office/\(direction == .incoming ? "incoming" : "outgoing")", page: page, perPage: 50,
                         total: result.total, params: ["q": q, "state": state]),
            canCreate: direction == .incoming ? actor.roles.contains(.clerk) : true, total: result.total,
            capped: result.totalIsCapped)
        return try await req.renderPage("office/list", title: direction == .incoming ? "office.incoming.title" : "office.outgoing.title", body)
    }

    @Sendable func incoming(req: Request) async throws -> Response { try await list(req, direction: .incoming) }
    @Sendable func outgoing(req: Request) async throws -> Response { try await list(req, direction: .outgoing) }

    struct SearchBody: Encodable {
        var q: String?
        var sections: [Section]
        var searched: Bool
    }

    @Sendable func search(req: Request) async throws -> Response {
        let actor = try await Self.actor(req)
        let q = try req.queryText("q")
        let today = CivilDate.today()
        var incoming: [Row] = [], outgoing: [Row] = []
        if let q {
            incoming = try await req.office.list(.init(direction: .incoming, text: q, perPage: 20, countTotal: false), for: actor).documents
                .map { Self.row(req, $0, today: today) }
            outgoing = try await req.office.list(.init(direction: .outgoing, text: q, perPage: 20, countTotal: false), for: actor).documents
                .map { Self.row(req, $0, today: today) }
        }
        return try await req.renderPage("office/search", title: "office.search.title",
                                        SearchBody(q: q, sections: [
                                            Section(id: "search-incoming", title: req.t("office.incoming.title"), rows: incoming),
                                            Section(id: "search-outgoing", title: req.t("office.outgoing.title"), rows: outgoing),
                                        ], searched: q != nil))
    }

    struct HomeBody: Encodable {
        var sections: [Section]
    }

    /// What waits for this person: the clerk's arrivals and approved drafts to number, the
    /// leader's registered documents and drafts to approve, the specialist's assigned work.
    @Sendable func home(req: Request) async throws -> Response {
        let actor = try await Self.actor(req)
        let body = try await Self.waiting(req, actor)
        return try await req.renderPage("office/home", title: "office.home.title", body)
    }

    static func waiting(_ req: Request, _ actor: OfficeActor) async throws -> HomeBody {
        let today = CivilDate.today()
        // What waits for each role, one query per direction.
        var waitingStates: [OfficeDirection: [String]] = [:]
        if actor.roles.contains(.clerk) {
            waitingStates[.incoming, default: []] += ["arrived"]
            waitingStates[.outgoing, default: []] += ["approved", "numbered"]
        }
        if actor.roles.contains(.leader) {
            waitingStates[.incoming, default: []] += ["registered"]
            waitingStates[.outgoing, default: []] += ["draft"]
        }
        if actor.roles.contains(.specialist) { waitingStates[.incoming, default: []] += ["assigned", "processing"] }
        var waiting: [OfficeDocument] = []
        for direction in [OfficeDirection.incoming, .outgoing] {
            guard let states = waitingStates[direction] else { continue }
            waiting += try await req.office.list(.init(direction: direction, states: states, perPage: 20, countTotal: false),
                                                 for: actor).documents
        }
        let overdue = try await req.office.openIncoming(for: actor, deadline: .before(today), limit: 20)
        let drafts = try await req.office.list(.init(direction: .outgoing, state: "draft", perPage: 10, countTotal: false), for: actor).documents
            .filter { $0.createdBy == actor.username }
        return HomeBody(sections: [
            Section(id: "office-waiting", title: req.t("office.home.waiting"), rows: waiting.map { row(req, $0, today: today) }),
            Section(id: "office-overdue", title: req.t("office.home.overdue"), rows: overdue.map { row(req, $0, today: today) }),
            Section(id: "office-drafts", title: req.t("office.home.drafts"), rows: drafts.map { row(req, $0, today: today) }),
        ])
    }

    // MARK: document

    struct Fact: Encodable {
        var label: String
        var value: String
    }

    struct FileRow: Encodable {
        var id: String
        var name: String
        var size: Int
    }

    struct HistoryRow: Encodable {
        var at: String
        var actor: String
        var action: String
        var note: String?
    }

    struct MatrixRow: Encodable {
        var agency: String
        var cells: [String]
    }

    struct OutboxRow: Encodable {
        var kind: String
        var state: String
        var error: String?
        var at: String
    }

    struct Person: Encodable {
        var username: String
        var fullName: String
    }

    struct DocumentBody: Encodable {
        var id: String
        var direction: String
        var subject: String
        var stateLabel: String
        var revocation: String?
        var revocationLabel: String?
        var facts: [Fact]
        var content: String
        var files: [FileRow]
        var history: [HistoryRow]
        var assignments: [Fact]
        var matrixCodes: [Fact]
        var matrix: [MatrixRow]
        var outbox: [OutboxRow]
        var checkNote: String?
        var actions: [String: Bool]
        var units: [Option]
        var specialists: [Person]
        var agencyAbbreviation: String
        var unitAbbreviation: String
        var today: String
        /// The work files the document is filed in.
        var workFiles: [Fact]
    }

    @Sendable func show(req: Request) async throws -> Response {
        let actor = try await Self.actor(req)
        let id = try Self.documentID(req)
        let doc = try await req.office.document(id, for: actor)
        return try await renderDocument(req, doc, actor: actor)
    }

    func renderDocument(_ req: Request, _ doc: OfficeDocument, actor: OfficeActor) async throws -> Response {
        let office = req.office
        var facts: [Fact] = []
        func fact(_ key: String, _ value: String?) {
            if let value, !value.isEmpty { facts.append(Fact(label: req.t(key), value: value)) }
        }
        fact("office.field.reg_number", doc.regNumber.map { "\($0 < 10 ? "0" : "")\($0) (\(doc.registerCode)/\(doc.year)\(doc.secret ? "/mật" : ""))" })
        fact("office.field.number", doc.displayNumber.map { "Số: \($0)" })
        fact("office.field.type", doc.typeName)
        fact("office.field.sender", doc.senderName.map { n in doc.senderCode.map { "\(n) (\($0))" } ?? n })
        fact("office.field.arrival", doc.arrivalDate)
        fact("office.field.promulgation", doc.promulgationDate)
        fact("office.field.signer", [doc.competence, doc.signerPosition, doc.signerName].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " "))
        fact("office.field.recipients", doc.direction == .outgoing ? doc.recipientCodes.joined(separator: ", ") : nil)
        fact("office.field.places", doc.places)
        fact("office.field.urgency", doc.urgency > 0 ? req.t("office.urgency.\(doc.urgency)") : nil)
        fact("office.field.lead_unit", doc.leadUnit)
        fact("office.field.coordinating", doc.coordinatingUnits)
        fact("office.field.deadline", doc.deadline)
        fact("office.field.opinion", doc.opinion)
        fact("office.field.specialist", doc.specialist)
        fact("office.field.rejection", doc.rejectionReason)
        fact("office.field.edxml_id", doc.edxmlDocumentID)

        let statuses = doc.direction == .outgoing ? try await office.statuses(of: doc) : []
        let codes = ["01", "02", "03", "04", "05", "06", "15", "16"]
        let matrix = doc.recipientCodes.map { agency in
            MatrixRow(agency: agency, cells: codes.map { code in
                statuses.first { $0.agencyCode == agency && $0.code == code }.map { DisplayTime.format($0.at) } ?? ""
            })
        }
        let assignments = try await office.assignments(of: doc).map {
            Fact(label: "\($0.unit) (\(req.t("office.assign.\($0.role)")))", value: $0.deadline ?? "—")
        }
        let state = doc.state
        let roles = actor.roles
        var actions: [String: Bool] = [:]
        if doc.direction == .incoming {
            actions["accept"] = state == "arrived" && roles.contains(.clerk)
            actions["reject"] = state == "arrived" && roles.contains(.clerk)
            actions["assign"] = ["registered", "assigned"].contains(state) && roles.contains(.leader)
            actions["specialist"] = ["assigned", "processing"].contains(state) && roles.contains(.leader)
            actions["start"] = state == "assigned" && !roles.isDisjoint(with: [.specialist, .leader])
            actions["finish"] = ["assigned", "processing"].contains(state) && !roles.isDisjoint(with: [.specialist, .leader, .clerk])
            actions["revocation"] = doc.revocation == "requested" && roles.contains(.clerk)
        } else {
            actions["approve"] = state == "draft" && roles.contains(.leader)
            actions["number"] = state == "approved" && roles.contains(.clerk)
            actions["send"] = state == "numbered" && roles.contains(.clerk)
            actions["revoke"] = state == "sent" && doc.revocation == nil && !doc.recipientCodes.isEmpty && roles.contains(.clerk)
            actions["update"] = actions["revoke"]
            actions["replace"] = actions["revoke"]
        }
        var units: [Option] = [], specialists: [Person] = []
        var agencyAbbreviation = "", unitAbbreviation = ""
        if let agency = try await req.agencies.find(code: doc.agencyCode) {
            if actions["assign"] == true {
                units = try await req.agencies.departments(of: agency).map { Option(value: $0.code, label: "\($0.code) — \($0.name)", selected: $0.code == doc.leadUnit) }
            }
            agencyAbbreviation = OfficeService.notationAbbreviation(name: agency.name, shortName: agency.shortName)
        }
        if actions["specialist"] == true {
            specialists = try await req.accounts.members(ofAgencyCode: doc.agencyCode).filter { $0.roles.contains(.specialist) }
                .map { Person(username: $0.username, fullName: $0.fullName) }
        }
        unitAbbreviation = actor.unit ?? ""
        let body = DocumentBody(
            id: doc.id?.uuidString.lowercased() ?? "", direction: doc.direction == .incoming ? "in" : "out", subject: doc.subject,
            stateLabel: Self.stateLabel(req, doc), revocation: doc.revocation,
            revocationLabel: doc.revocation.map { req.t("office.revocation.\($0)") }, facts: facts, content: doc.content,
            files: try await office.attachments(of: doc).map { FileRow(id: $0.id?.uuidString.lowercased() ?? "", name: $0.name, size: $0.size) },
            history: try await office.history(of: doc).map {
                HistoryRow(at: DisplayTime.format($0.at), actor: $0.actor, action: req.t("office.action.\($0.action)"), note: $0.note)
            },
            assignments: assignments,
            matrixCodes: codes.map { code in
                Fact(label: code, value: StatusCode(rawValue: code).map { req.language == .vi ? $0.officialDescription : $0.englishDescription } ?? code)
            },
            matrix: matrix,
            outbox: try await office.outbox(of: doc).map {
                OutboxRow(kind: $0.kind, state: req.t("office.outbox.\($0.state)"), error: $0.lastError, at: DisplayTime.format($0.createdAt))
            },
            checkNote: doc.checkNote, actions: actions, units: units, specialists: specialists,
            agencyAbbreviation: agencyAbbreviation, unitAbbreviation: unitAbbreviation, today: CivilDate.today().iso,
            workFiles: try await req.workFiles.files(containing: try doc.requireID(), for: actor).map {
                Fact(label: "\($0.code) (\($0.year))", value: $0.id?.uuidString.lowercased() ?? "")
            })
        return try await req.renderPage("office/document", title: "office.document.title", body)
    }

    static func documentID(_ req: Request) throws -> UUID {
        guard let id = req.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw OfficeService.notFound }
        return id
    }

    @Sendable func download(req: Request) async throws -> Response {
        let actor = try await Self.actor(req)
        let doc = try await req.office.document(try Self.documentID(req), for: actor)
        guard let fileID = req.parameters.get("file").flatMap(UUID.init(uuidString:)) else { throw OfficeService.notFound }
        let file = try await req.office.attachment(fileID, of: doc)
        return .download(file.data, contentType: file.contentType, filename: file.name)
    }

    // MARK: steps

    struct StepForm: Content {
        var reason: String?
        var lead_unit: String?
        var coordinating_units: [String]?
        var deadline: String?
        var coordinating_deadline: String?
        /// The lead unit's deadline as a number of working days from today, when no date is given.
        /// Text, because a browser sends the empty box as `deadline_days=`.
        var deadline_days: String?
        var opinion: String?
        var specialist: String?
        var decision: String?
        var subject: String?
        var content: String?
        var agency_abbreviation: String?
        var unit_abbreviation: String?
    }

    func step(_ req: Request, _ name: String) async throws -> Response {
        let actor = try await Self.actor(req)
        let id = try Self.documentID(req)
        let form = try req.content.decode(StepForm.self)
        let office = req.office
        switch name {
        case "accept": _ = try await office.take(.accept, on: id, by: actor)
        case "reject": _ = try await office.take(.reject(reason: form.reason ?? ""), on: id, by: actor)
        case "assign":
            let lead = (form.lead_unit ?? "").trimmingCharacters(in: .whitespaces)
            let coordinating = (form.coordinating_units ?? []).filter { !$0.isEmpty }
            var deadlines: [String: CivilDate] = [:]
            if let text = form.deadline, !text.isEmpty, !lead.isEmpty {
                deadlines[lead] = try CivilDate(parsing: text)
            } else if let text = form.deadline_days?.trimmingCharacters(in: .whitespaces), !text.isEmpty, !lead.isEmpty {
                guard let days = Int(text), (1...365).contains(days) else {
                    throw GovError("office_deadline_days_invalid", .invalid, vi: "Số ngày làm việc phải từ 1 đến 365.",
                                   en: "The number of working days must be from 1 to 365.")
                }
                deadlines[lead] = req.workingCalendar.adding(workingDays: days, to: CivilDate.today())
            }
            if let text = form.coordinating_deadline, !text.isEmpty {
                let date = try CivilDate(parsing: text)
                for unit in coordinating { deadlines[unit] = date }
            }
            let assignment = IncomingAssignment(leadUnit: lead, coordinatingUnits: coordinating, deadlines: deadlines,
                                                opinion: (form.opinion ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
            _ = try await office.take(.assign(assignment), on: id, by: actor)
        case "specialist":
            try await office.assignSpecialist(form.specialist ?? "", on: id, by: actor, accounts: req.accounts)
        case "start": _ = try await office.take(.startProcessing, on: id, by: actor)
        case "finish": _ = try await office.take(.finish, on: id, by: actor)
        case "revocation":
            guard let decision = form.decision, ["agree", "refuse"].contains(decision) else {
                throw GovError("office_decision_invalid", .invalid, vi: "Chọn đồng ý hoặc từ chối.", en: "Choose agree or refuse.")
            }
            try await office.answerRevocation(agree: decision == "agree", on: id, reason: form.reason, by: actor)
        case "approve": try await office.approve(id, by: actor)
        case "number":
            _ = try await office.assignNumber(id, agencyAbbreviation: (form.agency_abbreviation ?? "").trimmingCharacters(in: .whitespaces),
                                              unitAbbreviation: form.unit_abbreviation?.trimmingCharacters(in: .whitespaces), by: actor)
        case "send": try await office.send(id, by: actor)
        case "revoke": try await office.revoke(id, reason: form.reason ?? "", by: actor)
        case "update":
            try await office.sendUpdate(id, subject: form.subject ?? "", content: form.content ?? "", reason: form.reason ?? "", by: actor)
        default: throw OfficeService.notFound
        }
        req.flash("success", "office.flash.\(name)")
        return req.redirect(to: "/office/documents/\(id.uuidString.lowercased())", redirectType: .normal)
    }

    /// Starts a replacement of a sent document: a new draft that goes through approval and numbering.
    @Sendable func replace(req: Request) async throws -> Response {
        let actor = try await Self.actor(req)
        let draft = try await req.office.startReplacement(of: try Self.documentID(req), by: actor)
        req.flash("success", "office.flash.replace")
        return req.redirect(to: "/office/documents/\(try draft.requireID().uuidString.lowercased())", redirectType: .normal)
    }

    // MARK: new documents

    struct FormBody: Encodable {
        var types: [Option]
        var agencies: [Option]
        var competences: [String]
        var today: String
    }

    func formBody(_ req: Request, actor: OfficeActor) async throws -> FormBody {
        let agencies = try await req.agencies.search(.init(state: .active, page: 1, perPage: 500)).agencies
            .filter { $0.code != actor.agencyCode }
            .map { Option(value: $0.code, label: "\($0.name) (\($0.code))", selected: false) }
        return FormBody(types: OfficeRules.DocumentType.all.map { Option(value: $0.id, label: $0.name, selected: $0.id == "CV") },
                        agencies: agencies, competences: OfficeService.competences, today: CivilDate.today().iso)
    }

    @Sendable func paperForm(req: Request) async throws -> Response {
        let actor = try await Self.actor(req)
        guard actor.roles.contains(.clerk) else { throw OfficeService.roleMissing([.clerk]) }
        return try await req.renderPage("office/incoming_new", title: "office.paper.title", try await formBody(req, actor: actor))
    }

    @Sendable func draftForm(req: Request) async throws -> Response {
        let actor = try await Self.actor(req)
        return try await req.renderPage("office/outgoing_new", title: "office.draft.title", try await formBody(req, actor: actor))
    }

    struct PaperForm: Content {
        var sender: String?
        var number: String?
        var type: String?
        var subject: String?
        var promulgation_date: String?
        var urgency: Int?
        var secret: String?
        var scan: File?
    }

    static func uploaded(_ file: File?) -> OfficeService.UploadedFile? {
        guard let file, file.data.readableBytes > 0, !file.filename.isEmpty else { return nil }
        return .init(name: file.filename, contentType: file.contentType?.description ?? "application/octet-stream",
                     data: Data(buffer: file.data))
    }

    @Sendable func registerPaper(req: Request) async throws -> Response {
        // The media type first, as every form does: a body of the wrong type is 415 for anyone.
        try req.requireMultipartForm()
        let actor = try await Self.actor(req)
        let form = try req.content.decode(PaperForm.self)
        let date = try form.promulgation_date.flatMap { $0.isEmpty ? nil : $0 }.map { try CivilDate(parsing: $0) }
        let doc = try await req.office.registerPaper(.init(
            senderName: form.sender ?? "", codeNumber: form.number ?? "", typeCode: form.type ?? "", subject: form.subject ?? "",
            promulgationDate: date, urgency: min(max(form.urgency ?? 0, 0), 4), secret: form.secret == "on",
            scan: Self.uploaded(form.scan)), by: actor)
        req.flash("success", "office.flash.registered")
        return req.redirect(to: "/office/documents/\(doc.id!.uuidString.lowercased())", redirectType: .normal)
    }

    struct DraftForm: Content {
        var type: String?
        var subject: String?
        var content: String?
        var signer_name: String?
        var signer_position: String?
        var competence: String?
        var recipients: [String]?
        var places: String?
        var urgency: Int?
        var secret: String?
        var files: [File]?
    }

    @Sendable func createDraft(req: Request) async throws -> Response {
        // The media type first, as every form does: a body of the wrong type is 415 for anyone.
        try req.requireMultipartForm()
        let actor = try await Self.actor(req)
        let form = try req.content.decode(DraftForm.self)
        let doc = try await req.office.createDraft(.init(
            typeCode: form.type ?? "", subject: form.subject ?? "", content: form.content ?? "",
            signerName: form.signer_name ?? "", signerPosition: form.signer_position ?? "", competence: form.competence ?? "",
            recipients: form.recipients ?? [], places: form.places ?? "", urgency: form.urgency ?? 0, secret: form.secret == "on",
            files: (form.files ?? []).compactMap(Self.uploaded)), by: actor, directory: req.agencies)
        req.flash("success", "office.flash.drafted")
        return req.redirect(to: "/office/documents/\(doc.id!.uuidString.lowercased())", redirectType: .normal)
    }

    // MARK: registers

    struct RegisterBody: Encodable {
        var direction: String
        var year: Int
        var rows: [OfficeService.RegisterRow]
        var printable: Bool
        var agencyName: String?
    }

    /// The incoming or outgoing register of a year (Decree 30/2020 Appendix IV columns), as a
    /// page, a printable page (`?format=print`) or CSV (`?format=csv`).
    @Sendable func register(req: Request) async throws -> Response {
        let actor = try await Self.actor(req)
        guard actor.seesAll else { throw OfficeService.roleMissing([.clerk, .leader]) }
        let direction: OfficeDirection
        let year = try req.queryInt("year", default: CivilDate.today().year, range: 2000...2100)
        let format = try req.queryText("format") ?? "page"
        guard ["page", "print", "csv"].contains(format) else {
            throw GovError("query_invalid", .invalid, vi: "Định dạng phải là page, print hoặc csv.", en: "Format must be page, print or csv.")
        }
        switch req.parameters.get("direction") {
        case "incoming": direction = .incoming
        case "outgoing": direction = .outgoing
        case "followup": return try await followUp(req, actor: actor, year: year, format: format)
        default: throw OfficeService.notFound
        }
        let rows = try await req.office.register(direction, year: year, for: actor)
        if format == "csv" {
            return .csvDownload(OfficeService.registerCSV(rows, direction: direction),
                                filename: "so-van-ban-\(direction == .incoming ? "den" : "di")-\(year).csv")
        }
        let body = RegisterBody(direction: direction == .incoming ? "in" : "out", year: year, rows: rows, printable: format == "print",
                                agencyName: req.currentAgencyName)
        return try await req.renderPage("office/register",
                                        title: direction == .incoming ? "office.register.in" : "office.register.out", body)
    }

    // MARK: deadlines, follow-up, counts

    struct DeadlinesBody: Encodable {
        var scope: String
        var scopes: [Option]
        var overdue: [OfficeService.FollowUpRow]
        var dueSoon: [OfficeService.FollowUpRow]
        var today: String
    }

    /// Overdue and due-soon incoming documents of the person, their unit or the agency.
    @Sendable func deadlines(req: Request) async throws -> Response {
        let actor = try await Self.actor(req)
        let scope = try req.queryText("scope") ?? (actor.seesAll ? "agency" : "me")
        guard ["me", "unit", "agency"].contains(scope) else {
            throw GovError("query_invalid", .invalid, vi: "Phạm vi phải là me, unit hoặc agency.", en: "Scope must be me, unit or agency.")
        }
        let today = CivilDate.today()
        let (overdue, dueSoon) = try await req.office.deadlines(for: actor, scope: scope, today: today, calendar: req.workingCalendar)
        return try await req.renderPage("office/deadlines", title: "office.deadlines.title", DeadlinesBody(
            scope: scope, scopes: ["me", "unit", "agency"].map { Option(value: $0, label: req.t("office.scope.\($0)"), selected: $0 == scope) },
            overdue: overdue.map { Self.translated(req, $0) }, dueSoon: dueSoon.map { Self.translated(req, $0) }, today: today.iso))
    }

    static func translated(_ req: Request, _ row: OfficeService.FollowUpRow) -> OfficeService.FollowUpRow {
        var row = row
        row.progress = req.t("office.progress.\(row.progress)")
        row.state = req.t("office.state.in.\(row.state)")
        if !row.note.isEmpty { row.note = req.t("office.revocation.\(row.note)") }
        return row
    }

    struct FollowUpBody: Encodable {
        var year: Int
        var rows: [OfficeService.FollowUpRow]
        var printable: Bool
        var agencyName: String?
    }

    /// The follow-up register (sổ theo dõi giải quyết văn bản đến) of a year: page, print or CSV.
    func followUp(_ req: Request, actor: OfficeActor, year: Int, format: String) async throws -> Response {
        let rows = try await req.office.followUpRegister(year: year, for: actor, today: CivilDate.today(), calendar: req.workingCalendar)
            .map { Self.translated(req, $0) }
        if format == "csv" {
            let header = ["Số đến", "Tên loại, số ký hiệu, ngày tháng, cơ quan ban hành, trích yếu", "Đơn vị hoặc người nhận",
                          "Thời hạn giải quyết", "Tiến độ giải quyết", "Số ngày làm việc quá hạn", "Ghi chú"]
            let cells = rows.map { [$0.regNumber, $0.document, $0.handler, $0.deadline, "\($0.state) — \($0.progress)", String($0.lateDays), $0.note] }
            return .csvDownload(CSVText.write([header] + cells, forSpreadsheet: true), filename: "so-theo-doi-giai-quyet-\(year).csv")
        }
        return try await req.renderPage("office/followup", title: "office.register.followup",
                                        FollowUpBody(year: year, rows: rows, printable: format == "print", agencyName: req.currentAgencyName))
    }

    struct StatisticsBody: Encodable {
        var from: String
        var to: String
        var rows: [OfficeService.PeriodCounts]
    }

    /// Received, handled and overdue incoming documents of a period, for the agency and per unit.
    @Sendable func statistics(req: Request) async throws -> Response {
        let actor = try await Self.actor(req)
        guard actor.seesAll else { throw OfficeService.roleMissing([.clerk, .leader]) }
        let today = CivilDate.today()
        let from = try req.queryText("from").map { try CivilDate(parsing: $0) } ?? CivilDate(year: today.year, month: today.month, day: 1) ?? today
        let to = try req.queryText("to").map { try CivilDate(parsing: $0) } ?? today
        guard from <= to else {
            throw GovError("office_period_invalid", .invalid, vi: "Ngày bắt đầu phải trước ngày kết thúc.", en: "The period must start before it ends.")
        }
        let rows = try await req.office.counts(from: from, to: to, for: actor, calendar: req.workingCalendar)
        return try await req.renderPage("office/statistics", title: "office.statistics.title",
                                        StatisticsBody(from: from.iso, to: to.iso, rows: rows))
    }
}
