import AsyncHTTPClient
import Fluent
import Foundation
import GovCore
import SQLKit
import Testing
import Vapor
import VaporTesting

@testable import App

/// One request to `app` over a real loopback socket (the server is started on a free port for it
/// and stopped after), redirects not followed. The in-memory tester has no peer address; here the
/// peer is 127.0.0.1, as nginx on the same machine is.
func sendOverLoopback(_ app: Application, _ path: String, method: HTTPMethod = .GET,
                      headers: HTTPHeaders = [:]) async throws -> (status: HTTPResponseStatus, headers: HTTPHeaders, body: String) {
    try await app.server.start(address: .hostname("127.0.0.1", port: 0))
    var configuration = HTTPClient.Configuration()
    configuration.redirectConfiguration = .disallow
    let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    do {
        let port = try #require(app.http.server.shared.localAddress?.port)
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        request.headers = headers
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        try await client.shutdown()
        await app.server.shutdown()
        return (response.status, response.headers, String(buffer: body))
    } catch {
        try? await client.shutdown()
        await app.server.shutdown()
        throw error
    }
}

/// Behind nginx: who the client is, when HTTPS is believed; the SQLite file's durability and its
/// online backup. The proxy tests go over real loopback sockets (sendOverLoopback).
@Suite("Deployment: proxy headers, SQLite settings, backup")
struct DeploymentTests {
    /// A route that answers with what the application believes about the request.
    private static func addProbe(_ app: Application) {
        app.get("_probe") { req in "\(req.clientIP ?? "-") \(req.cameOverHTTPS)" }
    }

    private static func probe(_ app: Application, _ headers: HTTPHeaders) async throws -> String {
        try await sendOverLoopback(app, "/_probe", headers: headers).body
    }

    @Test func theClientIsTheRightMostAddressNotATrustedProxy() async throws {
        try await withTestApp(seed: false, adjust: { $0.trustProxy = true }) { app in
            Self.addProbe(app)
            let spoofed = try await Self.probe(app, ["X-Forwarded-For": "1.2.3.4, 198.51.100.9"])
            #expect(spoofed == "198.51.100.9 false")
            let https = try await Self.probe(app, ["X-Forwarded-For": "198.51.100.9", "X-Forwarded-Proto": "https"])
            #expect(https == "198.51.100.9 true")
        }
    }

    @Test func anUntrustedPeerCannotForgeItsAddressOrHTTPS() async throws {
        // Loopback is not a trusted proxy here, so the test client is an ordinary client.
        try await withTestApp(seed: false, adjust: {
            $0.trustProxy = true
            $0.trustedProxies = try! CIDRBlock.parseList("10.0.0.0/8")
        }) { app in
            Self.addProbe(app)
            let answer = try await Self.probe(app, ["X-Forwarded-For": "198.51.100.9", "X-Forwarded-Proto": "https"])
            #expect(answer == "127.0.0.1 false")
        }
        // And with GOVOFFICE_TRUST_PROXY off nobody is believed.
        try await withTestApp(seed: false) { app in
            Self.addProbe(app)
            let answer = try await Self.probe(app, ["X-Forwarded-For": "198.51.100.9", "X-Forwarded-Proto": "https"])
            #expect(answer == "127.0.0.1 false")
        }
    }

    @Test func aBadTrustedProxyListStopsStartUp() throws {
        #expect(throws: ConfigError.self) { try AppConfig.fromEnvironment(["GOVOFFICE_TRUSTED_PROXIES": "10.0.0.0/40"]) }
        #expect(throws: ConfigError.self) { try AppConfig.fromEnvironment(["GOVOFFICE_SQLITE_SYNCHRONOUS": "off"]) }
        #expect(try AppConfig.fromEnvironment([:]).trustedProxies == ForwardedClient.loopback)
    }

    /// An application on a SQLite file of its own (whatever database the other suites use), set up
    /// the way `serve` sets up the file.
    private static func withSQLiteFile(_ path: String, adjust: (inout AppConfig) -> Void = { _ in },
                                       _ body: (Application) async throws -> Void) async throws {
        let app = try await Application.make(.testing)
        var config = AppConfig.testing(database: .sqliteFile(path: path))
        adjust(&config)
        var failure: (any Error)?
        do {
            try await configure(app, config: config)
            try await DatabaseSetup.tuneSQLite(app)
            try await app.autoMigrate()
            try await body(app)
        } catch {
            failure = error
        }
        try await app.asyncShutdown()
        if let failure { throw failure }
    }

    private static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("govoffice-\(UUID().uuidString)-\(name)").path
    }

    private static func removeDatabase(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    @Test func theServedFileIsFullySynchronousUnlessConfigured() async throws {
        let path = Self.temporaryPath("sync.sqlite")
        defer { Self.removeDatabase(path) }
        // PRAGMA synchronous: 2 = FULL, 1 = NORMAL (the driver's build default may be either).
        try await Self.withSQLiteFile(path) { app in
            let row = try #require(try await app.db.sql.raw("PRAGMA synchronous").first())
            #expect(try row.decode(column: "synchronous", as: Int.self) == 2)
        }
        try await Self.withSQLiteFile(path, adjust: { $0.sqliteSynchronous = .normal }) { app in
            let row = try #require(try await app.db.sql.raw("PRAGMA synchronous").first())
            #expect(try row.decode(column: "synchronous", as: Int.self) == 1)
        }
    }

    @Test func anOnlineBackupOpensOnItsOwnWithTheData() async throws {
        let path = Self.temporaryPath("live.sqlite")
        let copy = Self.temporaryPath("backup.sqlite")
        defer {
            Self.removeDatabase(path)
            Self.removeDatabase(copy)
        }
        try await Self.withSQLiteFile(path) { app in
            _ = try await DemoSeeder.seedIfEmpty(app)
            let bytes = try await DatabaseBackup.sqlite(app.db, to: copy)
            #expect(bytes > 0)
            // A second backup to the same file is refused, not overwritten.
            await #expect(throws: GovError.self) { _ = try await DatabaseBackup.sqlite(app.db, to: copy) }
        }
        #expect(!FileManager.default.fileExists(atPath: copy + "-wal"))
        try await Self.withSQLiteFile(copy) { app in
            let clerks = try await User.query(on: app.db).filter(\.$username == "g22.vanthu").count()
            #expect(clerks == 1)
            let audit = try await AuditLog.verify(on: app.db)
            #expect(audit.broken == nil && audit.checked > 0)
        }
    }
}
