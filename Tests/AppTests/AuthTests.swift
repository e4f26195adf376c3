import Fluent
import Foundation
import SQLKit
import GovCore
import Testing
import VaporTesting

@testable import App

@Suite("Sign-in, sessions, CSRF and back-off")
struct AuthTests {
    @Test func clerkSignsInSeesVietnameseHomeAndSignsOut() async throws {
        try await withTestApp { app in
            let browser = TestBrowser(app)
            let anonymous = try await browser.get("/")
            #expect(anonymous.status == .seeOther)
            #expect(anonymous.headers.first(name: .location)?.hasPrefix("/login") == true)

            let login = try await browser.login("g22.vanthu")
            #expect(login.status == .seeOther)
            #expect(login.headers.first(name: .location) == "/")
            let home = try await browser.get("/")
            #expect(home.status == .ok)
            #expect(home.text.contains("<html lang=\"vi\">"))
            #expect(home.text.contains("id=\"page-title\">Trang chủ<"))
            #expect(home.text.contains("Nguyễn Thị Văn Thư"))

            let logout = try await browser.post("/logout", [])
            #expect(logout.status == .seeOther)
            #expect(try await browser.get("/").status == .seeOther)
        }
    }

    @Test func sessionCookieIsHttpOnlyAndLax() async throws {
        try await withTestApp { app in
            // The sign-in page sets only the anonymous form cookie; the session cookie comes with signing in.
            let page = try await app.testing().sendRequest(.GET, "/login")
            #expect(page.headers.setCookie?["govoffice_session"] == nil)
            let csrf = try #require(page.headers.setCookie?[CSRF.cookieName])
            #expect(csrf.isHTTPOnly && csrf.sameSite == .lax && !csrf.isSecure)
            let browser = TestBrowser(app)
            let login = try await browser.login("g22.vanthu")
            let cookie = try #require(login.headers.setCookie?["govoffice_session"])
            #expect(cookie.isHTTPOnly)
            #expect(cookie.sameSite == .lax)
            #expect(!cookie.isSecure, "plain HTTP must not mark the cookie Secure, or browsers drop it")
        }
    }

    @Test func cookieIsSecureBehindATrustedHTTPSProxy() async throws {
        try await withTestApp(adjust: { $0.trustProxy = true }) { app in
            // Over a real loopback socket: the scheme header counts only from a trusted proxy's address.
            let response = try await sendOverLoopback(app, "/login", headers: ["X-Forwarded-Proto": "https"])
            let cookie = try #require(response.headers.setCookie?[CSRF.cookieName])
            #expect(cookie.isSecure)
            #expect(response.headers.first(name: "Strict-Transport-Security") != nil)
        }
    }

    @Test func hstsFollowsHTTPSAndNotTheCookiePolicy() async throws {
        try await withTestApp(adjust: { $0.trustProxy = true; $0.secureCookies = .never }) { app in
            // Over a real loopback socket: the scheme header counts only from a trusted proxy's address.
            let response = try await sendOverLoopback(app, "/login", headers: ["X-Forwarded-Proto": "https"])
            #expect(response.headers.first(name: "Strict-Transport-Security") != nil)
            #expect(response.headers.setCookie?[CSRF.cookieName]?.isSecure == false)
        }
    }

    @Test func theLanguageCookieIsSecureOverHTTPSLikeTheOthers() async throws {
        try await withTestApp(adjust: { $0.trustProxy = true }) { app in
            let https = try await sendOverLoopback(app, "/lang/en", headers: ["X-Forwarded-Proto": "https"])
            #expect(https.headers.setCookie?["govoffice_lang"]?.isSecure == true)
            let http = try await app.testing().sendRequest(.GET, "/lang/en")
            #expect(http.headers.setCookie?["govoffice_lang"]?.isSecure == false)
            #expect(http.headers.first(name: "Strict-Transport-Security") == nil)
        }
    }

    @Test func signInIssuesANewSessionID() async throws {
        try await withTestApp { app in
            let browser = TestBrowser(app)
            // An attacker fixes a session id in the victim's browser before sign-in.
            let planted = SystemSecret.generate()
            browser.cookies["govoffice_session"] = planted
            try await browser.login("g22.vanthu")
            let after = try #require(browser.cookies["govoffice_session"])
            #expect(planted != after)
            // The planted id (what an attacker fixed) is not signed in.
            let attacker = TestBrowser(app)
            attacker.cookies["govoffice_session"] = planted
            #expect(try await attacker.get("/").status == .seeOther)
        }
    }

