import Crypto
import Foundation
import GovCore
import Leaf
import Vapor

/// CSRF protection of every browser form: a random token per session, sent back in the hidden
/// `_csrf` field (or the `X-CSRF-Token` header) and compared in constant time.
enum CSRF {
    static let sessionKey = "csrf"
    static let field = "_csrf"

    static func token(for req: Request) -> String {
        if let existing = req.session.data[sessionKey] { return existing }
        let token = SystemSecret.generate()
        req.session.data[sessionKey] = token
        return token
    }

    static func isValid(_ req: Request) -> Bool {
        guard req.hasSession, let expected = req.session.data[sessionKey] else { return false }
        let sent = req.headers.first(name: "X-CSRF-Token")
            ?? (try? req.content.get(String.self, at: field))
        guard let sent else { return false }
        return SystemSecret.matches(sent, storedHash: SystemSecret.hash(expected))
    }
}

/// Refuses state-changing browser requests without the session's CSRF token (403 `csrf_invalid`).
struct CSRFMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        switch request.method {
        case .GET, .HEAD, .OPTIONS:
            return try await next.respond(to: request)
        default:
            if request.headers.first(name: "X-CSRF-Token") == nil {
                // The token is in the body: collect it now (bounded, so an oversize body is a
                // 413 here rather than a misleading 403).
                let config = request.application.govConfig
                let limit = request.headers.contentType?.type == "multipart" ? config.maxUploadBytes : config.maxBodyBytes
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
        // The token is base64url, so it needs no escaping inside the attribute.
        return .string("<input type=\"hidden\" name=\"\(CSRF.field)\" value=\"\(CSRF.token(for: req))\">")
    }
}
