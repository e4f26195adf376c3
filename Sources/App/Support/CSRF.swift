import Crypto
import Foundation
import GovCore
import Leaf
import Vapor

/// CSRF protection of every browser form, in two forms:
/// - signed in: a random token per server-side session, sent back in the hidden `_csrf` field (or the
///   `X-CSRF-Token` header) and compared in constant time;
/// - not signed in (the sign-in page): a signed double-submit cookie. The cookie carries a random value, the
///   form `a.<value>.<HMAC of the value under the deployment's key>`; both must agree. No session row is
///   written for a visitor who only looks at the sign-in page, so anonymous traffic cannot fill the table.
enum CSRF {
    static let sessionKey = "csrf"
    static let field = "_csrf"
    static let cookieName = "govoffice_csrf"
    private static let anonymousPrefix = "a."

    /// The token for a form on the page being rendered.
    static func token(for req: Request) -> String {
        if usesSession(req) {
            if let existing = req.session.data[sessionKey] { return existing }
            let token = SystemSecret.generate()
            req.session.data[sessionKey] = token
            return token
        }
        guard let key = req.storage[AnonymousKey.self] else { return "" }
        let value: String
        if let pending = req.storage[PendingCookieKey.self] {
            value = pending
        } else if let sent = req.cookies[cookieName]?.string, isWellFormed(sent) {
            value = sent
        } else {
            value = SystemSecret.generate()
            req.storage[PendingCookieKey.self] = value
        }
        return anonymousPrefix + value + "." + signature(value, key: key)
    }

    static func isValid(_ req: Request) -> Bool {
        let sent = req.headers.first(name: "X-CSRF-Token") ?? (try? req.content.get(String.self, at: field))
        guard let sent, req.hasSession else { return false }
        if sent.hasPrefix(anonymousPrefix) {
            // Only for people who are not signed in: a signed-in session's forms carry the session's token.
            guard req.currentUser == nil, let key = req.storage[AnonymousKey.self],
                  let cookie = req.cookies[cookieName]?.string else { return false }
            let parts = sent.dropFirst(anonymousPrefix.count).split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, String(parts[0]) == cookie, isWellFormed(cookie) else { return false }
            return SystemSecret.matches(String(parts[1]), storedHash: SystemSecret.hash(signature(cookie, key: key)))
        }
        guard req.hasSessionCookie, let expected = req.session.data[sessionKey] else { return false }
        return SystemSecret.matches(sent, storedHash: SystemSecret.hash(expected))
    }

    /// Signed in, or an existing session: the session keeps the token. Otherwise the cookie does.
    private static func usesSession(_ req: Request) -> Bool {
        req.currentUser != nil || (req.hasSessionCookie && req.session.id != nil)
    }

    private static func isWellFormed(_ value: String) -> Bool {
        (20...100).contains(value.utf8.count) && value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F
        }
    }

    private static func signature(_ value: String, key: Data) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("govoffice-csrf-anon:\(value)".utf8), using: SymmetricKey(data: key))
        return Data(mac).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The deployment's key for anonymous tokens, loaded (async) before the handler renders a form.
    struct AnonymousKey: StorageKey { typealias Value = Data }
    /// A cookie value made while rendering, set on the response by the middleware.
    struct PendingCookieKey: StorageKey { typealias Value = String }
}

/// Refuses state-changing browser requests without a valid CSRF token (403 `csrf_invalid`), and sets the
/// anonymous forms' cookie when a page made one.
struct CSRFMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if request.currentUser == nil {
            let raw = try await request.application.appKeys.value(AppKey.csrfName, on: request.db)
            request.storage[CSRF.AnonymousKey.self] = Data(raw.utf8)
        }
        switch request.method {
        case .GET, .HEAD, .OPTIONS:
            let response = try await next.respond(to: request)
            if let value = request.storage[CSRF.PendingCookieKey.self] {
                response.cookies[CSRF.cookieName] = HTTPCookies.Value(
                    string: value, expires: nil, maxAge: nil, domain: nil, path: "/", isSecure: false,
                    isHTTPOnly: true, sameSite: .lax)
            }
            return response
        default:
            let isMultipart = request.headers.contentType?.type == "multipart"
            if isMultipart, request.currentUser == nil {
                // Every upload form needs a signed-in person: refuse before reading a byte of the body, so
                // an anonymous client cannot make the server buffer megabytes.
                throw GovError("not_signed_in", .unauthorized, vi: "Bạn cần đăng nhập.", en: "You need to sign in.")
            }
            if request.headers.first(name: "X-CSRF-Token") == nil {
                // The token is in the body: collect it now (bounded, so an oversize body is a
                // 413 here rather than a misleading 403).
                let config = request.application.govConfig
                let limit = isMultipart ? config.maxUploadBytes : config.maxBodyBytes
                if let length = request.headers.first(name: .contentLength).flatMap(Int.init), length > limit {
                    throw Abort(.payloadTooLarge)
                }
                _ = try await request.body.collect(max: limit).get()
            }
            guard CSRF.isValid(request) else {
                throw GovError("csrf_invalid", .forbidden,
                               vi: "Phiên biểu mẫu không hợp lệ hoặc đã hết hạn. Hãy tải lại trang và thử lại.",
                               en: "The form token is missing or invalid. Reload the page and try again.")
            }
            return try await next.respond(to: request)
        }
    }
}

/// `#csrf()` in a form: the hidden token field.
struct CSRFFieldTag: UnsafeUnescapedLeafTag {
    func render(_ ctx: LeafContext) throws -> LeafData {
        // Pages outside the browser route group have no session and show no forms.
        guard let req = ctx.request, req.hasSession else { return .string("") }
        // Both token forms are base64url and dots, so they need no escaping inside the attribute.
        return .string("<input type=\"hidden\" name=\"\(CSRF.field)\" value=\"\(CSRF.token(for: req))\">")
    }
}
