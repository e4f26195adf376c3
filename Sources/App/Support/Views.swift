import Foundation
import GovCore
import Leaf
import Vapor

/// One entry of the main navigation.
struct PageNavItem: Encodable {
    var href: String
    var label: String
    var active: Bool
    var id: String
}

/// The signed-in person, as the header shows them.
struct PageUser: Encodable {
    var fullName: String
    var username: String
    var agencyName: String?
    var roles: [String]
}

/// A one-time message carried to the next page.
struct PageFlash: Encodable, Sendable {
    var kind: String
    var message: String
}

/// What every page's layout needs besides the page's own data.
struct Page<Body: Encodable>: Encodable {
    var lang: String
    var otherLang: String
    var otherLangLabel: String
    var currentPath: String
    var title: String
    var user: PageUser?
    var nav: [PageNavItem]
    var flash: PageFlash?
    /// For administrators: demo accounts that still have the published password (shown as a banner).
    var demoPasswordAccounts: [PageNavItem]?
    var body: Body
}

extension Request {
    /// Renders `template` inside the site layout with the navigation this person may use.
    func renderPage<Body: Encodable>(
        _ template: String, title titleKey: String, _ body: Body, status: HTTPResponseStatus = .ok
    ) async throws -> Response {
        let language = self.language
        let other: Language = language == .vi ? .en : .vi
        let principal = self.principal
        var nav: [PageNavItem] = []
        let path = url.path
        func item(_ href: String, _ key: String, _ id: String) {
            let active = href == "/" ? path == "/" : path.hasPrefix(href)
            nav.append(.init(href: href, label: t(key), active: active, id: id))
        }
        if principal != nil { item("/", "nav.home", "nav-home") }
        item("/agencies", "nav.agencies", "nav-agencies")
        if let principal {
            if principal.agencyID.map({ AccessPolicy.canViewCalendar(ofAgency: $0, principal) }) == true {
                item("/calendar", "nav.calendar", "nav-calendar")
            }
            if principal.isSystemAdmin || principal.has(.agencyAdmin) {
                item("/admin/users", "nav.users", "nav-users")
                item("/admin/systems", "nav.systems", "nav-systems")
                item("/admin/audit", "nav.audit", "nav-audit")
            }
            if principal.isSystemAdmin
                || principal.agencyID.map({ AccessPolicy.canViewExchange(ofAgency: $0, principal) }) == true {
                item("/admin/hub", "hub.nav", "nav-hub")
            }
            if AccessPolicy.usesDocumentOffice(principal) {
                item("/office", "nav.office", "nav-office")
            }
            if principal.isSystemAdmin { item("/admin/pki", "nav.pki", "nav-pki") }
        }
        var pageUser: PageUser?
        if let user = currentUser {
            pageUser = .init(
                fullName: user.fullName, username: user.username, agencyName: currentAgencyName,
                roles: user.roleSet.sorted().map { t($0.labelKey) })
        }
        var query = url.query.map { "?" + $0 } ?? ""
        if query.contains("lang=") { query = "" }
        let page = Page(
            lang: language.rawValue, otherLang: other.rawValue,
            otherLangLabel: other == .en ? "English" : "Tiếng Việt",
            currentPath: (path + query).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/",
            title: t(titleKey), user: pageUser, nav: nav, flash: takeFlash(),
            demoPasswordAccounts: demoPasswordBanner(principal), body: body)
        let view = try await self.view.render(template, page)
        return try await view.encodeResponse(status: status, for: self)
    }
}

extension Request {
    fileprivate func demoPasswordBanner(_ principal: Principal?) -> [PageNavItem]? {
        guard let principal, principal.isSystemAdmin || principal.has(.agencyAdmin) else { return nil }
        let open = DemoPasswordGuard.banner(application.demoPasswordAccounts.withLockedValue { $0 }, for: principal)
        return open.isEmpty ? nil : open.map {
            PageNavItem(href: "/admin/users/\($0.id.uuidString)", label: $0.username, active: false, id: "demo-account-\($0.username)")
        }
    }
}

/// A request's signed-in user, set by `SessionAuthMiddleware`.
struct CurrentUserKey: StorageKey { typealias Value = User }
/// The signed-in user's agency name, for the header.
struct CurrentAgencyNameKey: StorageKey { typealias Value = String }

extension Request {
    /// The signed-in user, if any.
    var currentUser: User? { storage[CurrentUserKey.self] }
    var currentAgencyName: String? { storage[CurrentAgencyNameKey.self] }

    /// Who is acting, for authorisation decisions.
    var principal: Principal? {
        guard let user = currentUser, let id = user.id else { return nil }
        return Principal(userID: id, agencyID: user.$agency.id, roles: user.roleSet)
    }

    /// The principal, or 401 / a redirect to the login page.
    func requirePrincipal() throws -> Principal {
        guard let principal else {
            throw GovError("not_signed_in", .unauthorized,
                           vi: "Bạn cần đăng nhập.", en: "You need to sign in.")
        }
        return principal
    }

    /// Leaves a one-time message for the next page this browser shows.
    func flash(_ kind: String, _ key: String, _ args: [String: String] = [:]) {
        guard hasSession else { return }
        session.data["flash_kind"] = kind
        session.data["flash"] = t(key, args)
    }

    private func takeFlash() -> PageFlash? {
        guard hasSession, hasSessionCookie, let message = session.data["flash"] else { return nil }
        let kind = session.data["flash_kind"] ?? "info"
        session.data["flash"] = nil
        session.data["flash_kind"] = nil
        return .init(kind: kind, message: message)
    }
}

extension Request {
    /// Whether the sessions middleware ran for this request (browser routes only).
    var hasSession: Bool { storage[SessionEnabledKey.self] ?? false }

    /// Whether the browser sent a session cookie. Reading `session` at all makes Vapor store a new session
    /// at the end of the request, so code that only looks asks this first: a visitor without a session
    /// then costs no database row.
    var hasSessionCookie: Bool { cookies[SessionAuthMiddleware.cookieName] != nil }
}

/// Marks requests that went through the browser route group with sessions enabled.
struct SessionEnabledKey: StorageKey { typealias Value = Bool }

