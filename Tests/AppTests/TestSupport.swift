import Fluent
import Foundation
import GovCore
import SQLKit
import Testing
import VaporTesting

@testable import App

/// The database the App suites run on: in-memory SQLite, or — when `GOVOFFICE_TEST_POSTGRES_URL`
/// is set (./scripts/test does) — PostgreSQL, each test in a schema of its own so tests can run
/// in parallel and leave nothing behind.
enum TestDatabase {
    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["GOVOFFICE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }
    static var name: String { postgresURL == nil ? "sqlite" : "postgresql" }
}

/// The hub seal every test application is given: test applications are not demos
/// (GOVOFFICE_DEMO=off), and outside demo mode a server does not boot without a seal. Made once
/// per test run (`HubSeal.makeDemo`, as `pki demo` makes it for the black-box harnesses).
let testHubSeal: (keyPath: String, certPath: String) = {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("govoffice-test-seal-\(UUID().uuidString)").path
    do {
        return try HubSeal.makeDemo(in: folder)
    } catch {
        fatalError("cannot make the test hub seal: \(error)")
    }
}()

/// Owns one application's life: configure → migrate → seed the demo data → test → drop → shut down.
func withTestApp(
    seed: Bool = true,
    adjust: (inout AppConfig) -> Void = { _ in },
    _ body: (Application) async throws -> Void
) async throws {
    let app = try await Application.make(.testing)
    var schema: String?
    var config: AppConfig
    if let url = TestDatabase.postgresURL {
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        schema = String(name)
        config = .testing(database: .postgres(url: url, searchPath: [String(name)]))
    } else {
        config = .testing()
    }
    config.hub.sealKeyPath = testHubSeal.keyPath
    config.hub.sealCertificatePath = testHubSeal.certPath
    adjust(&config)
    var failure: (any Error)?
    do {
        try await configure(app, config: config)
        if let schema { try await app.db.sql.raw("CREATE SCHEMA \(ident: schema)").run() }
        try await app.autoMigrate()
        if seed { try await DemoSeeder.seedIfEmpty(app) }
        try await body(app)
    } catch {
        failure = error
    }
    if let schema { try? await app.db.sql.raw("DROP SCHEMA IF EXISTS \(ident: schema) CASCADE").run() }
    try await app.asyncShutdown()
    if let failure { throw failure }
}

/// A browser stand-in: keeps cookies between requests and fills in CSRF tokens.
final class TestBrowser: @unchecked Sendable {
    let app: Application
    var cookies: [String: String] = [:]
    var acceptJSON = false
    /// In memory by default; `.running` goes through the real HTTP server (body limits, headers).
    let method: Application.Method

    init(_ app: Application, method: Application.Method = .inMemory) {
        self.app = app
        self.method = method
    }

    @discardableResult
    func request(_ method: HTTPMethod, _ path: String, headers extra: HTTPHeaders = [:],
                 body: ByteBuffer? = nil, contentType: HTTPMediaType? = nil) async throws -> TestingHTTPResponse {
        var headers = extra
        if !cookies.isEmpty {
            headers.replaceOrAdd(name: .cookie, value: cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))
        }
        if headers.first(name: .accept) == nil {
            headers.replaceOrAdd(name: .accept, value: acceptJSON ? "application/json" : "text/html")
        }
        if let contentType { headers.contentType = contentType }
        let response = try await app.testing(method: self.method).sendRequest(method, path, headers: headers, body: body)
        for (name, value) in response.headers.setCookie?.all ?? [:] {
            if value.expires.map({ $0 < Date() }) == true || value.string.isEmpty {
                cookies[name] = nil
            } else {
                cookies[name] = value.string
            }
        }
        return response
    }

    func get(_ path: String) async throws -> TestingHTTPResponse { try await request(.GET, path) }

    /// Posts a URL-encoded form; the CSRF token of the current session is added unless `csrf` says otherwise.
    @discardableResult
    func post(_ path: String, _ fields: [(String, String)], csrf: CSRFMode = .session) async throws -> TestingHTTPResponse {
        var fields = fields
        switch csrf {
        case .session: fields.append(("_csrf", try await token()))
        case .value(let value): fields.append(("_csrf", value))
        case .none: break
        }
        return try await request(.POST, path, body: ByteBuffer(string: Self.formEncode(fields)),
                                 contentType: .urlEncodedForm)
    }

    enum CSRFMode { case session, value(String), none }

    /// The CSRF token of this browser's session (a page with a form creates the session).
    func token() async throws -> String {
        let page = try await get("/login")
        if let token = Self.extractToken(page.body.string) { return token }
        // Signed in: /login redirects; any page with the header's logout form carries the token.
        let home = try await get("/agencies")
        guard let token = Self.extractToken(home.body.string) else {
            throw TestFailure("no CSRF token on /login or /agencies")
        }
        return token
    }

    static func extractToken(_ html: String) -> String? {
        guard let range = html.range(of: "name=\"_csrf\" value=\"") else { return nil }
        let rest = html[range.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }

    @discardableResult
    func login(_ username: String, password: String = DemoSeeder.password) async throws -> TestingHTTPResponse {
        try await post("/login", [("username", username), ("password", password)])
    }

    static func formEncode(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { key, value in
            (key.addingPercentEncoding(withAllowedCharacters: allowed) ?? key) + "=" +
                (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)
        }.joined(separator: "&")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension TestingHTTPResponse {
    /// The project's error body, decoded.
    var errorCode: String? {
        struct Body: Decodable { struct Detail: Decodable { var code: String }; var error: Detail }
        return try? JSONDecoder().decode(Body.self, from: Data(buffer: body)).error.code
    }

    var text: String { body.string }
}

/// The agency id of a demo agency.
func agencyID(_ code: String, _ app: Application) async throws -> UUID {
    guard let agency = try await Agency.query(on: app.db).filter(\.$code == code).first() else {
        throw TestFailure("no agency \(code)")
    }
    return try agency.requireID()
}
