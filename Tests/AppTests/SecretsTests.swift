import Fluent
import Foundation
import GovCore
import SQLKit
import Testing
import VaporTesting

@testable import App

/// Issue 14 item 2: secrets and keys at rest — sealed hub and webhook secrets, the key's checks and
/// rotation, private key files created 0600, the PKCS#11 module and key folder allow-lists, and
/// the hub's seal outside demo mode.
@Suite("Secrets and keys at rest", .serialized)
struct SecretsTests {
    static let h41 = OfficeTests.h41
    static let g22 = OfficeTests.g22

    static func temporaryFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A webhook row written straight into the table, as a database from before sealing holds it.
    static func insertWebhook(_ app: Application, id: UUID = UUID(), systemID: String, secret: String) async throws -> UUID {
        try await app.db.sql.insert(into: "exchange_webhooks")
            .columns("id", "agency_code", "system_id", "url", "secret", "created_ms")
            .values(SQLBind(id), SQLBind(h41), SQLBind(systemID), SQLBind("http://127.0.0.1:9/hook"), SQLBind(secret), SQLBind(Int64(1)))
            .run()
        return id
    }

    /// A webhook row holding `secret` sealed by the application's key.
    static func insertSealedWebhook(_ app: Application, systemID: String, secret: String) async throws -> UUID {
        let id = UUID()
        return try await insertWebhook(app, id: id, systemID: systemID,
                                       secret: try await app.secrets.seal(secret, .webhookSecret, id: id, on: app.db))
    }

    static func rawSecret(_ app: Application, table: String, id: UUID) async throws -> String {
        struct Row: Decodable { var secret: String }
        let row = try await app.db.sql.select().column("secret").from(table).where("id", .equal, SQLBind(id)).first(decoding: Row.self)
        return try #require(row).secret
    }