    @Test func wrongPasswordAndUnknownUserGetTheSameAnswer() async throws {
        try await withTestApp { app in
            let wrong = TestBrowser(app)
            let first = try await wrong.login("g22.vanthu", password: "not-the-password-1")
            let unknown = TestBrowser(app)
            let second = try await unknown.login("nobody.here", password: "not-the-password-1")
            #expect(first.status == .ok)
            #expect(second.status == .ok)
            let message = "Tên đăng nhập hoặc mật khẩu không đúng"
            #expect(first.text.contains(message))
            #expect(second.text.contains(message))
            #expect(first.text.contains("id=\"login-error\""))
            // No session was signed in.
            #expect(try await wrong.get("/").status == .seeOther)
            // And the audit trail saw the failure.
            let failures = try await AuditRecord.query(on: app.db).filter(\.$action == "auth.login_failed").count()
            #expect(failures == 2)
        }
    }

    @Test func fiveFailuresPauseSignInEvenWithTheRightPassword() async throws {
        try await withTestApp { app in
            for name in ["g22.vanthu", "ghost.user"] {
                let browser = TestBrowser(app)
                for attempt in 1...5 {
                    let response = try await browser.login(name, password: "wrong-password-\(attempt)")
                    #expect(response.status == (attempt < 5 ? .ok : .tooManyRequests), "\(name) attempt \(attempt)")
                }
                let locked = try await browser.login(name, password: DemoSeeder.password)
                #expect(locked.status == .tooManyRequests, "\(name)")
                #expect(locked.text.contains("thử lại sau"), "\(name)")
                #expect(try await browser.get("/").status == .seeOther, "\(name)")
            }
        }
    }

    @Test func backOffEndsAndASuccessClearsTheCount() async throws {
        try await withTestApp { app in
            let browser = TestBrowser(app)
            for attempt in 1...5 { try await browser.login("g22.vanthu", password: "wrong-\(attempt)-x") }
            // Time passes: the lock expires.
            let throttle = try #require(try await LoginThrottle.query(on: app.db).filter(\.$usernameKey == "g22.vanthu").first())
            throttle.lockedUntil = Date().addingTimeInterval(-1)
            try await throttle.save(on: app.db)
            #expect(try await browser.login("g22.vanthu").status == .seeOther)
            #expect(try await LoginThrottle.query(on: app.db).filter(\.$usernameKey == "g22.vanthu").count() == 0)
        }
    }

    @Test func formsWithoutTheCSRFTokenAreRefused() async throws {
        try await withTestApp { app in
            let browser = TestBrowser(app)
            _ = try await browser.token()
            let missing = try await browser.post("/login", [("username", "g22.vanthu"), ("password", DemoSeeder.password)],
                                                 csrf: .none)
            #expect(missing.status == .forbidden)
            #expect(missing.text.contains("csrf_invalid"))
            let wrong = try await browser.post("/login", [("username", "g22.vanthu"), ("password", DemoSeeder.password)],
                                               csrf: .value("gos_forged-token"))
            #expect(wrong.status == .forbidden)
            // A token from another browser's session does not work either.
            let other = TestBrowser(app)
            let stolen = try await other.token()
            let crossed = try await browser.post("/login", [("username", "g22.vanthu"), ("password", DemoSeeder.password)],
                                                 csrf: .value(stolen))
            #expect(crossed.status == .forbidden)
            // Signed-in actions too.
            try await browser.login("admin")
            let logout = try await browser.post("/logout", [], csrf: .none)
            #expect(logout.status == .forbidden)
            #expect(try await browser.get("/").status == .ok)
        }
    }

    @Test func aLoggedOutSessionCookieIsWorthless() async throws {
        try await withTestApp { app in
            let browser = TestBrowser(app)
            try await browser.login("g22.quantri")
            let cookie = try #require(browser.cookies["govoffice_session"])
            try await browser.post("/logout", [])
            let replay = TestBrowser(app)
            replay.cookies["govoffice_session"] = cookie
            #expect(try await replay.get("/").status == .seeOther)
            replay.acceptJSON = true
            let api = try await replay.get("/api/v1/users")
            #expect(api.status == .unauthorized)
            #expect(api.errorCode == "not_signed_in")
        }
    }

