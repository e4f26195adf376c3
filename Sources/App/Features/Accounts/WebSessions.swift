import Fluent
import Foundation
import GovCore
import Vapor

/// A server-side web session. The row is keyed by the SHA-256 of the cookie value, so a copy of
/// the table does not hand out live sessions, and it carries its own idle expiry.
final class WebSession: Model, @unchecked Sendable {
    static let schema = "web_sessions"

    @ID(custom: "id_hash", generatedBy: .user) var id: String?
    @Field(key: "data") var data: String
    @Field(key: "expires_at") var expiresAt: Date
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    /// The signed-in user, so that a password reset, a lock or a change of roles can end every session of
    /// theirs at once (migration 0016). Nil for a session without a user.
    @OptionalField(key: "user_id") var userID: UUID?

    init() {}

    init(idHash: String, data: String, expiresAt: Date, userID: UUID?) {
        self.id = idHash
        self.data = data
        self.expiresAt = expiresAt
        self.userID = userID
    }

    /// Ends every session of `userID` (inside the transaction that changed the account, so the change and
    /// the sign-out stand or fall together).
    static func endAll(of userID: UUID, on db: any Database) async throws {
        try await WebSession.query(on: db).filter(\.$userID == userID).delete()
    }
}

/// Vapor's session storage for GovOffice: every node reads the same table; a session not used for
/// `GOVOFFICE_SESSION_IDLE_MINUTES`, or older than `GOVOFFICE_SESSION_MAX_HOURS`, is gone, and `sweep`
/// deletes such rows.
struct WebSessionDriver: AsyncSessionDriver {
    func createSession(_ data: SessionData, for request: Request) async throws -> SessionID {
        let id = SystemSecret.generate()
        try await WebSession(idHash: SystemSecret.hash(id), data: try Self.encode(data),
                             expiresAt: Self.expiry(request.application), userID: Self.user(in: data)).create(on: request.db)
        return SessionID(string: id)
    }

    func readSession(_ sessionID: SessionID, for request: Request) async throws -> SessionData? {
        guard let row = try await WebSession.find(SystemSecret.hash(sessionID.string), on: request.db) else { return nil }
        let maxAge = TimeInterval(request.application.govConfig.sessionMaxHours * 3600)
        guard row.expiresAt > Date(), (row.createdAt ?? .distantPast).addingTimeInterval(maxAge) > Date() else {
            try await row.delete(on: request.db)
            return nil
        }
        return try? JSONDecoder().decode(SessionData.self, from: Data(row.data.utf8))
    }

    func updateSession(_ sessionID: SessionID, to data: SessionData, for request: Request) async throws -> SessionID {
        let hash = SystemSecret.hash(sessionID.string)
        let encoded = try Self.encode(data)
        let expiry = Self.expiry(request.application)
        // An update of a row that a sweep or a sign-out removed meanwhile creates nothing: the
        // browser simply has no session on its next request.
        try await WebSession.query(on: request.db).filter(\.$id == hash)
            .set(\.$data, to: encoded).set(\.$expiresAt, to: expiry).set(\.$userID, to: Self.user(in: data)).update()
        return sessionID
    }

    func deleteSession(_ sessionID: SessionID, for request: Request) async throws {
        try await WebSession.query(on: request.db).filter(\.$id == SystemSecret.hash(sessionID.string)).delete()
    }

    /// Deletes expired sessions; safe to run on several nodes at once.
    static func sweep(_ db: any Database, maxHours: Int) async throws {
        try await WebSession.query(on: db).filter(\.$expiresAt < Date()).delete()
        try await WebSession.query(on: db).filter(\.$createdAt < Date().addingTimeInterval(-TimeInterval(maxHours * 3600))).delete()
    }

    private static func user(in data: SessionData) -> UUID? {
        data[SessionAuthMiddleware.userKey].flatMap(UUID.init(uuidString:))
    }

    private static func expiry(_ app: Application) -> Date {
        Date().addingTimeInterval(TimeInterval(app.govConfig.sessionIdleMinutes * 60))
    }

    private static func encode(_ data: SessionData) throws -> String {
        String(decoding: try JSONEncoder().encode(data), as: UTF8.self)
    }
}
