import Fluent
import Foundation
import GovCore
import Vapor

/// The audit page: administrators filter the trail (system admins: all of it; agency admins:
/// their agency's records) and check the chain.
struct AuditController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let admin = routes.grouped(RequireSignInMiddleware()).grouped("admin", "audit")
        admin.get(use: list)
        admin.get("verify", use: verify)
    }

    struct Row: Encodable {
        var seq: Int64
        var time: String
        var actor: String
        var agencyCode: String?
        var action: String
        var entity: String
        var details: String
        var ip: String?
    }

    struct ListBody: Encodable {
        var action: String?
        var actor: String?
        var agency: String?
        var agencyLocked: Bool
        var rows: [Row]
        var pager: Pager
        var canVerify: Bool
        var verification: String?
        var verificationOK: Bool
    }

    static let forbidden = GovError("forbidden_audit", .forbidden, vi: "Bạn không có quyền xem nhật ký này.",
                                    en: "You may not read this audit log.")

    /// The agency filter, and whether it is fixed (everyone but system admins sees only their own).
    private func agencyScope(_ req: Request, _ principal: Principal) async throws -> (String?, Bool) {
        let asked = try req.queryText("agency")
        if principal.isSystemAdmin { return (asked, false) }
        let agency = try await req.agencies.scope(principal, asked: asked, allowed: AccessPolicy.canViewAudit,
                                                  refusal: Self.forbidden)
        return (agency?.code, true)
    }

    private func page(_ req: Request, verification: ChainedLog.Verification? = nil) async throws -> Response {
        let principal = try req.requirePrincipal()
        let (agency, locked) = try await agencyScope(req, principal)
        let action = try req.queryText("action", maxLength: 100)
        let actor = try req.queryText("actor", maxLength: 100)
        let pageNumber = try req.queryInt("page", default: 1, range: 1...1_000_000)
        var query = AuditRecord.query(on: req.db)
        if let agency { query = query.filter(\.$agencyCode == agency) }
        if let action { query = query.filter(\.$action == action) }
        if let actor { query = query.filter(\.$actor == actor) }
        let total = try await query.count()
        let records = try await query.copy().sort(\.$id, .descending)
            .range(((pageNumber - 1) * 100)..<(pageNumber * 100)).all()
        let rows = records.map {
            Row(seq: $0.id ?? 0, time: DisplayTime.format(Date(timeIntervalSince1970: Double($0.atMillis) / 1000)),
                actor: $0.actor, agencyCode: $0.agencyCode, action: $0.action,
                entity: [$0.entityType, $0.entityID].compactMap { $0 }.joined(separator: " "),
                details: $0.details == "{}" ? "" : $0.details, ip: $0.ip)
        }
        let pager = Pager(path: "/admin/audit", page: pageNumber, perPage: 100, total: total,
                          params: ["action": action, "actor": actor, "agency": locked ? nil : agency])
        var message: String?
        if let verification {
            if let broken = verification.broken {
                message = req.t("audit.verify.broken", ["seq": String(broken.seq), "kind": broken.kind.rawValue])
                    + " " + (req.language == .vi ? broken.vi : broken.en)
            } else {
                message = req.t("audit.verify.ok", ["count": String(verification.checked)])
            }
        }
        return try await req.renderPage("admin/audit", title: "audit.title",
                                        ListBody(action: action, actor: actor, agency: agency, agencyLocked: locked,
                                                 rows: rows, pager: pager, canVerify: principal.isSystemAdmin,
                                                 verification: message, verificationOK: verification?.broken == nil))
    }

    @Sendable func list(req: Request) async throws -> Response {
        try await page(req)
    }

    @Sendable func verify(req: Request) async throws -> Response {
        let principal = try req.requirePrincipal()
        guard AccessPolicy.canViewAudit(ofAgency: nil, principal) else { throw Self.forbidden }
        return try await page(req, verification: try await AuditLog.verify(on: req.db))
    }
}
