import Fluent
import Foundation
import GovCore
import Vapor

/// The agency directory's pages (public browse and search; admin import, lock, units).
struct AgencyController: RouteCollection {
    let uploadLimit: Int

    func boot(routes: any RoutesBuilder) throws {
        routes.get("agencies", use: list)
        routes.get("agencies.csv", use: exportCSV)
        routes.get("agencies", ":code", use: show)
        let admin = routes.grouped(RequireSignInMiddleware())
        admin.get("admin", "agencies", "import", use: importForm)
        admin.on(.POST, "admin", "agencies", "import", body: .collect(maxSize: ByteCount(value: uploadLimit)),
                 use: importUpload)
        admin.post("admin", "agencies", ":code", "state", use: changeState)
        admin.post("admin", "agencies", ":code", "departments", use: addDepartment)
    }

    struct Row: Encodable {
        var code: String
        var name: String
        var shortName: String?
        var parentCode: String?
        var level: Int
        var state: String
        var stateLabel: String
        var codeStandard: Bool
        var validTo: String?
    }

    struct ListBody: Encodable {
        var q: String?
        var state: String?
        var rows: [Row]
        var pager: Pager
        var canImport: Bool
    }

    @Sendable func list(req: Request) async throws -> Response {
        let text = try req.queryText("q")
        let stateText = try req.queryText("state")
        let state = try stateText.map { raw -> AgencyState in
            guard let state = AgencyState(rawValue: raw) else {
                throw GovError("query_invalid", .invalid, vi: "Trạng thái không hợp lệ: \(raw).", en: "Invalid state: \(raw).")
            }
            return state
        }
        let page = try req.queryInt("page", default: 1, range: 1...100_000)
        let results = try await req.agencies.search(.init(text: text, state: state, page: page, perPage: 50))
        let rows = results.agencies.map { row($0, req) }
        let pager = Pager(path: "/agencies", page: results.page, perPage: results.perPage, total: results.total,
                          params: ["q": text, "state": stateText])
        let canImport = req.principal.map(AccessPolicy.canManageAgencies) ?? false
        return try await req.renderPage("agencies/list", title: "agencies.title",
                                        ListBody(q: text, state: stateText, rows: rows, pager: pager, canImport: canImport))
    }

    private func row(_ agency: AgencyDTO, _ req: Request) -> Row {
        Row(code: agency.code, name: agency.name, shortName: agency.shortName, parentCode: agency.parentCode,
            level: agency.level, state: agency.state, stateLabel: req.t("agency.state.\(agency.state)"),
            codeStandard: agency.codeStandard, validTo: agency.validTo)
    }

    struct DetailBody: Encodable {
        var agency: AgencyDTO
        var stateLabel: String
        var parentName: String?
        var successorName: String?
        var children: [Row]
        var departments: [DepartmentDTO]
        var canManage: Bool
        var isLocked: Bool
    }

    @Sendable func show(req: Request) async throws -> Response {
        let code = try req.parameters.require("code")
        let directory = req.agencies
        let agency = try await directory.require(code: code)
        let parent = try await agency.parentCode.asyncMap { try await directory.find(code: $0) } ?? nil
        let successor = try await agency.successorCode.asyncMap { try await directory.find(code: $0) } ?? nil
        let children = try await directory.search(.init(parentCode: agency.code, perPage: 500)).agencies
        let departments = try await directory.departments(of: agency)
        let body = DetailBody(
            agency: AgencyDTO(agency), stateLabel: req.t("agency.state.\(agency.state)"),
            parentName: parent?.name, successorName: successor?.name, children: children.map { row($0, req) },
            departments: departments.map(DepartmentDTO.init),
            canManage: req.principal.map(AccessPolicy.canManageAgencies) ?? false,
            isLocked: agency.agencyState == .locked)
        return try await req.renderPage("agencies/show", title: "agencies.detail.title", body)
    }

    @Sendable func exportCSV(req: Request) async throws -> Response {
        .csvDownload(try await req.agencies.exportCSV(), filename: "agencies.csv")
    }

