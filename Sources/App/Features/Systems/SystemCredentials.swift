import Fluent
import Foundation
import GovCore
import Vapor

/// Machine credentials of agency systems: issued, rotated and revoked by administrators, checked
/// on every machine-to-machine call. The secret is shown once and only its SHA-256 is kept.
struct SystemCredentials: Sendable {
    let db: any Database

    /// A system and the secret it was just given (the only moment the secret exists in clear).
    struct Issued: Sendable {
        var system: AgencySystem
        var secret: String
    }

    func issue(agency: Agency, systemID raw: String, name raw2: String, actor: AuditActor) async throws -> Issued {
        let systemID = try SystemSecret.validateSystemID(raw)
        let name = raw2.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200 else {
            throw GovError("system_name_invalid", .invalid, vi: "Tên hệ thống là bắt buộc (tối đa 200 ký tự).",
                           en: "A system name is required (at most 200 characters).")
        }
        if try await AgencySystem.query(on: db).filter(\.$systemID == systemID).first() != nil {
            throw GovError("system_id_taken", .conflict, vi: "Mã hệ thống \(systemID) đã tồn tại.",
                           en: "The system id \(systemID) already exists.")
        }
        let secret = SystemSecret.generate()
        let system = AgencySystem(agencyID: try agency.requireID(), systemID: systemID, name: name,
                                  secretHash: SystemSecret.hash(secret))
        try await db.atomically { tx in
            try await system.create(on: tx)
            try await AuditLog.append("system.create", entity: "agency_system", id: systemID,
                                      details: ["name": name], agencyCode: agency.code, by: actor, on: tx)
        }
        return Issued(system: system, secret: secret)
    }

    func rotate(_ system: AgencySystem, agencyCode: String, actor: AuditActor) async throws -> Issued {
        guard system.isActive else { throw Self.revokedError }
        let secret = SystemSecret.generate()
        try await db.atomically { tx in
            system.secretHash = SystemSecret.hash(secret)
            system.rotatedAt = Date()
            try await system.save(on: tx)
            try await AuditLog.append("system.rotate", entity: "agency_system", id: system.systemID,
                                      agencyCode: agencyCode, by: actor, on: tx)
        }
        return Issued(system: system, secret: secret)
    }

    func revoke(_ system: AgencySystem, agencyCode: String, actor: AuditActor) async throws {
        guard system.isActive else { return }
        try await db.atomically { tx in
            system.state = "revoked"
            system.revokedAt = Date()
            try await system.save(on: tx)
            try await AuditLog.append("system.revoke", entity: "agency_system", id: system.systemID,
                                      agencyCode: agencyCode, by: actor, on: tx)
        }
    }

    /// The systems of one agency (every agency's when nil), by system id.
    func list(agency: Agency?) async throws -> [AgencySystem] {
        var query = AgencySystem.query(on: db).sort(\.$systemID)
        if let agency { query = query.filter(\.$agency.$id == (try agency.requireID())) }
        return try await query.all()
    }

    /// One system by its row id.
    func find(id: UUID) async throws -> AgencySystem? {
        try await AgencySystem.find(id, on: db)
    }

    static let invalid = GovError("system_credentials_invalid", .unauthorized,
                                  vi: "Mã hệ thống hoặc khóa bí mật không đúng.",
                                  en: "Wrong system id or secret key.")
    static let missing = GovError("system_credentials_missing", .unauthorized,
                                  vi: "Thiếu thông tin xác thực hệ thống (X-SystemId và X-SecretKey, hoặc Authorization: Bearer).",
                                  en: "System credentials are missing (X-SystemId and X-SecretKey, or Authorization: Bearer).")
    static let revokedError = GovError("system_revoked", .conflict, vi: "Hệ thống đã bị thu hồi quyền kết nối.",
                                       en: "The system's access has been revoked.")
    static let agencyLocked = GovError("agency_locked", .forbidden, vi: "Cơ quan đang bị khóa.",
                                       en: "The agency is locked.")

    /// The authenticated caller of a machine-to-machine request.
    struct Caller: Sendable {
        var system: AgencySystem
        var agency: Agency
    }

    /// Checks either header convention. Unknown ids still cost a hash and a constant-time compare,
    /// so timing does not tell which system ids exist.
    func authenticate(headers: HTTPHeaders) async throws -> Caller {
        let system: AgencySystem?
        if let id = headers.first(name: "X-SystemId"), let secret = headers.first(name: "X-SecretKey") {
            let candidate = try await AgencySystem.query(on: db).filter(\.$systemID == id).first()
            let matches = SystemSecret.matches(secret, storedHash: candidate?.secretHash ?? Self.dummyHash)
            system = matches ? candidate : nil
        } else if let bearer = headers.bearerAuthorization?.token {
            system = try await AgencySystem.query(on: db).filter(\.$secretHash == SystemSecret.hash(bearer)).first()
        } else {
            throw Self.missing
        }
        guard let system, system.isActive else { throw Self.invalid }
        guard let agency = try await AgencyDirectory(db: db).find(id: system.$agency.id) else { throw Self.invalid }
        guard agency.agencyState == .active else { throw Self.agencyLocked }
        if (system.lastUsedAt ?? .distantPast) < Date().addingTimeInterval(-60) {
            system.lastUsedAt = Date()
            try await db.atomically { tx in try await system.save(on: tx) }
        }
        return Caller(system: system, agency: agency)
    }

    private static let dummyHash = SystemSecret.hash("no-such-system")
}

extension Request {
    var systemCredentials: SystemCredentials { SystemCredentials(db: db) }

    private struct CallerKey: StorageKey { typealias Value = SystemCredentials.Caller }

    /// The agency system that authenticated this request (machine-to-machine routes only).
    var systemCaller: SystemCredentials.Caller? {
        get { storage[CallerKey.self] }
        set { storage[CallerKey.self] = newValue }
    }
}

/// Machine-to-machine routes: `X-SystemId` + `X-SecretKey` (VPCP SDK) or `Authorization: Bearer`.
struct SystemAuthMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        request.systemCaller = try await request.systemCredentials.authenticate(headers: request.headers)
        return try await next.respond(to: request)
    }
}

/// `GET /api/v1/system/whoami`: lets an integrator check its credentials.
struct SystemAPIController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.grouped(SystemAuthMiddleware()).get("system", "whoami", use: whoami)
    }

    struct WhoAmI: Content {
        var systemId: String
        var name: String
        var agencyCode: String
        var agencyName: String
        enum CodingKeys: String, CodingKey {
            case name
            case systemId = "system_id", agencyCode = "agency_code", agencyName = "agency_name"
        }
    }

    @Sendable func whoami(req: Request) async throws -> WhoAmI {
        guard let caller = req.systemCaller else { throw SystemCredentials.missing }
        return WhoAmI(systemId: caller.system.systemID, name: caller.system.name,
                      agencyCode: caller.agency.code, agencyName: caller.agency.name)
    }
}
