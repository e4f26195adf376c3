import Foundation
import Testing
import VaporTesting

@testable import App

@Suite("Operations: health, readiness, metrics, headers")
struct OperationsTests {
    @Test func healthAndReadinessAnswer() async throws {
        try await withTestApp(seed: false) { app in
            let health = try await app.testing().sendRequest(.GET, "/healthz")
            #expect(health.status == .ok)
            #expect(health.body.string.contains("\"ok\""))
            let ready = try await app.testing().sendRequest(.GET, "/readyz")
            #expect(ready.status == .ok)
            #expect(ready.body.string.contains(TestDatabase.name))
        }
    }

    @Test func metricsCountRequestsByRoutePattern() async throws {
        try await withTestApp { app in
            _ = try await app.testing().sendRequest(.GET, "/api/v1/agencies/000.00.00.G22")
            _ = try await app.testing().sendRequest(.GET, "/api/v1/agencies/000.00.00.X99")
            let metrics = try await app.testing().sendRequest(.GET, "/metrics")
            #expect(metrics.status == .ok)
            let text = metrics.body.string
            #expect(text.contains("govoffice_http_requests_total"))
            #expect(text.contains("route=\"/api/v1/agencies/:code\""))
            #expect(text.contains("status=\"404\""))
            #expect(text.contains("govoffice_http_request_duration_seconds_bucket"))
            // The raw code never becomes a label: ids would explode the series count.
            #expect(!text.contains("000.00.00.X99"))
        }
    }

    @Test func everyResponseCarriesSecurityHeadersAndRequestID() async throws {
        try await withTestApp(seed: false) { app in
            for path in ["/login", "/agencies", "/api/v1/agencies", "/no-such-page"] {
                let response = try await app.testing().sendRequest(.GET, path)
                let csp = try #require(response.headers.first(name: "Content-Security-Policy"))
                #expect(!csp.contains("unsafe-inline"), "\(path)")
                #expect(csp.contains("frame-ancestors 'none'"), "\(path)")
                #expect(csp.contains("default-src 'self'"), "\(path)")
                #expect(response.headers.first(name: "X-Content-Type-Options") == "nosniff", "\(path)")
                #expect(response.headers.first(name: "Referrer-Policy") == "same-origin", "\(path)")
                #expect(response.headers.first(name: "X-Frame-Options") == "DENY", "\(path)")
                #expect(!(response.headers.first(name: "X-Request-Id") ?? "").isEmpty, "\(path)")
            }
        }
    }

    @Test func pagesLoadOnlyLocalAssets() async throws {
        try await withTestApp { app in
            let page = try await app.testing().sendRequest(.GET, "/agencies")
            let html = page.body.string
            #expect(!html.contains("src=\"http"))
            #expect(!html.contains("href=\"http"))
            #expect(!html.contains("<script"))
            #expect(!html.contains("style=\""))
            let css = try await app.testing().sendRequest(.GET, "/css/app.css")
            #expect(css.status == .ok)
        }
    }
}

@Suite("Errors: one body for APIs, a page for browsers")
struct ErrorHandlingTests {
    @Test func apiErrorsUseTheProjectBody() async throws {
        try await withTestApp { app in
            let response = try await app.testing().sendRequest(.GET, "/api/v1/agencies/000.00.00.X99")
            #expect(response.status == .notFound)
            #expect(response.errorCode == "agency_not_found")
            struct Body: Decodable { struct D: Decodable { var message: String; var message_en: String }; var error: D }
            let body = try JSONDecoder().decode(Body.self, from: Data(buffer: response.body))
            #expect(body.error.message.contains("Không tìm thấy"))
            #expect(body.error.message_en.contains("No agency"))
        }
    }

    @Test func apiClientsMayAskForEnglish() async throws {
        try await withTestApp { app in
            let response = try await app.testing().sendRequest(
                .GET, "/api/v1/agencies/nope", headers: ["Accept-Language": "en-GB,en;q=0.9"])
            #expect(response.body.string.contains("\"message\":\"No agency with code nope.\""))
        }
    }

    @Test func browsersGetAPageWithoutInternals() async throws {
        try await withTestApp(seed: false) { app in
            let response = try await app.testing().sendRequest(.GET, "/no/such/page", headers: ["Accept": "text/html"])
            #expect(response.status == .notFound)
            #expect(response.headers.contentType?.subType == "html")
            let html = response.body.string
            #expect(html.contains("id=\"error-code\">not_found<"))
            #expect(html.contains("lang=\"vi\""))
            #expect(!html.contains("Swift"))
            #expect(!html.contains(".swift"))
        }
    }

    @Test func badQueryParametersAre400WithACode() async throws {
        try await withTestApp { app in
            for path in ["/api/v1/agencies?page=abc", "/api/v1/agencies?per_page=0", "/api/v1/agencies?state=dead",
                         "/api/v1/agencies?q=" + String(repeating: "x", count: 500)] {
                let response = try await app.testing().sendRequest(.GET, path)
                #expect(response.status == .badRequest, "\(path)")
                #expect(response.errorCode == "query_invalid" || response.errorCode == "query_too_long", "\(path)")
            }
        }
    }