    struct ImportBody: Encodable {
        struct Issue: Encodable {
            var line: Int
            var column: String?
            var code: String
            var message: String
        }
        var done: Bool
        var succeeded: Bool
        var created: Int
        var updated: Int
        var errors: [Issue]
        var warnings: [Issue]
        var columns: String
    }

    private func requireDirectoryAdmin(_ req: Request) throws {
        let principal = try req.requirePrincipal()
        guard AccessPolicy.canManageAgencies(principal) else { throw Forbidden.directory }
    }

    @Sendable func importForm(req: Request) async throws -> Response {
        try requireDirectoryAdmin(req)
        return try await req.renderPage("agencies/import", title: "agencies.import.title",
                                        ImportBody(done: false, succeeded: false, created: 0, updated: 0, errors: [],
                                                   warnings: [], columns: AgencyCSV.columns.joined(separator: ",")))
    }

    struct Upload: Content {
        var file: File
    }

    @Sendable func importUpload(req: Request) async throws -> Response {
        try requireDirectoryAdmin(req)
        try req.requireMultipartForm()
        let upload = try req.content.decode(Upload.self)
        guard let text = String(data: Data(buffer: upload.file.data), encoding: .utf8) else {
            throw GovError("csv_not_utf8", .invalid, vi: "Tệp CSV phải được mã hóa UTF-8.", en: "The CSV file must be UTF-8 encoded.")
        }
        let report = try await req.agencies.importCSV(text, by: req.auditActor)
        let lang = req.language
        func issue(_ i: CSVRowIssue) -> ImportBody.Issue {
            .init(line: i.line, column: i.column, code: i.code, message: lang == .vi ? i.vi : i.en)
        }
        let body = ImportBody(done: true, succeeded: report.succeeded, created: report.created, updated: report.updated,
                              errors: report.errors.map(issue), warnings: report.warnings.map(issue),
                              columns: AgencyCSV.columns.joined(separator: ","))
        return try await req.renderPage("agencies/import", title: "agencies.import.title", body,
                                        status: report.succeeded ? .ok : .unprocessableEntity)
    }

    struct StateForm: Content { var state: String }

    @Sendable func changeState(req: Request) async throws -> Response {
        try requireDirectoryAdmin(req)
        let agency = try await req.agencies.require(code: try req.parameters.require("code"))
        let form = try req.content.decode(StateForm.self)
        guard let state = AgencyState(rawValue: form.state) else {
            throw GovError("agency_state_invalid", .invalid, vi: "Trạng thái không hợp lệ.", en: "Invalid state.")
        }
        try await req.agencies.setState(agency, state, by: req.auditActor)
        req.flash("success", state == .locked ? "agency.flash.locked" : "agency.flash.unlocked")
        return req.redirect(to: "/agencies/\(agency.code.urlPathSegment)")
    }

    struct DepartmentForm: Content {
        var code: String
        var name: String
        var kind: String?
    }

    @Sendable func addDepartment(req: Request) async throws -> Response {
        try requireDirectoryAdmin(req)
        let agency = try await req.agencies.require(code: try req.parameters.require("code"))
        let form = try req.content.decode(DepartmentForm.self)
        _ = try await req.agencies.addDepartment(to: agency, code: form.code, name: form.name,
                                                 kind: form.kind ?? "phong", by: req.auditActor)
        req.flash("success", "agency.flash.department_added")
        return req.redirect(to: "/agencies/\(agency.code.urlPathSegment)")
    }
}

/// Refusals shared by the admin pages.
enum Forbidden {
    static let directory = GovError("forbidden_directory", .forbidden,
                                    vi: "Chỉ quản trị hệ thống được sửa danh bạ cơ quan.",
                                    en: "Only system administrators may change the agency directory.")
}

extension String {
    /// The string as one URL path segment.
    var urlPathSegment: String {
        addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? self
    }
}

extension Optional {
    /// `map` with an async transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        switch self {
        case .some(let value): try await transform(value)
        case .none: nil
        }
    }
}
