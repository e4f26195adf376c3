import Fluent
import Foundation
import GovCore
import Vapor

/// The signed-in person's start page: who they are, and the work areas open to them.
struct HomeController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.grouped(RequireSignInMiddleware()).get(use: home)
    }

    struct Card: Encodable {
        var href: String
        var title: String
        var text: String
    }

    struct Body: Encodable {
        var fullName: String
        var agencyName: String?
        var departmentName: String?
        var roles: [String]
        var lastLogin: String?
        var cards: [Card]
        /// What waits for this person in the document office (empty for people without one).
        var sections: [OfficeController.Section]
    }

    @Sendable func home(req: Request) async throws -> Response {
        guard let user = req.currentUser, let principal = req.principal else { throw Abort(.unauthorized) }
        let department = try await user.$department.id.asyncMap { try await req.agencies.department(id: $0) } ?? nil
        var cards = [Card(href: "/agencies", title: req.t("nav.agencies"), text: req.t("home.card.agencies"))]
        if principal.isSystemAdmin || principal.has(.agencyAdmin) {
            cards.append(Card(href: "/admin/users", title: req.t("nav.users"), text: req.t("home.card.users")))
            cards.append(Card(href: "/admin/systems", title: req.t("nav.systems"), text: req.t("home.card.systems")))
            cards.append(Card(href: "/admin/audit", title: req.t("nav.audit"), text: req.t("home.card.audit")))
        }
        if principal.isSystemAdmin {
            cards.append(Card(href: "/admin/agencies/import", title: req.t("agencies.import.title"),
                              text: req.t("home.card.import")))
        }
        let sections = AccessPolicy.usesDocumentOffice(principal)
            ? try await OfficeController.waiting(req, try await OfficeController.actor(req)).sections : []
        return try await req.renderPage("home", title: "home.title", Body(
            fullName: user.fullName, agencyName: req.currentAgencyName, departmentName: department?.name,
            roles: user.roleSet.sorted().map { req.t($0.labelKey) },
            lastLogin: user.lastLoginAt.map { DisplayTime.format($0) }, cards: cards, sections: sections))
    }
}