    @Test func malformedJSONIs400WithACode() async throws {
        try await withTestApp { app in
            let browser = TestBrowser(app)
            try await browser.login("admin")
            let token = try await browser.token()
            for body in ["{\"username\": ", "not json at all", "[1,2"] {
                let response = try await browser.request(
                    .POST, "/admin/users", headers: ["X-CSRF-Token": token, "Accept": "application/json"],
                    body: ByteBuffer(string: body), contentType: .json)
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.errorCode == "malformed_body", "\(body)")
            }
            let missing = try await browser.request(
                .POST, "/admin/users", headers: ["X-CSRF-Token": token, "Accept": "application/json"],
                body: ByteBuffer(string: "{\"username\":\"x\"}"), contentType: .json)
            #expect(missing.status == .badRequest)
            #expect(missing.errorCode == "missing_field")
        }
    }

    @Test func bodyOverTheLimitIs413() async throws {
        try await withTestApp { app in
            // Over real HTTP: the in-memory tester hands routes an already collected body.
            let browser = TestBrowser(app, method: .running(port: 0))
            let token = try await browser.token()
            let big = String(repeating: "a", count: (1 << 20) + 10)
            // Token in the header: the route itself refuses the body.
            let viaHeader = try await browser.request(
                .POST, "/login", headers: ["X-CSRF-Token": token, "Accept": "application/json"],
                body: ByteBuffer(string: "username=" + big), contentType: .urlEncodedForm)
            #expect(viaHeader.status == .payloadTooLarge)
            #expect(viaHeader.errorCode == "payload_too_large")
            // Token in the body: the CSRF check collects the body within the same limit.
            let viaBody = try await browser.request(
                .POST, "/login", headers: ["Accept": "application/json"],
                body: ByteBuffer(string: "_csrf=\(token)&username=" + big), contentType: .urlEncodedForm)
            #expect(viaBody.status == .payloadTooLarge)
        }
    }
}

@Suite("Configuration from the environment")
struct ConfigTests {
    @Test func defaultsAreTheEmbeddedSQLiteFile() throws {
        let config = try AppConfig.fromEnvironment([:])
        #expect(config.database == .sqliteFile(path: "data/govoffice.sqlite"))
        #expect(config.autoMigrate)
        #expect(config.maxBodyBytes == 10 << 20)
        #expect(config.loginThrottle.maxFailures == 5)
    }

    @Test func postgresURLSwitchesToPostgreSQLWithoutAutoMigration() throws {
        let config = try AppConfig.fromEnvironment(["DATABASE_URL": "postgres://u@127.0.0.1:5432/db"])
        #expect(config.database.isPostgres)
        #expect(!config.autoMigrate)
    }

    @Test(arguments: [
        ("DATABASE_URL", "mysql://x"), ("GOVOFFICE_MAX_BODY", "lots"), ("GOVOFFICE_MAX_BODY", "-5mb"),
        ("GOVOFFICE_DEMO", "maybe"), ("GOVOFFICE_LOGIN_MAX_FAILURES", "0"), ("GOVOFFICE_BCRYPT_COST", "99"),
        ("GOVOFFICE_TRUST_PROXY", "perhaps"), ("GOVOFFICE_WEBHOOK_ALLOW", "10.0.0.0/8,intranet.gov.vn"),
        ("GOVOFFICE_WEBHOOK_ALLOW", "127.0.0.0/33"),
    ])
    func badValuesStopStartUpNamingTheKey(key: String, value: String) {
        #expect(throws: ConfigError.self) { try AppConfig.fromEnvironment([key: value]) }
        do {
            _ = try AppConfig.fromEnvironment([key: value])
        } catch {
            #expect(String(describing: error).contains(key))
        }
    }

    @Test func webhookAllowListParses() throws {
        #expect(try AppConfig.fromEnvironment([:]).hub.webhookAllow.isEmpty)
        let config = try AppConfig.fromEnvironment(["GOVOFFICE_WEBHOOK_ALLOW": "127.0.0.0/8, 10.20.0.0/16,fd00::/8"])
        #expect(config.hub.webhookAllow.map(\.description) == ["127.0.0.0/8", "10.20.0.0/16", "fd00::/8"])
    }

    @Test func sizesParse() {
        #expect(ByteSize.parse("10mb") == 10 << 20)
        #expect(ByteSize.parse("512KB") == 512 << 10)
        #expect(ByteSize.parse("1048576") == 1_048_576)
        #expect(ByteSize.parse("0") == nil)
        #expect(ByteSize.parse("mb") == nil)
    }
}

@Suite("Finding Resources/ and Public/")
struct ResourceRootTests {
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func homeWinsThenWorkingDirectoryThenTheExecutablesCheckout() throws {
        let elsewhere = FileManager.default.temporaryDirectory.path
        let binary = Self.checkout.appendingPathComponent(".build/debug/govoffice").path
        // GOVOFFICE_HOME first, even when the working directory also qualifies.
        let home = try #require(ResourceRoot.locate(environment: ["GOVOFFICE_HOME": Self.checkout.path],
                                                     executable: "/nowhere/govoffice", workingDirectory: elsewhere))
        #expect(home.standardizedFileURL == Self.checkout.standardizedFileURL)
        let fromCWD = try #require(ResourceRoot.locate(environment: [:], executable: "/nowhere/govoffice",
                                                        workingDirectory: Self.checkout.path))
        #expect(fromCWD.standardizedFileURL == Self.checkout.standardizedFileURL)
        let fromBinary = try #require(ResourceRoot.locate(environment: [:], executable: binary, workingDirectory: elsewhere))
        #expect(fromBinary.standardizedFileURL == Self.checkout.standardizedFileURL)
        #expect(ResourceRoot.locate(environment: [:], executable: "/nowhere/govoffice", workingDirectory: elsewhere) == nil)
    }
}
