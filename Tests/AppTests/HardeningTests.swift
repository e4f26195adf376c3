import Fluent
import Foundation
import GovCore
import SQLKit
import Testing
import VaporTesting

@testable import App

/// Issue 14, items 1, 3 and 6: privilege boundaries of account administration, sessions and sign-in,
/// the demo's published password. Each test fails on the code before the fix.
@Suite("Hardening: accounts, sessions, sign-in, demo mode")
struct HardeningTests {
    func user(_ username: String, _ app: Application) async throws -> User {
        try #require(try await User.query(on: app.db).filter(\.$username == username).first())
    }

    /// Whether `username` can sign in with `password` (a fresh browser each time).
    func signsIn(_ app: Application, _ username: String, _ password: String) async throws -> Bool {
        let browser = TestBrowser(app)
        try await browser.login(username, password: password)
        return try await browser.get("/").status == .ok
    }

    @Test func anAgencyAdminCannotTakeOverTheSystemAdmin() async throws {
        try await withTestApp { app in
            let admin = try await user("admin", app)
            let adminID = try admin.requireID()
            let quantri = TestBrowser(app)
            try await quantri.login("g22.quantri")
            let reset = try await quantri.post("/admin/users/\(adminID)/password", [("password", "Chiem-quyen-2026!")])
            #expect(reset.status == .forbidden)
            #expect(reset.text.contains("forbidden_user_roles"))
            let lock = try await quantri.post("/admin/users/\(adminID)", [
                ("full_name", admin.fullName), ("roles[]", "system_admin"), ("state", "locked")])
            #expect(lock.status == .forbidden)
            let strip = try await quantri.post("/admin/users/\(adminID)", [
                ("full_name", admin.fullName), ("roles[]", "clerk"), ("state", "active")])
            #expect(strip.status == .forbidden)
            #expect(try await quantri.post("/admin/users/\(adminID)/unlock", []).status == .forbidden)
            // The effect, not only the status: nothing about the account changed.
            let after = try await user("admin", app)
            #expect(after.passwordHash == admin.passwordHash)
            #expect(after.roleSet == [.systemAdmin] && after.state == UserState.active.rawValue)
            #expect(try await signsIn(app, "admin", DemoSeeder.password))
            #expect(!(try await signsIn(app, "admin", "Chiem-quyen-2026!")))
            // The page is visible to the agency admin, read-only.
            let page = try await quantri.get("/admin/users/\(adminID)")
            #expect(page.status == .ok)
            #expect(page.text.contains("id=\"read-only-note\""))
            #expect(page.text.contains("Thông tin người dùng — admin"))
            #expect(!page.text.contains("id=\"password-form\""))
        }
    }

    @Test func anAgencyAdminStillManagesTheAccountsItCouldGrant() async throws {
        try await withTestApp { app in
            let clerk = try await user("g22.vanthu", app)
            let quantri = TestBrowser(app)
            try await quantri.login("g22.quantri")
            let reset = try await quantri.post("/admin/users/\(try clerk.requireID())/password", [("password", "Van-thu-moi-2026!")])
            #expect(reset.status == .seeOther)
            #expect(try await signsIn(app, "g22.vanthu", "Van-thu-moi-2026!"))
            let page = try await quantri.get("/admin/users/\(try clerk.requireID())")
            #expect(page.text.contains("id=\"password-form\""))
        }
    }

    @Test func nobodyChangesTheirOwnRoles() async throws {
        try await withTestApp { app in
            let quantri = try await user("g22.quantri", app)
            let browser = TestBrowser(app)
            try await browser.login("g22.quantri")
            let response = try await browser.post("/admin/users/\(try quantri.requireID())", [
                ("full_name", quantri.fullName), ("roles[]", "agency_admin"), ("roles[]", "leader"), ("state", "active")])
            #expect(response.status == .forbidden)
            #expect(response.text.contains("cannot_change_own_roles"))
            #expect(try await user("g22.quantri", app).roleSet == [.agencyAdmin])
        }
    }

