import Fluent
import Foundation
import GovCore
import PKI
import Vapor

/// The PKI admin page (system administrators): trusted CAs, CRLs, locally revoked certificates
/// and the certificates bound to agencies, with a form for each change. Everything goes through
/// PKIService, the same code as `govoffice pki …`.
struct PKIAdminController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let admin = routes.grouped(RequireSignInMiddleware()).grouped("admin", "pki")
        admin.get(use: show)
        admin.post("trust", use: trust)
        admin.post("untrust", use: untrust)
        admin.post("crl", use: importCRL)
        admin.post("revoke", use: revoke)
        admin.post("bind", use: bind)
    }

    struct AnchorRow: Encodable {
        var fingerprint: String
        var subject: String
        var notAfter: String
        var isRoot: Bool
        var isDemo: Bool
        var source: String
    }

    struct Body: Encodable {
        var anchors: [AnchorRow]
        var folder: String?
        var crls: [[String]]
        var revoked: [[String]]
        var bindings: [[String]]
        var demoWarning: Bool
        var notice: String?
        var error: String?
    }

    static let forbidden = GovError("forbidden_pki", .forbidden,
                                    vi: "Chỉ quản trị hệ thống được quản lý hạ tầng khóa công khai.",
                                    en: "Only system administrators may manage the PKI.")

    private func requireAdmin(_ req: Request) throws {
        guard try req.requirePrincipal().isSystemAdmin else { throw Self.forbidden }
    }

    private func render(_ req: Request, notice: String? = nil, error: String? = nil,
                        status: HTTPResponseStatus = .ok) async throws -> Response {
        let pki = req.pki
        var anchors: [AnchorRow] = []
        var folderError: String?
        do {
            anchors = try await pki.trustStore().anchors.map {
                AnchorRow(fingerprint: $0.info.sha256Fingerprint, subject: $0.info.subject,
                          notAfter: DisplayTime.format($0.info.notAfter), isRoot: $0.isRoot, isDemo: $0.isDemo,
                          source: $0.source ?? "folder")
            }
        } catch let failure as GovError {
            folderError = req.language == .vi ? failure.vi : failure.en
        }
        let config = req.application.govConfig
        let body = Body(
            anchors: anchors, folder: config.trustDirectory,
            crls: try await pki.revocationLists().map {
                [$0.issuer, DisplayTime.format($0.thisUpdate), $0.nextUpdate.map { DisplayTime.format($0) } ?? "—", String($0.entries)]
            },
            revoked: try await pki.revokedSerials().map { [$0.serial, $0.issuer, $0.reason, DisplayTime.format($0.revokedAt)] },
            bindings: try await pki.bindings().map {
                [$0.agencyCode, $0.kind, $0.username ?? "", $0.subject, DisplayTime.format($0.notAfter)]
            },
            demoWarning: !config.isDemoMode && anchors.contains(where: \.isDemo), notice: notice, error: error ?? folderError)
        return try await req.renderPage("admin/pki", title: "pki.title", body, status: status)
    }

    /// Runs a change and shows the page again with its outcome; a refused change keeps its code.
    private func change(_ req: Request, _ action: () async throws -> String) async throws -> Response {
        try requireAdmin(req)
        do {
            return try await render(req, notice: try await action())
        } catch let failure as GovError where failure.kind.httpStatus < 500 {
            return try await render(req, error: "\(failure.code): " + (req.language == .vi ? failure.vi : failure.en),
                                    status: HTTPResponseStatus(statusCode: failure.kind.httpStatus))
        }
    }

    @Sendable func show(req: Request) async throws -> Response {
        try requireAdmin(req)
        return try await render(req)
    }

    struct PEMForm: Content { var pem: String }

    @Sendable func trust(req: Request) async throws -> Response {
        try await change(req) {
            let added = try await req.pki.addAnchors(pem: try req.content.decode(PEMForm.self).pem, source: "admin",
                                                     actor: req.auditActor)
            return req.t("pki.trusted", ["count": String(added.count)])
        }
    }

    struct FingerprintForm: Content { var fingerprint: String }

    @Sendable func untrust(req: Request) async throws -> Response {
        try await change(req) {
            try await req.pki.removeAnchor(fingerprint: try req.content.decode(FingerprintForm.self).fingerprint,
                                           actor: req.auditActor)
            return req.t("pki.untrusted")
        }
    }

    @Sendable func importCRL(req: Request) async throws -> Response {
        try await change(req) {
            let record = try await req.pki.importCRL(Array(try req.content.decode(PEMForm.self).pem.utf8), actor: req.auditActor)
            return req.t("pki.crl_imported", ["entries": String(record.entries)])
        }
    }

    struct RevokeForm: Content {
        var issuer: String
        var serial: String
        var reason: String
    }

    @Sendable func revoke(req: Request) async throws -> Response {
        try await change(req) {
            let form = try req.content.decode(RevokeForm.self)
            guard let reason = RevocationReason.named(form.reason) else {
                throw GovError("revocation_reason_invalid", .invalid, vi: "Lý do thu hồi không hợp lệ.",
                               en: "Unknown revocation reason.")
            }
            try await req.pki.revokeSerial(issuer: form.issuer, serial: form.serial, reason: reason, actor: req.auditActor)
            return req.t("pki.revoked")
        }
    }

    struct BindForm: Content {
        var pem: String
        var agencyCode: String
        var kind: String
        var username: String?
        enum CodingKeys: String, CodingKey {
            case pem, kind, username
            case agencyCode = "agency_code"
        }
    }

    @Sendable func bind(req: Request) async throws -> Response {
        try await change(req) {
            let form = try req.content.decode(BindForm.self)
            let username = form.username?.trimmingCharacters(in: .whitespaces)
            let record = try await req.pki.bind(certificatePEM: form.pem, agencyCode: form.agencyCode.trimmingCharacters(in: .whitespaces),
                                                kind: form.kind, username: username?.isEmpty == true ? nil : username,
                                                actor: req.auditActor, agencies: req.agencies)
            return req.t("pki.bound", ["agency": record.agencyCode])
        }
    }
}