    static func expectCode(_ code: String, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected \(code)")
        } catch let error as GovError {
            #expect(error.code == code)
        } catch let refusal as StartupRefusal {
            #expect(refusal.error.code == code)
            #expect(refusal.description.contains(refusal.error.vi) && refusal.description.contains(refusal.error.en))
        } catch {
            Issue.record("expected \(code), got \(error)")
        }
    }

    /// A demo PKI under a folder of its own, and an office connection of H41 made through `connect`.
    static func connectOffice(_ app: Application, secret: String) async throws -> OfficeConnection {
        _ = try await DemoCertificates.create(app)
        let dir = app.govConfig.pkiDirectory
        try await app.office.connect(.init(agencyCode: h41, hubURL: "https://hub.example.gov.vn", systemID: "office-h41", secret: secret,
                                           keyPath: "\(dir)/agencies/\(h41).key", certPath: "\(dir)/agencies/\(h41).pem"),
                                     vault: app.secrets, config: app.govConfig, actor: .commandLine)
        return try #require(try await OfficeConnection.query(on: app.db).filter(\.$agencyCode == h41).first())
    }

    // MARK: sealed rows

    @Test("an office's hub secret is stored sealed to its row, and the worker's link opens it")
    func officeSecretSealed() async throws {
        let pki = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: pki) }
        try await withTestApp(adjust: { $0.pkiDirectory = pki }) { app in
            let secret = "gos_office-secret-\(UUID().uuidString)"
            let connection = try await Self.connectOffice(app, secret: secret)
            let raw = try await Self.rawSecret(app, table: "office_connections", id: try connection.requireID())
            #expect(!raw.contains(secret), "the column holds no clear secret")
            let keyID = try #require(try app.secrets.configured()).box.keyID
            #expect(raw.hasPrefix("v1:\(keyID):"))
            let link = try #require(try await OfficeWorker.link(app, agency: Self.h41))
            #expect(link.secret == secret)
        }
    }

    @Test("a sealed value copied into another row does not open there")
    func ciphertextBoundToRow() async throws {
        try await withTestApp { app in
            let first = UUID(), second = UUID()
            let sealed = try await app.secrets.seal("webhook-secret-0123456789", .webhookSecret, id: first, on: app.db)
            _ = try await Self.insertWebhook(app, id: first, systemID: "sys-a", secret: sealed)
            _ = try await Self.insertWebhook(app, id: second, systemID: "sys-b", secret: sealed)
            #expect(try await app.secrets.open(try await Self.rawSecret(app, table: "exchange_webhooks", id: first),
                                               .webhookSecret, id: first, on: app.db) == "webhook-secret-0123456789")
            await Self.expectCode("secret_unreadable") {
                _ = try await app.secrets.open(try await Self.rawSecret(app, table: "exchange_webhooks", id: second),
                                               .webhookSecret, id: second, on: app.db)
            }
            // Nor in the other table under the same id.
            await Self.expectCode("secret_unreadable") { _ = try await app.secrets.open(sealed, .officeSecret, id: first, on: app.db) }
        }
    }

    @Test("a clear value is never taken as a secret; start-up seals rows from before sealing")
    func clearRowsSealedAtStartup() async throws {
        try await withTestApp { app in
            let id = try await Self.insertWebhook(app, systemID: "legacy", secret: "legacy-clear-secret-123")
            await Self.expectCode("secret_unreadable") { _ = try await app.secrets.open("legacy-clear-secret-123", .webhookSecret, id: id, on: app.db) }
            #expect(try await app.secrets.prepare(on: app.db, logger: app.logger) == 1)
            let raw = try await Self.rawSecret(app, table: "exchange_webhooks", id: id)
            #expect(!raw.contains("legacy-clear-secret-123") && SecretBox.isSealed(raw))
            #expect(try await app.secrets.open(raw, .webhookSecret, id: id, on: app.db) == "legacy-clear-secret-123")
            #expect(try await app.secrets.prepare(on: app.db, logger: app.logger) == 0, "a second start has nothing to seal")
        }
    }

    @Test("rows sealed by another key, or no key at all, stop start-up naming GOVOFFICE_SECRETS_KEY")
    func wrongOrMissingKeyStopsStartup() async throws {
        try await withTestApp { app in
            let id = try await Self.insertSealedWebhook(app, systemID: "sys-a", secret: "webhook-secret-0123456789")
            var other = app.govConfig
            other.secrets.key = SecretBox.generateKeyBase64()
            let wrong = SecretsVault(config: other)
            do {
                try await wrong.prepare(on: app.db, logger: app.logger)
                Issue.record("a wrong key must stop start-up")
            } catch let error as GovError {
                #expect(error.code == "secrets_key_wrong")
                #expect(error.vi.contains("GOVOFFICE_SECRETS_KEY") && error.en.contains("GOVOFFICE_SECRETS_KEY"))
            }
            await Self.expectCode("secrets_key_wrong") {
                _ = try await wrong.open(try await Self.rawSecret(app, table: "exchange_webhooks", id: id), .webhookSecret, id: id, on: app.db)
            }
            // PostgreSQL without a key: refused before anything is read, and no key is made.
            var postgres = app.govConfig
            postgres.database = .postgres(url: "postgres://unused@127.0.0.1:1/none", searchPath: nil)
            postgres.secrets.key = nil
            await Self.expectCode("secrets_key_missing") { try await SecretsVault(config: postgres).prepare(on: app.db, logger: app.logger) }
        }
    }

    @Test("rotation re-seals every row under the new key in one go; the old key opens nothing afterwards")
    func rotation() async throws {
        try await withTestApp { app in
            let sealedID = try await Self.insertSealedWebhook(app, systemID: "sys-a", secret: "first-secret-0123456789")
            let clearID = try await Self.insertWebhook(app, systemID: "sys-b", secret: "second-secret-0123456789")
            let oldConfig = app.govConfig
            let newKey = SecretBox.generateKeyBase64()
            let newBox = try SecretBox(base64: newKey)
            let result = try await SecretsVault(config: oldConfig).rotate(to: newBox, newKeyText: newKey, on: app.db)
            #expect(result.count == 2)
            var newConfig = oldConfig
            newConfig.secrets.key = newKey
            let rotated = SecretsVault(config: newConfig)
            for (id, clear) in [(sealedID, "first-secret-0123456789"), (clearID, "second-secret-0123456789")] {
                let raw = try await Self.rawSecret(app, table: "exchange_webhooks", id: id)
                #expect(SecretBox.keyID(of: raw) == newBox.keyID)
                #expect(try await rotated.open(raw, .webhookSecret, id: id, on: app.db) == clear)
                await Self.expectCode("secrets_key_wrong") { _ = try await SecretsVault(config: oldConfig).open(raw, .webhookSecret, id: id, on: app.db) }
            }
            await Self.expectCode("secrets_key_wrong") { try await SecretsVault(config: oldConfig).prepare(on: app.db, logger: app.logger) }
            #expect(try await rotated.prepare(on: app.db, logger: app.logger) == 0)
        }
    }

    @Test("on a SQLite file without a key, secrets.key is made 0600 beside it once; a shared key file is refused")
    func generatedKeyFile() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await withTestApp { app in
            var config = app.govConfig
            config.database = .sqliteFile(path: "\(folder)/govoffice.sqlite")
            config.secrets.key = nil
            let keyPath = "\(folder)/secrets.key"
            #expect(try SecretsVault(config: config).configured() == nil, "nothing is made before it is needed")
            let made = try await SecretsVault(config: config).box(on: app.db)
            #expect(try PrivateFile.permissions(keyPath) == 0o600)
            #expect(try await SecretsVault(config: config).box(on: app.db).keyID == made.keyID, "the next start reads the same key")

            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keyPath)
            await Self.expectCode("secrets_key_file_shared") { _ = try await SecretsVault(config: config).box(on: app.db) }

            // Sealed rows and no key file: an error, never a fresh key that could not open them.
            try FileManager.default.removeItem(atPath: keyPath)
            let id = UUID()
            _ = try await Self.insertWebhook(app, id: id, systemID: "sys-a", secret: try made.seal("x-0123456789abcdef", context: SealedColumn.webhookSecret.context(id)))
            await Self.expectCode("secrets_key_missing") { _ = try await SecretsVault(config: config).box(on: app.db) }
            #expect(!FileManager.default.fileExists(atPath: keyPath))
        }
    }

    // MARK: key files

    @Test("private keys are created 0600: demo keys, the hub's demo seal, ToolFiles' secret files")
    func privateKeyFilesCreatedPrivate() async throws {
        let pki = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: pki) }
        try await withTestApp(adjust: { $0.pkiDirectory = pki }) { app in
            _ = try await DemoCertificates.create(app)
            for key in ["root-ca.key", "agencies/\(Self.h41).key", "people/h41.vanthu.key", "hub/hub-seal.key"] {
                #expect(try PrivateFile.permissions("\(pki)/\(key)") == 0o600, "\(key)")
            }
            #expect(try PrivateFile.permissions("\(pki)/agencies/\(Self.h41).pem") & 0o044 != 0, "certificates stay readable")
            // An existing world-readable file is replaced by a private one, not written through.
            let path = "\(pki)/replaced.key"
            #expect(FileManager.default.createFile(atPath: path, contents: Data("old".utf8), attributes: [.posixPermissions: 0o644]))
            try ToolFiles.writePEM(["-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----"], to: path, secret: true)
            #expect(try PrivateFile.permissions(path) == 0o600)
        }
    }

    // MARK: PKCS#11 modules and key folders

    @Test("office connect refuses a PKCS#11 module not listed and a key outside the key folders")
    func connectRefusesUnlistedModuleAndKey() async throws {
        let pki = try Self.temporaryFolder(), elsewhere = try Self.temporaryFolder()
        defer { for p in [pki, elsewhere] { try? FileManager.default.removeItem(atPath: p) } }
        try await withTestApp(adjust: { $0.pkiDirectory = pki }) { app in
            _ = try await DemoCertificates.create(app)
            let key = "\(pki)/agencies/\(Self.h41).key", cert = "\(pki)/agencies/\(Self.h41).pem"
            func connect(key chosen: String? = nil, module: String? = nil) async throws {
                try await app.office.connect(.init(agencyCode: Self.h41, hubURL: "https://hub.example.gov.vn", systemID: "office-h41",
                                                   secret: "s", keyPath: module == nil ? chosen ?? key : "", certPath: module == nil ? cert : "",
                                                   pkcs11Module: module, tokenLabel: module == nil ? nil : "t"),
                                             vault: app.secrets, config: app.govConfig, actor: .commandLine)
            }
            // A "module" that would be loaded and run: refused before dlopen.
            await Self.expectCode("office_pkcs11_module_not_allowed") { try await connect(module: "\(elsewhere)/evil.so") }
            // A copy of the key outside the folder, and a link inside the folder pointing out.
            try FileManager.default.copyItem(atPath: key, toPath: "\(elsewhere)/copy.key")
            await Self.expectCode("office_key_path_not_allowed") { try await connect(key: "\(elsewhere)/copy.key") }
            await Self.expectCode("office_key_path_not_allowed") { try await connect(key: "\(pki)/../\(URL(fileURLWithPath: elsewhere).lastPathComponent)/copy.key") }
            try FileManager.default.createSymbolicLink(atPath: "\(pki)/link.key", withDestinationPath: "\(elsewhere)/copy.key")
            await Self.expectCode("office_key_path_not_allowed") { try await connect(key: "\(pki)/link.key") }
            #expect(try await OfficeConnection.query(on: app.db).count() == 0)
            try await connect()
            #expect(try await OfficeConnection.query(on: app.db).count() == 1)

            var listed = app.govConfig
            listed.pkcs11Modules = ["\(elsewhere)/evil.so"]
            #expect(throws: Never.self) { try OfficeSigner.checkAllowed(keyPath: "", pkcs11Module: "\(elsewhere)/evil.so", config: listed) }
            listed.keyDirectories = [elsewhere]
            #expect(throws: Never.self) { try OfficeSigner.checkAllowed(keyPath: "\(elsewhere)/copy.key", pkcs11Module: nil, config: listed) }
        }
    }

    @Test("the worker refuses a key path from the database outside the key folders; the outbox item waits")
    func workerRefusesKeyOutsideFolders() async throws {
        let pki = try Self.temporaryFolder(), elsewhere = try Self.temporaryFolder()
        defer { for p in [pki, elsewhere] { try? FileManager.default.removeItem(atPath: p) } }
        try await withTestApp(adjust: { $0.pkiDirectory = pki }) { app in
            let connection = try await Self.connectOffice(app, secret: "gos_worker-test")
            try FileManager.default.copyItem(atPath: connection.keyPath, toPath: "\(elsewhere)/copy.key")
            // Someone with write access to the database points the connection elsewhere.
            try await OfficeConnection.query(on: app.db).filter(\.$agencyCode == Self.h41).set(\.$keyPath, to: "\(elsewhere)/copy.key").update()
            let item = OfficeOutboxItem()
            item.agencyCode = Self.h41
            item.kind = "status"
            item.payload = Data("<x/>".utf8)
            item.state = "pending"
            item.attempts = 0
            item.nextAt = Date().addingTimeInterval(-1)
            try await item.create(on: app.db)
            #expect(await OfficeWorker.sendDue(app, agency: Self.h41) == 0)
            let waiting = try #require(try await OfficeOutboxItem.find(item.requireID(), on: app.db))
            #expect(waiting.state == "pending" && waiting.attempts == 0, "nothing lost, nothing counted as tried")
            let stored = try #require(try await OfficeConnection.query(on: app.db).filter(\.$agencyCode == Self.h41).first())
            #expect(stored.lastError?.contains("office_key_path_not_allowed") == true)
        }
    }

    // MARK: the hub's seal

    @Test("outside demo mode serve refuses to start without a hub seal, naming the settings")
    func hubSealRequiredOutsideDemo() async throws {
        let pki = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: pki) }
        try await withTestApp(adjust: { config in
            config.pkiDirectory = pki
            config.hub.sealKeyPath = nil
            config.hub.sealCertificatePath = nil
        }) { app in
            // The test configuration is not a demo (GOVOFFICE_DEMO=off); this one has no seal.
            await Self.expectCode("hub_seal_missing") { try HubSealCheck().willBoot(app) }
            do {
                try HubSeal.requireConfigured(app.govConfig)
            } catch let error as GovError {
                #expect(error.en.contains("GOVOFFICE_HUB_SEAL_KEY") && error.en.contains("GOVOFFICE_HUB_SEAL_CERT"))
            }
            await Self.expectCode("hub_seal_missing") { _ = try app.hubSeal() }
            #expect(!FileManager.default.fileExists(atPath: "\(pki)/hub/hub-seal.key"), "no demo seal is made outside demo mode")

            var config = AppConfig.testing()
            config.demo = .auto
            #expect(throws: Never.self) { try HubSeal.requireConfigured(config) }   // SQLite, auto: demo
            config.database = .postgres(url: "postgres://unused@127.0.0.1:1/none", searchPath: nil)
            #expect(throws: GovError.self) { try HubSeal.requireConfigured(config) } // PostgreSQL, auto: production
            config.demo = .on
            #expect(throws: Never.self) { try HubSeal.requireConfigured(config) }
            config.demo = .off
            config.hub.sealKeyPath = "k.pem"
            config.hub.sealCertificatePath = "c.pem"
            #expect(throws: Never.self) { try HubSeal.requireConfigured(config) }
        }
    }

    @Test("office connect takes no --secret on the command line")
    func connectHasNoSecretOption() async throws {
        let pki = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: pki) }
        try await withTestApp(adjust: { $0.pkiDirectory = pki }) { app in
            _ = try await DemoCertificates.create(app)
            var context = CommandContext(console: Terminal(), input: CommandInput(arguments: [
                "govoffice", "office", "connect", "--agency", Self.h41, "--hub", "https://hub.example.gov.vn",
                "--system-id", "office-h41", "--secret", "visible-in-ps",
                "--key", "\(pki)/agencies/\(Self.h41).key", "--cert", "\(pki)/agencies/\(Self.h41).pem",
            ]))
            do {
                try await app.asyncCommands.group().run(using: &context)
                Issue.record("--secret must not be accepted")
            } catch {
                #expect(String(describing: error).contains("--secret"), "refused as unknown input: \(error)")
            }
            #expect(try await OfficeConnection.query(on: app.db).count() == 0)
        }
    }
}