    @Test func theLastActiveSystemAdminCannotBeLockedOrDemoted() async throws {
        try await withTestApp { app in
            let admin = try await user("admin", app)
            // A system administrator acting from elsewhere (the command line has no account of its own).
            let other = Principal(userID: UUID(), agencyID: admin.$agency.id, roles: [.systemAdmin])
            for (roles, state) in [(Set<Role>([.systemAdmin]), UserState.locked), ([.clerk], .active)] {
                let changes = AccountService.Changes(fullName: admin.fullName, email: nil, position: nil,
                                                     departmentCode: nil, roles: roles, state: state)
                await #expect(throws: GovError.self) {
                    try await app.accounts.update(try await user("admin", app), changes, by: other, actor: .commandLine)
                }
                let after = try await user("admin", app)
                #expect(after.roleSet.contains(.systemAdmin) && after.isActive, "the change was rolled back")
            }
            // Two system admins demoting each other at once: at least one stays.
            let second = try await app.accounts.create(.init(
                username: "quantri.he.thong.2", fullName: "Quản trị hệ thống 2", email: nil, position: nil,
                agencyCode: "000.00.00.G22", departmentCode: nil, roles: [.systemAdmin], password: "Mat-khau-2026!x"),
                by: nil, actor: .commandLine)
            let principals = try [admin, second].map {
                Principal(userID: try $0.requireID(), agencyID: $0.$agency.id, roles: [.systemAdmin])
            }
            async let a: Void = app.accounts.update(second, .init(fullName: second.fullName, email: nil, position: nil,
                departmentCode: nil, roles: [.clerk], state: .active), by: principals[0], actor: .commandLine)
            async let b: Void = app.accounts.update(try await user("admin", app), .init(fullName: admin.fullName,
                email: nil, position: nil, departmentCode: nil, roles: [.clerk], state: .active), by: principals[1],
                actor: .commandLine)
            _ = await (try? a, try? b)
            #expect(try await AccountService.activeSystemAdminCount(on: app.db) >= 1)
        }
    }

    @Test func sessionsEndOnPasswordResetLockAndRoleChange() async throws {
        try await withTestApp { app in
            let admin = TestBrowser(app)
            try await admin.login("g22.quantri")
            let clerk = try await user("g22.vanthu", app)
            let id = try clerk.requireID()
            let changes: [(String, [(String, String)])] = [
                ("password", [("password", "Mot-mat-khau-moi-1!")]),
                ("", [("full_name", clerk.fullName), ("roles[]", "clerk"), ("roles[]", "specialist"), ("state", "active")]),
                ("", [("full_name", clerk.fullName), ("roles[]", "clerk"), ("roles[]", "specialist"), ("state", "locked")]),
            ]
            var password = DemoSeeder.password
            for (index, (action, fields)) in changes.enumerated() {
                let victim = TestBrowser(app)
                try await victim.login("g22.vanthu", password: password)
                #expect(try await victim.get("/").status == .ok, "signed in before change \(index)")
                let path = "/admin/users/\(id)" + (action.isEmpty ? "" : "/\(action)")
                #expect(try await admin.post(path, fields).status == .seeOther, "change \(index)")
                #expect(try await victim.get("/").status == .seeOther, "the session survived change \(index)")
                if action == "password" { password = "Mot-mat-khau-moi-1!" }
            }
            // An edit that changes neither roles nor state keeps the sessions.
            let other = try await user("g22.lanhdao", app)
            let leader = TestBrowser(app)
            try await leader.login("g22.lanhdao")
            #expect(try await admin.post("/admin/users/\(try other.requireID())", [
                ("full_name", "Lãnh đạo đổi tên"), ("roles[]", "leader"), ("state", "active")]).status == .seeOther)
            #expect(try await leader.get("/").status == .ok)
        }
    }

    @Test func aSessionHasAnAbsoluteLifetime() async throws {
        try await withTestApp { app in
            let browser = TestBrowser(app)
            try await browser.login("g22.vanthu")
            #expect(try await browser.get("/").status == .ok)
            // Kept busy (the idle expiry moves on) but created 13 hours ago: over the 12-hour limit.
            try await app.db.sql.update(WebSession.schema)
                .set("created_at", to: Date().addingTimeInterval(-13 * 3600)).run()
            #expect(try await browser.get("/").status == .seeOther)
        }
    }

    @Test func parallelGuessesDoNotAllReachThePasswordCheck() async throws {
        try await withTestApp { app in
            let statuses = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                for attempt in 0..<20 {
                    group.addTask {
                        let browser = TestBrowser(app)
                        return try await browser.login("g22.vanthu", password: "doan-mo-\(attempt)-x").status
                    }
                }
                return try await group.reduce(into: [HTTPStatus]()) { $0.append($1) }
            }
            // Five tries (the policy), the fifth of which sets the lock; everything else meets the lock.
            #expect(statuses.filter { $0 == .ok }.count == 4, "\(statuses)")
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 16)
            let throttle = try #require(try await LoginThrottle.query(on: app.db).filter(\.$usernameKey == "g22.vanthu").first())
            #expect(throttle.failures == 5)
            #expect(try await TestBrowser(app).login("g22.vanthu").status == .tooManyRequests)
        }
    }

    @Test func oneAddressSprayingManyAccountsIsSlowedToo() async throws {
        try await withTestApp(adjust: { $0.addressLoginThrottle = LoginThrottlePolicy(maxFailures: 3) }) { app in
            let spray = AuditActor(label: "anonymous", agencyCode: nil, ip: "198.51.100.7", requestID: nil)
            for (index, name) in ["g22.vanthu", "g22.lanhdao", "g22.chuyenvien"].enumerated() {
                do {
                    _ = try await app.accounts.authenticate(username: name, password: "Mua-xuan-2026!", actor: spray)
                    Issue.record("a wrong password signed in")
                } catch let error as GovError {
                    #expect(error.code == (index < 2 ? "login_failed" : "login_locked"), "\(name)")
                }
            }
            // Now even a right password from that address waits; another address is not affected.
            await #expect(throws: GovError.self) {
                _ = try await app.accounts.authenticate(username: "h41.vanthu", password: DemoSeeder.password, actor: spray)
            }
            let elsewhere = AuditActor(label: "anonymous", agencyCode: nil, ip: "203.0.113.9", requestID: nil)
            let user = try await app.accounts.authenticate(username: "h41.vanthu", password: DemoSeeder.password, actor: elsewhere)
            #expect(user.username == "h41.vanthu")
            // A success takes its own attempt back instead of clearing what the address did before.
            let row = try #require(try await LoginThrottle.query(on: app.db).filter(\.$usernameKey == "addr:203.0.113.9").first())
            #expect(row.failures == 0)
        }
    }

    @Test func anAnonymousLoginPageWritesNoRowAndItsFormStillWorks() async throws {
        try await withTestApp { app in
            let sessions = try await WebSession.query(on: app.db).count()
            let browser = TestBrowser(app)
            for _ in 0..<5 { #expect(try await browser.get("/login").status == .ok) }
            #expect(try await WebSession.query(on: app.db).count() == sessions)
            #expect(browser.cookies["govoffice_session"] == nil)
            #expect(browser.cookies[CSRF.cookieName] != nil)
            // The signed double-submit: the token only goes with the cookie it was made for.
            let token = try await browser.token()
            #expect(token.hasPrefix("a."))
            let thief = TestBrowser(app)
            _ = try await thief.get("/login")
            let crossed = try await thief.post("/login", [("username", "g22.vanthu"), ("password", DemoSeeder.password)],
                                               csrf: .value(token))
            #expect(crossed.status == .forbidden)
            let forged = try await browser.post("/login", [("username", "g22.vanthu"), ("password", DemoSeeder.password)],
                                                csrf: .value(token.dropLast(2) + "xx"))
            #expect(forged.status == .forbidden)
            #expect(try await browser.login("g22.vanthu").status == .seeOther)
            #expect(try await browser.get("/").status == .ok)
        }
    }

    @Test func anonymousUploadsAreRefusedBeforeTheBodyIsRead() async throws {
        try await withTestApp { app in
            let browser = TestBrowser(app)
            _ = try await browser.get("/login")
            let body = ByteBuffer(string: "--x\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\nabc\r\n--x--\r\n")
            let response = try await browser.request(.POST, "/office/incoming", body: body,
                                                      contentType: HTTPMediaType(type: "multipart", subType: "form-data",
                                                                                 parameters: ["boundary": "x"]))
            #expect(response.status == .unauthorized)
            #expect(response.text.contains("not_signed_in"))
        }
    }

    @Test func nextRefusesControlCharactersAndWhitespace() async throws {
        for raw in ["/\t/evil.example", "/\n/evil.example", "/ /evil.example", "/\u{0B}/evil.example",
                    "/\u{00A0}/evil.example", "/\u{200B}/evil.example", "/a\\b"] {
            #expect(AuthController.safeNext(raw) == "/", "\(raw.debugDescription)")
        }
        #expect(AuthController.safeNext("/office/incoming?state=arrived&page=2") == "/office/incoming?state=arrived&page=2")
        try await withTestApp { app in
            let response = try await TestBrowser(app).get("/lang/vi?next=/%09/evil.example")
            #expect(response.headers.first(name: .location) == "/")
        }
    }

    @Test func demoPasswordsKeepTheServerOnLoopback() async throws {
        try await withTestApp { app in
            let accounts = try await DemoPasswordGuard.accountsWithPublishedPassword(app)
            let open = Set(accounts.map(\.username))
            #expect(open.contains("admin") && open.contains("g22.vanthu"))
            #expect(DemoPasswordGuard.refusal(open: open, host: "0.0.0.0", demo: .auto) != nil)
            #expect(DemoPasswordGuard.refusal(open: open, host: "10.1.2.3", demo: .off) != nil)
            #expect(DemoPasswordGuard.refusal(open: open, host: "127.0.0.1", demo: .auto) == nil)
            #expect(DemoPasswordGuard.refusal(open: open, host: "::1", demo: .auto) == nil)
            #expect(DemoPasswordGuard.refusal(open: open, host: "0.0.0.0", demo: .on) == nil)
            #expect(DemoPasswordGuard.refusal(open: [], host: "0.0.0.0", demo: .auto) == nil)
            #expect(DemoPasswordGuard.refusal(open: open, host: "0.0.0.0", demo: .auto)?.description
                .contains("GOVOFFICE_DEMO=on") == true)
            // Administrators see the banner, naming only the accounts they could change, each a link to its page;
            // a reset takes the account off it; others never see it.
            app.demoPasswordAccounts.withLockedValue { $0 = accounts }
            let quantri = TestBrowser(app)
            try await quantri.login("g22.quantri")
            let home = try await quantri.get("/").text
            #expect(home.contains("id=\"demo-password-banner\""))
            let clerkID = try await user("g22.vanthu", app).requireID()
            #expect(home.contains("href=\"/admin/users/\(clerkID.uuidString)\""))
            #expect(!home.contains("id=\"demo-account-admin\""), "an agency admin cannot reset the system admin")
            #expect(!home.contains("id=\"demo-account-h41.vanthu\""), "nor another agency's clerk")
            let admin = TestBrowser(app)
            try await admin.login("admin")
            let adminHome = try await admin.get("/").text
            #expect(adminHome.contains("id=\"demo-account-admin\"") && adminHome.contains("id=\"demo-account-h41.vanthu\""))
            let clerk = TestBrowser(app)
            try await clerk.login("g22.vanthu")
            #expect(!(try await clerk.get("/").text.contains("demo-password-banner")))
            #expect(try await quantri.post("/admin/users/\(clerkID)/password", [("password", "Doi-mat-khau-2026!")]).status == .seeOther)
            #expect(!app.demoPasswordAccounts.withLockedValue { $0.contains { $0.username == "g22.vanthu" } })
            #expect(!(try await quantri.get("/").text.contains("id=\"demo-account-g22.vanthu\"")))
            #expect(!(try await DemoPasswordGuard.accountsWithPublishedPassword(app).contains { $0.username == "g22.vanthu" }))
        }
    }
}
