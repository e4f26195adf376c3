import Fluent
import Foundation
import GovCore
import Vapor

/// Sign-in, sign-out and the language switch.
struct AuthController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("login", use: loginPage)
        routes.post("login", use: login)
        routes.post("logout", use: logout)
        routes.get("lang", ":code", use: switchLanguage)
        routes.get("favicon.ico") { req in req.redirect(to: "/img/logo.svg", redirectType: .permanent) }
    }

    struct LoginBody: Encodable {
        var username: String
        var next: String
        var error: String?
    }

    @Sendable func loginPage(req: Request) async throws -> Response {
        if req.currentUser != nil { return req.redirect(to: "/") }
        let next = Self.safeNext(try? req.query.get(String.self, at: "next"))
        return try await req.renderPage("accounts/login", title: "login.title",
                                        LoginBody(username: "", next: next, error: nil))
    }

    struct LoginForm: Content {
        var username: String?
        var password: String?
        var next: String?
    }

    @Sendable func login(req: Request) async throws -> Response {
        let form = try req.content.decode(LoginForm.self)
        let next = Self.safeNext(form.next)
        let username = form.username?.trimmingCharacters(in: .whitespaces) ?? ""
        do {
            guard !username.isEmpty, let password = form.password, !password.isEmpty else {
                throw GovError("login_incomplete", .invalid, vi: "Hãy nhập tên đăng nhập và mật khẩu.",
                               en: "Enter your username and password.")
            }
            let user = try await req.accounts.authenticate(username: username, password: password, actor: req.auditActor)
            try await SessionAuthMiddleware.signIn(user, req)
            return req.redirect(to: next)
        } catch let error as GovError {
            let body = LoginBody(username: String(username.prefix(64)), next: next,
                                 error: error.message(in: req.language))
            // Wrong credentials re-show the form (200, like any form with errors); only the
            // back-off answers 429 so that clients and monitors can tell it apart.
            return try await req.renderPage("accounts/login", title: "login.title", body,
                                            status: error.kind == .tooManyRequests ? .tooManyRequests : .ok)
        }
    }

    @Sendable func logout(req: Request) async throws -> Response {
        if let user = req.currentUser {
            try await AuditLog.append("auth.logout", entity: "user", id: user.username, by: req.auditActor, on: req.db)
        }
        // Deletes the server-side record, so the old cookie is worthless even if it was copied.
        req.session.destroy()
        return req.redirect(to: "/login")
    }

    @Sendable func switchLanguage(req: Request) async throws -> Response {
        guard let language = Language(rawValue: try req.parameters.require("code")) else {
            throw GovError("language_unknown", .notFound, vi: "Ngôn ngữ không được hỗ trợ.", en: "Unsupported language.")
        }
        let response = req.redirect(to: Self.safeNext(try? req.query.get(String.self, at: "next")))
        response.cookies[LanguageCookie.name] = LanguageCookie.value(language)
        return response
    }

    /// Only a local path may follow sign-in or a language switch: no open redirects.
    /// Browsers drop tabs and newlines inside a URL and read a backslash as a slash, so `/\t/evil.example`
    /// would become `//evil.example`: every control character and every kind of whitespace is refused.
    static func safeNext(_ raw: String?) -> String {
        guard let raw, raw.hasPrefix("/"), !raw.hasPrefix("//"), !raw.hasPrefix("/\\"), raw.count <= 2000,
              !raw.unicodeScalars.contains(where: { scalar in
                  scalar.properties.generalCategory == .control || scalar.properties.isWhitespace
                      || scalar.properties.generalCategory == .format || scalar == "\\"
              }) else { return "/" }
        return raw
    }
}
