import Fluent
import FluentSQL
import Foundation
import GovCore
import Vapor

/// Administrators manage accounts of their agency (system administrators: of any agency).
struct UserAdminController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let admin = routes.grouped(RequireSignInMiddleware()).grouped("admin", "users")
        admin.get(use: list)
        admin.get("new", use: newForm)
        admin.post(use: create)
        admin.get(":id", use: edit)
        admin.post(":id", use: update)
        admin.post(":id", "password", use: resetPassword)
        admin.post(":id", "unlock", use: unlockLogin)
    }

    struct UserRow: Encodable {
        var id: String
        var username: String
        var fullName: String
        var agencyCode: String?
        var roles: [String]
        var state: String
        var stateLabel: String
        var locked: Bool
    }

    struct ListBody: Encodable {
        var agencyCode: String?
        var agencyName: String?
        var q: String?
        var rows: [UserRow]
        var pager: Pager
        var isSystemAdmin: Bool
    }

    /// The agency whose users are asked for, checked against the principal: a clerk, or an
    /// administrator of another agency, gets 403.
    static func scopedAgency(_ req: Request, _ principal: Principal, code: String?) async throws -> Agency? {
        try await req.agencies.scope(principal, asked: code, allowed: AccessPolicy.canViewUsers, refusal: AccountService.forbidden)
    }

    static func rows(_ req: Request, agency: Agency?, text: String?, page: Int) async throws -> ([User], Int, [UUID: String]) {
        var query = User.query(on: req.db)
        if let agency { query = query.filter(\.$agency.$id == (try agency.requireID())) }
        if let text {
            query = query.filter(.sql(SearchFilter.contains("search_key", text)))
        }
        let total = try await query.count()
        let users = try await query.copy().sort(\.$username).range(((page - 1) * 50)..<(page * 50)).all()
        let codes = try await req.agencies.codes(of: Set(users.compactMap { $0.$agency.id }))
        return (users, total, codes)
    }

    @Sendable func list(req: Request) async throws -> Response {
        let principal = try req.requirePrincipal()
        let agency = try await Self.scopedAgency(req, principal, code: try req.queryText("agency"))
        let text = try req.queryText("q")
        let page = try req.queryInt("page", default: 1, range: 1...100_000)
        let (users, total, codes) = try await Self.rows(req, agency: agency, text: text, page: page)
        let throttled = try await req.accounts.pausedUsernames(users.map(\.username))
        let rows = users.map { user in
            UserRow(id: user.id?.uuidString ?? "", username: user.username, fullName: user.fullName,
                    agencyCode: user.$agency.id.flatMap { codes[$0] },
                    roles: user.roleSet.sorted().map { req.t($0.labelKey) }, state: user.state,
                    stateLabel: req.t("user.state.\(user.state)"), locked: throttled.contains(user.username))
        }
        let pager = Pager(path: "/admin/users", page: page, perPage: 50, total: total,
                          params: ["agency": agency?.code, "q": text])
        return try await req.renderPage("admin/users", title: "users.title",
                                        ListBody(agencyCode: agency?.code, agencyName: agency?.name, q: text,
                                                 rows: rows, pager: pager, isSystemAdmin: principal.isSystemAdmin))
    }

    struct RoleOption: Encodable {
        var value: String
        var label: String
        var checked: Bool
    }

    struct DepartmentOption: Encodable {
        var code: String
        var name: String
        var selected: Bool
    }

    struct FormBody: Encodable {
        var isNew: Bool
        var id: String?
        var username: String
        var fullName: String
        var email: String
        var position: String
        var agencyCode: String
        var agencyName: String
        var state: String
        var roles: [RoleOption]
        var departments: [DepartmentOption]
        var error: String?
        var errorCode: String?
        /// Whether the viewer may change this account; the page shows it read-only otherwise.
        var canChange: Bool
    }

    private func formBody(_ req: Request, _ principal: Principal, agency: Agency?, user: User?,
                          error: GovError? = nil) async throws -> FormBody {
        let grantable = AccessPolicy.grantableRoles(principal)
        let current = user?.roleSet ?? []
        let roles = Role.allCases.filter { grantable.contains($0) || current.contains($0) }.map {
            RoleOption(value: $0.rawValue, label: req.t($0.labelKey), checked: current.contains($0))
        }
        var departments: [DepartmentOption] = []
        if let agency {
            departments = try await req.agencies.departments(of: agency).map {
                DepartmentOption(code: $0.code, name: $0.name, selected: $0.id == user?.$department.id)
            }
        }
        return FormBody(isNew: user == nil, id: user?.id?.uuidString, username: user?.username ?? "",
                        fullName: user?.fullName ?? "", email: user?.email ?? "", position: user?.position ?? "",
                        agencyCode: agency?.code ?? "", agencyName: agency?.name ?? "",
                        state: user?.state ?? UserState.active.rawValue, roles: roles, departments: departments,
                        error: error?.message(in: req.language), errorCode: error?.code,
                        canChange: user.map { (try? req.accounts.authorize($0, principal)) != nil } ?? true)
    }

    @Sendable func newForm(req: Request) async throws -> Response {
        let principal = try req.requirePrincipal()
        let agency = try await Self.scopedAgency(req, principal, code: try req.queryText("agency"))
        guard agency != nil || principal.isSystemAdmin else { throw AccountService.forbidden }
        return try await req.renderPage("admin/user_form", title: "users.new.title",
                                        try await formBody(req, principal, agency: agency, user: nil))
    }

    struct CreateForm: Content {
        var username: String
        var fullName: String
        var email: String?
        var position: String?
        var agencyCode: String?
        var departmentCode: String?
        var roles: [String]?
        var password: String

        enum CodingKeys: String, CodingKey {
            case username, email, position, roles, password
            case fullName = "full_name", agencyCode = "agency_code", departmentCode = "department_code"
        }
    }

    static func parseRoles(_ raw: [String]?) throws -> Set<Role> {
        try Set((raw ?? []).map { value in
            guard let role = Role(rawValue: value) else {
                throw GovError("role_unknown", .invalid, vi: "Vai trò không tồn tại: \(value).", en: "Unknown role: \(value).")
            }
            return role
        })
    }

    @Sendable func create(req: Request) async throws -> Response {
        let principal = try req.requirePrincipal()
        let form = try req.content.decode(CreateForm.self)
        let agencyCode = form.agencyCode?.nilIfEmpty
        let agency = try await Self.scopedAgency(req, principal, code: agencyCode)
        do {
            let input = AccountService.NewAccount(
                username: form.username, fullName: form.fullName, email: form.email, position: form.position,
                agencyCode: agency?.code, departmentCode: form.departmentCode, roles: try Self.parseRoles(form.roles),
                password: form.password)
            let user = try await req.accounts.create(input, by: principal, actor: req.auditActor)
            req.flash("success", "users.flash.created", ["username": user.username])
            return req.redirect(to: "/admin/users/\(try user.requireID())")
        } catch let error as GovError where error.kind == .invalid || error.kind == .conflict {
            var body = try await formBody(req, principal, agency: agency, user: nil, error: error)
            body.username = form.username
            body.fullName = form.fullName
            body.email = form.email ?? ""
            body.position = form.position ?? ""
            return try await req.renderPage("admin/user_form", title: "users.new.title", body,
                                            status: AppErrorMiddleware.status(of: error.kind))
        }
    }

    private func loadUser(_ req: Request, _ principal: Principal) async throws -> (User, Agency?) {
        guard let id = req.parameters.get("id", as: UUID.self), let user = try await User.find(id, on: req.db) else {
            throw GovError("user_not_found", .notFound, vi: "Không tìm thấy người dùng.", en: "User not found.")
        }
        // Looking is allowed more widely than changing: every change goes through AccountService, which asks
        // AccessPolicy.canManageAccount (no change to an account holding a role the caller could not grant).
        try req.accounts.authorizeView(user, principal)
        let agency = try await user.$agency.id.asyncMap { try await req.agencies.find(id: $0) } ?? nil
        return (user, agency)
    }

    @Sendable func edit(req: Request) async throws -> Response {
        let principal = try req.requirePrincipal()
        let (user, agency) = try await loadUser(req, principal)
        let body = try await formBody(req, principal, agency: agency, user: user)
        return try await req.renderPage("admin/user_form", title: body.canChange ? "users.edit.title" : "users.view.title", body)
    }

    struct UpdateForm: Content {
        var fullName: String
        var email: String?
        var position: String?
        var departmentCode: String?
        var roles: [String]?
        var state: String

        enum CodingKeys: String, CodingKey {
            case email, position, roles, state
            case fullName = "full_name", departmentCode = "department_code"
        }
    }

    @Sendable func update(req: Request) async throws -> Response {
        let principal = try req.requirePrincipal()
        let (user, agency) = try await loadUser(req, principal)
        let form = try req.content.decode(UpdateForm.self)
        do {
            guard let state = UserState(rawValue: form.state) else {
                throw GovError("user_state_invalid", .invalid, vi: "Trạng thái không hợp lệ.", en: "Invalid state.")
            }
            let changes = AccountService.Changes(
                fullName: form.fullName, email: form.email, position: form.position,
                departmentCode: form.departmentCode, roles: try Self.parseRoles(form.roles), state: state)
            try await req.accounts.update(user, changes, by: principal, actor: req.auditActor)
            req.flash("success", "users.flash.updated", ["username": user.username])
            return req.redirect(to: "/admin/users/\(try user.requireID())")
        } catch let error as GovError where error.kind == .invalid {
            let body = try await formBody(req, principal, agency: agency, user: user, error: error)
            return try await req.renderPage("admin/user_form", title: "users.edit.title", body, status: .badRequest)
        }
    }

    struct PasswordForm: Content { var password: String }

    @Sendable func resetPassword(req: Request) async throws -> Response {
        let principal = try req.requirePrincipal()
        let (user, agency) = try await loadUser(req, principal)
        let form = try req.content.decode(PasswordForm.self)
        do {
            try await req.accounts.resetPassword(user, to: form.password, by: principal, actor: req.auditActor)
            req.flash("success", "users.flash.password_reset", ["username": user.username])
            return req.redirect(to: "/admin/users/\(try user.requireID())")
        } catch let error as GovError where error.kind == .invalid {
            let body = try await formBody(req, principal, agency: agency, user: user, error: error)
            return try await req.renderPage("admin/user_form", title: "users.edit.title", body, status: .badRequest)
        }
    }

    @Sendable func unlockLogin(req: Request) async throws -> Response {
        let principal = try req.requirePrincipal()
        let (user, _) = try await loadUser(req, principal)
        try await req.accounts.clearSignInPause(user, by: principal, actor: req.auditActor)
        req.flash("success", "users.flash.unlocked", ["username": user.username])
        return req.redirect(to: "/admin/users/\(try user.requireID())")
    }
}

/// `GET /api/v1/users?agency=CODE` for a signed-in browser session: the same rules as the page.
struct UsersAPIController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.grouped(RequireSignInMiddleware()).get("users", use: list)
    }

    struct UserDTO: Content {
        var username: String
        var fullName: String
        var agencyCode: String?
        var roles: [String]
        var state: String
        enum CodingKeys: String, CodingKey {
            case username, roles, state
            case fullName = "full_name", agencyCode = "agency_code"
        }
    }

    struct ListResponse: Content {
        var items: [UserDTO]
        var total: Int
    }

    @Sendable func list(req: Request) async throws -> ListResponse {
        let principal = try req.requirePrincipal()
        let agency = try await UserAdminController.scopedAgency(req, principal, code: try req.queryText("agency"))
        let page = try req.queryInt("page", default: 1, range: 1...100_000)
        let (users, total, codes) = try await UserAdminController.rows(req, agency: agency, text: try req.queryText("q"), page: page)
        return ListResponse(items: users.map {
            UserDTO(username: $0.username, fullName: $0.fullName, agencyCode: $0.$agency.id.flatMap { codes[$0] },
                    roles: $0.roles, state: $0.state)
        }, total: total)
    }
}
