import Fluent
import Foundation
import GovCore
import OfficeRules
import Vapor

/// The work files' pages, inside the office: the list of the year's files, opening a file, a file with
/// its documents (add by id or pasted office link, remove), closing, and the closed file's list of
/// documents for printing. Who may do what is the office's (`OfficeController.actor`) and
/// `WorkFileService`'s.
struct WorkFileController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let files = routes.grouped(RequireSignInMiddleware()).grouped("office", "files")
        files.get(use: list)
        files.get("new", use: newForm)
        files.post(use: create)
        files.get(":id", use: show)
        files.post(":id", "documents", use: addDocument)
        files.post(":id", "documents", ":doc", "remove", use: removeDocument)
        files.post(":id", "close", use: close)
    }

    struct Option: Encodable {
        var value: String
        var label: String
        var selected: Bool
    }

    static func stateLabel(_ req: Request, _ file: WorkFile) -> String {
        req.t("workfiles.state.\(file.fileState.rawValue)")
    }

    static func retentionLabel(_ req: Request, _ retention: WorkFileRetention) -> String {
        switch retention {
        case .permanent: req.t("workfiles.retention.permanent")
        case .years(let years): req.t("workfiles.retention.years", ["n": String(years)])
        }
    }

    static func fileID(_ req: Request) throws -> UUID {
        guard let id = req.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw WorkFileService.notFound }
        return id
    }

    static let queryInvalid = GovError("query_invalid", .invalid,
                                       vi: "Bộ lọc hồ sơ không hợp lệ.", en: "Invalid work file filter.")

    // MARK: List

    struct FileRow: Encodable {
        var id: String
        var code: String
        var title: String
        var year: Int
        var owner: String
        var retention: String
        var state: String
        var stateLabel: String
        var documents: Int
    }

    struct ListBody: Encodable {
        var rows: [FileRow]
        var year: String
        var states: [Option]
        var total: Int
    }

    @Sendable func list(req: Request) async throws -> Response {
        let actor = try await OfficeController.actor(req)
        var year: Int?
        if let text = try req.queryText("year", maxLength: 10) {
            guard let value = Int(text), (2000...2100).contains(value) else { throw Self.queryInvalid }
            year = value
        }
        var state: WorkFileState?
        if let text = try req.queryText("state", maxLength: 20) {
            guard let value = WorkFileState(rawValue: text) else { throw Self.queryInvalid }
            state = value
        }
        let listed = try await req.workFiles.list(.init(year: year, state: state), for: actor)
        let rows = listed.map { item in
            FileRow(id: item.file.id?.uuidString.lowercased() ?? "", code: item.file.code, title: item.file.title,
                    year: item.file.year, owner: item.file.ownerUsername, retention: Self.retentionLabel(req, item.file.retention),
                    state: item.file.state, stateLabel: Self.stateLabel(req, item.file), documents: item.documents)
        }
        let body = ListBody(rows: rows, year: year.map(String.init) ?? "",
                            states: WorkFileState.allCases.map {
                                Option(value: $0.rawValue, label: req.t("workfiles.state.\($0.rawValue)"), selected: $0 == state)
                            },
                            total: rows.count)
        return try await req.renderPage("workfiles/list", title: "workfiles.title", body)
    }

    // MARK: Opening a file

    struct NewBody: Encodable {
        var code: String
        var title: String
        var year: String
        var note: String
        var retentions: [Option]
        var error: String?
        var errorCode: String?
    }

    struct NewForm: Content {
        var code: String?
        var title: String?
        var year: String?
        var retention: String?
        var note: String?
    }

    /// The terms the form offers (Circular 10/2022 uses these most); the service takes any 1…100.
    static let retentionChoices = ["permanent", "70", "50", "30", "20", "15", "10", "5", "2"]

    private func renderNew(_ req: Request, form: NewForm, error: GovError? = nil) async throws -> Response {
        let chosen = form.retention ?? "permanent"
        let body = NewBody(
            code: form.code ?? "", title: form.title ?? "", year: form.year ?? String(CivilDate.today().year),
            note: form.note ?? "",
            retentions: Self.retentionChoices.map { value in
                let label = value == "permanent" ? req.t("workfiles.retention.permanent")
                    : req.t("workfiles.retention.years", ["n": value])
                return Option(value: value, label: label, selected: value == chosen)
            },
            error: error?.message(in: req.language), errorCode: error?.code)
        return try await req.renderPage("workfiles/new", title: "workfiles.new.title", body,
                                        status: error.map { AppErrorMiddleware.status(of: $0.kind) } ?? .ok)
    }

    @Sendable func newForm(req: Request) async throws -> Response {
        _ = try await OfficeController.actor(req)
        return try await renderNew(req, form: NewForm())
    }

    // The form handlers decode before they authorise, like the office's and the calendar's: a body of
    // the wrong type is a 415 for everyone, whatever their rights.
    @Sendable func create(req: Request) async throws -> Response {
        let form = try req.content.decode(NewForm.self)
        let actor = try await OfficeController.actor(req)
        do {
            let yearText = (form.year ?? "").trimmingCharacters(in: .whitespaces)
            let year: Int
            if yearText.isEmpty {
                year = CivilDate.today().year
            } else {
                guard let value = Int(yearText) else { throw WorkFileService.yearInvalid }
                year = value
            }
            let file = try await req.workFiles.create(.init(code: form.code ?? "", title: form.title ?? "", year: year,
                                                            retention: form.retention ?? "", note: form.note ?? ""),
                                                      by: actor)
            req.flash("success", "workfiles.flash.created")
            return req.redirect(to: "/office/files/\(try file.requireID().uuidString.lowercased())", redirectType: .normal)
        } catch let error as GovError where error.kind == .invalid || error.kind == .conflict {
            return try await renderNew(req, form: form, error: error)
        }
    }

    // MARK: One file

    struct DocumentRow: Encodable {
        var id: String
        var position: Int
        var direction: String
        var regNumber: String
        var number: String
        var date: String
        var typeName: String
        var subject: String
        var visible: Bool
        var addedBy: String
        var addedAt: String
    }

    struct ShowBody: Encodable {
        var id: String
        var code: String
        var title: String
        var year: Int
        var owner: String
        var retention: String
        var state: String
        var stateLabel: String
        var isOpen: Bool
        var note: String?
        var createdAt: String
        var closedAt: String?
        var closedBy: String?
        var documents: [DocumentRow]
        var index: [DocumentRow]
        var documentInput: String
        var agencyName: String?
        var error: String?
        var errorCode: String?
    }

    static func directionLabel(_ req: Request, _ direction: String) -> String {
        req.t(direction == "in" ? "workfiles.direction.in" : "workfiles.direction.out")
    }

    private func renderFile(_ req: Request, _ file: WorkFile, actor: OfficeActor, printable: Bool = false,
                            documentInput: String = "", error: GovError? = nil) async throws -> Response {
        let service = req.workFiles
        // Numbered 1, 2, … as listed: positions keep the filing order but have gaps after a removal.
        let documents = try await service.documents(of: file, for: actor).enumerated().map { number, entry in
            let summary = entry.summary
            return DocumentRow(
                id: entry.documentID.uuidString.lowercased(), position: number + 1,
                direction: summary.map { Self.directionLabel(req, $0.direction) } ?? "",
                regNumber: summary?.regNumber.map { $0 < 10 ? "0\($0)" : String($0) } ?? "", number: summary?.number ?? "",
                date: summary?.date ?? "", typeName: summary?.typeName ?? "",
                subject: summary?.subject ?? req.t("workfiles.document.hidden"), visible: summary != nil,
                addedBy: entry.addedBy, addedAt: DisplayTime.format(entry.addedAt))
        }
        let index = try await service.index(of: file).map { line in
            DocumentRow(id: line.documentID.uuidString.lowercased(), position: line.position,
                        direction: Self.directionLabel(req, line.direction), regNumber: line.regNumber ?? "",
                        number: line.number ?? "", date: line.date ?? "", typeName: line.typeName, subject: line.subject,
                        visible: true, addedBy: "", addedAt: "")
        }
        let body = ShowBody(
            id: try file.requireID().uuidString.lowercased(), code: file.code, title: file.title, year: file.year,
            owner: file.ownerUsername, retention: Self.retentionLabel(req, file.retention), state: file.state,
            stateLabel: Self.stateLabel(req, file), isOpen: file.isOpen, note: file.note,
            createdAt: file.createdAt.map { DisplayTime.format($0) } ?? "",
            closedAt: file.closedAt.map { DisplayTime.format($0) }, closedBy: file.closedBy,
            documents: documents, index: index, documentInput: documentInput, agencyName: req.currentAgencyName,
            error: error?.message(in: req.language), errorCode: error?.code)
        let status = error.map { AppErrorMiddleware.status(of: $0.kind) } ?? .ok
        return try await req.renderPage(printable ? "workfiles/print" : "workfiles/show", title: "workfiles.file.title",
                                        body, status: status)
    }

    @Sendable func show(req: Request) async throws -> Response {
        let actor = try await OfficeController.actor(req)
        let file = try await req.workFiles.file(try Self.fileID(req), for: actor)
        let format = try req.queryText("format", maxLength: 10) ?? "page"
        guard ["page", "print"].contains(format) else {
            throw GovError("query_invalid", .invalid, vi: "Định dạng phải là page hoặc print.", en: "Format must be page or print.")
        }
        return try await renderFile(req, file, actor: actor, printable: format == "print")
    }

    /// Runs a change of the file and returns to its page; a refused change shows the page again with
    /// the reason and its 4xx status. A file the person may not see stays a plain 404.
    private func change(_ req: Request, input: String = "", flash: String,
                        _ body: @Sendable (OfficeActor, UUID) async throws -> Void) async throws -> Response {
        let actor = try await OfficeController.actor(req)
        let id = try Self.fileID(req)
        _ = try await req.workFiles.file(id, for: actor)
        do {
            try await body(actor, id)
        } catch let error as GovError where error.code != WorkFileService.notFound.code
            && [GovError.Kind.invalid, .conflict, .notFound].contains(error.kind) {
            let file = try await req.workFiles.file(id, for: actor)
            return try await renderFile(req, file, actor: actor, documentInput: input, error: error)
        }
        req.flash("success", flash)
        return req.redirect(to: "/office/files/\(id.uuidString.lowercased())", redirectType: .normal)
    }

    struct AddForm: Content {
        var document: String?
    }

    static let documentInvalid = GovError("work_file_document_id_invalid", .invalid,
                                          vi: "Nhập mã văn bản hoặc dán liên kết của văn bản (/office/documents/…).",
                                          en: "Enter the document's id or paste its link (/office/documents/…).")

    /// The document an add form names: its id, or the office page's link pasted whole
    /// (`https://host/office/documents/<id>`, with or without a query or fragment).
    static func documentID(from input: String) throws -> UUID {
        let text = input.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.count <= 500 else { throw documentInvalid }
        if let id = UUID(uuidString: text) { return id }
        guard let range = text.range(of: "/office/documents/") else { throw documentInvalid }
        let rest = text[range.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let id = UUID(uuidString: String(rest)) else { throw documentInvalid }
        return id
    }

    @Sendable func addDocument(req: Request) async throws -> Response {
        let form = try req.content.decode(AddForm.self)
        let input = form.document ?? ""
        let service = req.workFiles
        return try await change(req, input: input, flash: "workfiles.flash.added") { actor, id in
            try await service.add(document: try Self.documentID(from: input), to: id, by: actor)
        }
    }

    @Sendable func removeDocument(req: Request) async throws -> Response {
        let service = req.workFiles
        let document = req.parameters.get("doc").flatMap(UUID.init(uuidString:))
        return try await change(req, flash: "workfiles.flash.removed") { actor, id in
            guard let document else { throw WorkFileService.notFiled }
            try await service.remove(document: document, from: id, by: actor)
        }
    }

    @Sendable func close(req: Request) async throws -> Response {
        let service = req.workFiles
        return try await change(req, flash: "workfiles.flash.closed") { actor, id in
            _ = try await service.close(id, by: actor)
        }
    }
}
