import Fluent
import Foundation
import GovCore
import Vapor

/// Restores the signed-in user from the server-side session (which WebSessionDriver expires after
/// the idle time), ending it when the user or their agency was locked since.
struct SessionAuthMiddleware: AsyncMiddleware {
    static let userKey = "uid"
    static let cookieName = "govoffice_session"

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        request.storage[SessionEnabledKey.self] = true
        if request.hasSessionCookie, let raw = request.session.data[Self.userKey] {
            try await restore(raw, request)
        }
        return try await next.respond(to: request)
    }

    private func restore(_ raw: String, _ request: Request) async throws {
        guard let id = UUID(uuidString: raw), let user = try await User.find(id, on: request.db), user.isActive else {
            request.session.destroy()
            return
        }
        if let agencyID = user.$agency.id {
            guard let agency = try await request.agencies.find(id: agencyID), agency.agencyState == .active else {
                request.session.destroy()
                return
            }
            request.storage[CurrentAgencyNameKey.self] = agency.name
            request.storage[CurrentAgencyCodeKey.self] = agency.code
        }
        request.storage[CurrentUserKey.self] = user
    }

    /// Starts a fresh session for `user`: the old session id is deleted and a new one issued, so a
    /// session id planted before sign-in (session fixation) is worthless after it.
    static func signIn(_ user: User, _ request: Request) async throws {
        if let old = request.session.id {
            try await request.application.sessions.driver.deleteSession(old, for: request).get()
        }
        request.session.id = nil
        for key in request.session.data.snapshot.keys { request.session.data[key] = nil }
        request.session.data[userKey] = try user.requireID().uuidString
        request.storage[CurrentUserKey.self] = user
    }
}

/// The signed-in user's agency code, for the audit trail.
struct CurrentAgencyCodeKey: StorageKey { typealias Value = String }

extension Request {
    var currentAgencyCode: String? { storage[CurrentAgencyCodeKey.self] }
}

/// Pages and actions that need a signed-in user: browsers are sent to the login page, API
/// clients get 401.
struct RequireSignInMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard request.currentUser == nil else { return try await next.respond(to: request) }
        if request.method == .GET, !AppErrorMiddleware.wantsJSON(request) {
            let next = request.url.path + (request.url.query.map { "?" + $0 } ?? "")
            let encoded = next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"
            return request.redirect(to: "/login?next=\(encoded)")
        }
        throw GovError("not_signed_in", .unauthorized, vi: "Bạn cần đăng nhập.", en: "You need to sign in.")
    }
}