    @Test func lockedAccountsAndAgenciesCannotSignIn() async throws {
        try await withTestApp { app in
            let user = try #require(try await User.query(on: app.db).filter(\.$username == "g22.chuyenvien").first())
            user.state = UserState.locked.rawValue
            try await user.save(on: app.db)
            #expect(try await TestBrowser(app).login("g22.chuyenvien").text.contains("id=\"login-error\""))

            let agency = try #require(try await Agency.query(on: app.db).filter(\.$code == "000.00.00.H41").first())
            agency.state = AgencyState.locked.rawValue
            try await agency.save(on: app.db)
            let browser = TestBrowser(app)
            #expect(try await browser.login("h41.vanthu").text.contains("id=\"login-error\""))
            #expect(try await browser.get("/").status == .seeOther)
        }
    }

    @Test func aSessionEndsWhenItsAgencyIsLocked() async throws {
        try await withTestApp { app in
            let browser = TestBrowser(app)
            try await browser.login("h41.vanthu")
            #expect(try await browser.get("/").status == .ok)
            let agency = try #require(try await Agency.query(on: app.db).filter(\.$code == "000.00.00.H41").first())
            agency.state = AgencyState.locked.rawValue
            try await agency.save(on: app.db)
            #expect(try await browser.get("/").status == .seeOther)
        }
    }

    @Test func signInRedirectsOnlyToLocalPaths() {
        #expect(AuthController.safeNext("/admin/users?agency=x") == "/admin/users?agency=x")
        #expect(AuthController.safeNext("//evil.example/") == "/")
        #expect(AuthController.safeNext("https://evil.example/") == "/")
        #expect(AuthController.safeNext("/\\evil.example") == "/")
        #expect(AuthController.safeNext(nil) == "/")
    }

    @Test func languageSwitchSetsACookieAndPagesFollowIt() async throws {
        try await withTestApp { app in
            let browser = TestBrowser(app)
            let vi = try await browser.get("/agencies")
            #expect(vi.text.contains("Danh bạ cơ quan"))
            let switchResponse = try await browser.get("/lang/en?next=%2Fagencies")
            #expect(switchResponse.status == .seeOther)
            #expect(switchResponse.headers.first(name: .location) == "/agencies")
            let en = try await browser.get("/agencies")
            #expect(en.text.contains("<html lang=\"en\">"))
            #expect(en.text.contains("Agency directory"))
            #expect(try await browser.get("/lang/fr").status == .notFound)
        }
    }

    @Test func sessionsAreStoredHashedAndExpireWhenIdle() async throws {
        try await withTestApp { app in
            let browser = TestBrowser(app)
            try await browser.login("g22.vanthu")
            let cookie = try #require(browser.cookies["govoffice_session"])
            let rows = try await WebSession.query(on: app.db).all()
            #expect(rows.contains { $0.id == SystemSecret.hash(cookie) })
            #expect(!rows.contains { $0.id == cookie || $0.data.contains(cookie) })
            // Idle beyond the limit: the session is gone.
            try await WebSession.query(on: app.db).set(\.$expiresAt, to: Date().addingTimeInterval(-1)).update()
            #expect(try await browser.get("/").status == .seeOther)
        }
    }

    @Test func housekeepingSweepsExpiredSessionsAndQuietFailureCounts() async throws {
        try await withTestApp { app in
            let old = TestBrowser(app)
            try await old.login("g22.vanthu")
            let fresh = TestBrowser(app)
            try await fresh.login("g22.lanhdao")
            try await old.login("g22.vanthu", password: "wrong-password-1")
            try await WebSession.query(on: app.db).filter(\.$id == SystemSecret.hash(old.cookies["govoffice_session"] ?? ""))
                .set(\.$expiresAt, to: Date().addingTimeInterval(-60)).update()
            let throttle = try #require(try await LoginThrottle.query(on: app.db).first())
            try await app.db.sql.update(LoginThrottle.schema).set("updated_at", to: Date().addingTimeInterval(-2 * 86_400))
                .where("id", .equal, try throttle.requireID()).run()
            let before = try await WebSession.query(on: app.db).count()
            await Housekeeping.run(app)
            #expect(try await WebSession.query(on: app.db).count() == before - 1)
            #expect(try await LoginThrottle.query(on: app.db).count() == 0)
            #expect(try await fresh.get("/").status == .ok)
        }
    }
}
