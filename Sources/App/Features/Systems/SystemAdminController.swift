import Fluent
import Foundation
import GovCore
import Vapor

/// Admin pages for agency system credentials.
struct SystemAdminController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let admin = routes.grouped(RequireSignInMiddleware()).grouped("admin", "systems")
        admin.get(use: list)
        admin.post(use: create)
        admin.post(":id", "rotate", use: rotate)
        admin.post(":id", "revoke", use: revoke)
    }

    struct Row: Encodable {
        var id: String
        var systemID: String
        var name: String
        var agencyCode: String
        var active: Bool
        var createdAt: String
        var lastUsedAt: String?
    }

    struct ListBody: Encodable {
        var agencyCode: String?
        var agencyName: String?
        var rows: [Row]
        var issuedSystemID: String?
        var issuedSecret: String?
        var error: String?
    }

    private func scope(_ req: Request, _ principal: Principal, code: String?) async throws -> Agency? {
        try await req.agencies.scope(principal, asked: code, allowed: AccessPolicy.canManageSystems, refusal: Self.forbidden)
    }

    static let forbidden = GovError("forbidden_systems", .forbidden,
                                    vi: "Bạn không có quyền quản lý hệ thống kết nối của cơ quan này.",
                                    en: "You may not manage this agency's connected systems.")

    private func render(_ req: Request, agency: Agency?, issued: SystemCredentials.Issued? = nil,
                        error: String? = nil, status: HTTPResponseStatus = .ok) async throws -> Response {
        let systems = try await req.systemCredentials.list(agency: agency)
        let codes = try await req.agencies.codes(of: Set(systems.map { $0.$agency.id }))
        let rows = systems.map {
            Row(id: $0.id?.uuidString ?? "", systemID: $0.systemID, name: $0.name, agencyCode: codes[$0.$agency.id] ?? "",
                active: $0.isActive, createdAt: DisplayTime.format($0.createdAt),
                lastUsedAt: $0.lastUsedAt.map { DisplayTime.format($0) })
        }
        return try await req.renderPage("admin/systems", title: "systems.title",
                                        ListBody(agencyCode: agency?.code, agencyName: agency?.name, rows: rows,
                                                 issuedSystemID: issued?.system.systemID, issuedSecret: issued?.secret,
                                                 error: error), status: status)
    }

    @Sendable func list(req: Request) async throws -> Response {
        let principal = try req.requirePrincipal()
        return try await render(req, agency: try await scope(req, principal, code: try req.queryText("agency")))
    }

    struct CreateForm: Content {
        var agencyCode: String
        var systemID: String
        var name: String
        enum CodingKeys: String, CodingKey {
            case name
            case agencyCode = "agency_code", systemID = "system_id"
        }
    }

    @Sendable func create(req: Request) async throws -> Response {
        let principal = try req.requirePrincipal()
        let form = try req.content.decode(CreateForm.self)
        guard let agency = try await scope(req, principal, code: form.agencyCode.nilIfEmpty) else {
            throw GovError("agency_required", .invalid, vi: "Hãy chọn cơ quan.", en: "Choose an agency.")
        }
        do {
            let issued = try await req.systemCredentials.issue(agency: agency, systemID: form.systemID, name: form.name,
                                                               actor: req.auditActor)
            return try await render(req, agency: agency, issued: issued)
        } catch let error as GovError where error.kind == .invalid || error.kind == .conflict {
            return try await render(req, agency: agency, error: error.message(in: req.language),
                                    status: AppErrorMiddleware.status(of: error.kind))
        }
    }

    private func load(_ req: Request, _ principal: Principal) async throws -> (AgencySystem, Agency) {
        guard let id = req.parameters.get("id", as: UUID.self),
              let system = try await req.systemCredentials.find(id: id),
              let agency = try await req.agencies.find(id: system.$agency.id) else {
            throw GovError("system_not_found", .notFound, vi: "Không tìm thấy hệ thống.", en: "System not found.")
        }
        guard AccessPolicy.canManageSystems(ofAgency: system.$agency.id, principal) else { throw Self.forbidden }
        return (system, agency)
    }

    @Sendable func rotate(req: Request) async throws -> Response {
        let principal = try req.requirePrincipal()
        let (system, agency) = try await load(req, principal)
        let issued = try await req.systemCredentials.rotate(system, agencyCode: agency.code, actor: req.auditActor)
        return try await render(req, agency: agency, issued: issued)
    }

    @Sendable func revoke(req: Request) async throws -> Response {
        let principal = try req.requirePrincipal()
        let (system, agency) = try await load(req, principal)
        try await req.systemCredentials.revoke(system, agencyCode: agency.code, actor: req.auditActor)
        req.flash("success", "systems.flash.revoked", ["system": system.systemID])
        return req.redirect(to: "/admin/systems?agency=\(agency.code.urlPathSegment)")
    }
}
