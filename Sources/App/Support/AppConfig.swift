import Foundation
import GovCore
import Vapor

/// Everything the server reads from its environment, parsed once at start-up.
///
/// Every key is listed in the README and in `.env.example`; a bad value stops start-up with a
/// message that names the key, rather than running with a surprise default.
public struct AppConfig: Sendable {
    /// Where the data lives.
    public enum DatabaseChoice: Sendable, Equatable {
        /// The embedded SQLite file of a single-node install (WAL, busy timeout).
        case sqliteFile(path: String)
        /// An in-memory SQLite database, for tests.
        case sqliteMemory
        /// PostgreSQL, the production path; `searchPath` lets tests isolate themselves in a schema.
        case postgres(url: String, searchPath: [String]?)

        /// Whether this is the PostgreSQL path.
        public var isPostgres: Bool { if case .postgres = self { true } else { false } }
    }

    /// When the demo data set is written.
    public enum DemoMode: String, Sendable { case auto, on, off }

    /// When session cookies carry the `Secure` attribute.
    public enum SecureCookies: String, Sendable { case auto, always, never }

    /// What an OCSP responder that cannot be reached means: `soft` accepts the certificate with a
    /// warning, `hard` refuses it, `off` never asks.
    public enum OCSPMode: String, Sendable { case off, soft, hard }

    /// What a message without a signature gets: `refuse`, or `warn` (accepted, flagged).
    public enum UnsignedPolicy: String, Sendable { case refuse, warn }

    /// SQLite's `synchronous` setting of the served file: `full` syncs the WAL on every commit (a
    /// power cut loses nothing committed), `normal` only at checkpoints (faster; the last commits
    /// may be lost on power loss, never on a process crash).
    public enum SQLiteSynchronous: String, Sendable { case full, normal }

    /// The database to use.
    public var database: DatabaseChoice
    /// Demo seeding: `auto` seeds an empty SQLite database on `serve`, never PostgreSQL.
    public var demo: DemoMode

    /// Whether this server runs as a demo: `on`, or `auto` on SQLite. Demo data is seeded then, and
    /// a trusted demo CA is expected rather than warned about.
    public var isDemoMode: Bool { demo == .on || (demo == .auto && !database.isPostgres) }
    /// Largest request body accepted, in bytes (larger ones get 413).
    public var maxBodyBytes: Int
    /// Largest file upload (multipart forms such as the CSV import), in bytes.
    public var maxUploadBytes: Int
    /// Cookie `Secure` policy.
    public var secureCookies: SecureCookies
    /// Whether `X-Forwarded-Proto` / `X-Forwarded-For` from a reverse proxy are believed (only from
    /// the `trustedProxies`).
    public var trustProxy: Bool
    /// The reverse proxies whose forwarding headers are believed when `trustProxy` is on
    /// (`GOVOFFICE_TRUSTED_PROXIES`, default loopback): the client address is the right-most
    /// `X-Forwarded-For` entry outside these, and `X-Forwarded-Proto` counts only when the peer is one.
    public var trustedProxies: [CIDRBlock] = ForwardedClient.loopback
    /// SQLite's `synchronous` on the served file (`GOVOFFICE_SQLITE_SYNCHRONOUS`, default FULL).
    public var sqliteSynchronous: SQLiteSynchronous = .full
    /// Back-off after failed logins.
    public var loginThrottle: LoginThrottlePolicy
    /// Idle lifetime of a web session, in minutes.
    public var sessionIdleMinutes: Int
    /// Absolute lifetime of a web session, in hours, however active it is (`GOVOFFICE_SESSION_MAX_HOURS`):
    /// a stolen cookie stops working within it even if kept alive.
    public var sessionMaxHours: Int = 12
    /// Back-off after failed sign-ins from one client address, over all usernames
    /// (`GOVOFFICE_LOGIN_MAX_FAILURES_PER_ADDRESS`): slows spraying one password over many accounts.
    /// Higher than the per-account limit because a whole office may share one address behind NAT.
    public var addressLoginThrottle: LoginThrottlePolicy = LoginThrottlePolicy(maxFailures: 50)
    /// Bcrypt cost for stored passwords.
    public var bcryptCost: Int
    /// `text` or `json` log lines.
    public var logFormat: String
    /// Whether `serve` applies pending migrations itself (default: yes on SQLite, no on PostgreSQL).
    public var autoMigrate: Bool
    /// Re-read templates on every request (for people editing them); cached otherwise.
    public var reloadTemplates: Bool = false
    /// A folder of trusted CA certificates (PEM), added to those managed on the admin pages.
    public var trustDirectory: String? = nil
    /// Where `govoffice pki demo` writes the demo keys and certificates.
    public var pkiDirectory: String = "data/pki"
    /// PostgreSQL connections per event loop (`GOVOFFICE_DB_POOL`, 1…64). Every node opens this many
    /// per core, so the nodes together must stay under the server's `max_connections`.
    public var databasePoolPerLoop: Int = 4
    /// Whether `serve` connects the demo offices (G22, H41) to its own hub at start-up
    /// (`GOVOFFICE_DEMO_OFFICES=on`; `govoffice office demo` does it on demand). Off by default: a
    /// connected office takes those agencies' hub inboxes.
    public var demoOffices: Bool = false
    /// The year-by-year holiday notices (Tết, Giỗ Tổ, swapped days) for working-day deadlines;
    /// nil means the file shipped in Resources/Holidays/vn.txt.
    public var holidaysPath: String? = nil
    /// OCSP checking of signer certificates.
    public var ocspMode: OCSPMode = .soft
    /// Messages without a signature.
    public var unsignedPolicy: UnsignedPolicy = .refuse
    /// The hub's settings.
    public var hub: HubSettings = HubSettings()
    /// The key that seals stored secrets (office hub secrets, webhook secrets).
    public var secrets: SecretsSettings = SecretsSettings()
    /// The PKCS#11 modules an office connection may load (`GOVOFFICE_PKCS11_MODULES`); a module
    /// path stored in the database is loaded and run, so only these are.
    public var pkcs11Modules: [String] = []
    /// The folders an office connection's key file may be in (`GOVOFFICE_KEY_DIRS`); nil means
    /// `pkiDirectory` alone.
    public var keyDirectories: [String]? = nil
    /// The folders key files may be loaded from.
    public var allowedKeyDirectories: [String] { keyDirectories ?? [pkiDirectory] }

    /// Where the key that seals stored secrets comes from (at most one of the two).
    public struct SecretsSettings: Sendable {
        /// Base64 of the 32-byte key (`GOVOFFICE_SECRETS_KEY`).
        public var key: String? = nil
        /// A file holding that base64 text, readable by its owner only (`GOVOFFICE_SECRETS_KEY_FILE`).
        public var keyFile: String? = nil

        /// No key configured: a SQLite file gets `secrets.key` beside it; PostgreSQL refuses to start.
        public init() {}
    }

    /// Signed checkpoints of the audit and evidence chains' heads.
    public var checkpoints: CheckpointSettings = CheckpointSettings()

    /// Where and how often the hub seal signs the chains' heads (see `ChainCheckpoints`).
    public struct CheckpointSettings: Sendable {
        /// The folder, outside the database, that receives one file per checkpoint
        /// (`GOVOFFICE_CHECKPOINT_DIR`); several nodes may share it.
        public var directory: String = "data/checkpoints"
        /// Minutes between checkpoints while serving (`GOVOFFICE_CHECKPOINT_MINUTES`); 0 turns
        /// them off, including the one written on shutdown.
        public var minutes: Int = 10

        /// The defaults.
        public init() {}
    }

    /// The document-exchange hub: limits, the seal that signs receipts, push retries, retention.
    public struct HubSettings: Sendable {
        /// Largest edXML message accepted, in bytes (larger ones get 413 `message_too_large`).
        public var maxMessageBytes: Int = 64 << 20
        /// PEM private key of the hub's seal; with `sealCertificatePath`. Unset: a seal issued by the
        /// demo CA is made under `pkiDirectory` (a warning is logged outside demo mode).
        public var sealKeyPath: String? = nil
        /// PEM certificate (chain) of the hub's seal.
        public var sealCertificatePath: String? = nil
        /// How long a push delivery is retried before it becomes a dead letter, in seconds.
        public var webhookMaxAgeSeconds: Int = 86_400
        /// First retry delay of a push delivery, in milliseconds (doubled each time, with jitter).
        public var webhookBaseDelayMillis: Int = 1_000
        /// Address blocks webhooks may point into although they are loopback, private, link-local or
        /// the hub's own (`GOVOFFICE_WEBHOOK_ALLOW`, comma-separated CIDR): agency systems on the
        /// government's private network, the test harnesses' loopback receivers. Empty: public only.
        public var webhookAllow: [CIDRBlock] = []
        /// How long metadata, hashes and statuses are kept, in days (10 years by default).
        public var retentionDays: Int = 3_653
        /// How long a payload is kept after every recipient acknowledged it, in days.
        public var payloadRetentionDays: Int = 90
        /// Whether this node runs the push and retention workers (every node may; rows are claimed
        /// with row locks).
        public var workers: Bool = true

        /// The defaults.
        public init() {}
    }

    /// Reads the configuration from the process environment (and `.env`, which Vapor loads).
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> AppConfig {
        func value(_ key: String) -> String? {
            guard let raw = env[key]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        func int(_ key: String, default def: Int, range: ClosedRange<Int>) throws -> Int {
            guard let raw = value(key) else { return def }
            guard let parsed = Int(raw), range.contains(parsed) else {
                throw ConfigError(key: key, value: raw, expected: "an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return parsed
        }
        func bool(_ key: String, default def: Bool) throws -> Bool {
            guard let raw = value(key)?.lowercased() else { return def }
            switch raw {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default: throw ConfigError(key: key, value: raw, expected: "true or false")
            }
        }
        func choice<E: RawRepresentable>(_ key: String, default def: E) throws -> E where E.RawValue == String {
            guard let raw = value(key) else { return def }
            guard let parsed = E(rawValue: raw.lowercased()) else {
                throw ConfigError(key: key, value: raw, expected: "one of the documented values")
            }
            return parsed
        }

        let database: DatabaseChoice
        if let url = value("DATABASE_URL") {
            guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
                throw ConfigError(key: "DATABASE_URL", value: url, expected: "a postgres:// URL")
            }
            database = .postgres(url: url, searchPath: nil)
        } else {
            database = .sqliteFile(path: value("GOVOFFICE_SQLITE_PATH") ?? "data/govoffice.sqlite")
        }
        func size(_ key: String, default def: Int) throws -> Int {
            guard let raw = value(key) else { return def }
            guard let parsed = ByteSize.parse(raw) else {
                throw ConfigError(key: key, value: raw, expected: "a size such as 10mb, 512kb or 1048576")
            }
            return parsed
        }
        let throttle = LoginThrottlePolicy(
            maxFailures: try int("GOVOFFICE_LOGIN_MAX_FAILURES", default: 5, range: 1...100),
            baseLockSeconds: try int("GOVOFFICE_LOGIN_LOCK_SECONDS", default: 60, range: 1...86_400),
            maxLockSeconds: try int("GOVOFFICE_LOGIN_LOCK_MAX_SECONDS", default: 3600, range: 1...604_800)
        )
        var hub = HubSettings()
        hub.maxMessageBytes = try size("GOVOFFICE_HUB_MAX_MESSAGE", default: hub.maxMessageBytes)
        hub.sealKeyPath = value("GOVOFFICE_HUB_SEAL_KEY")
        hub.sealCertificatePath = value("GOVOFFICE_HUB_SEAL_CERT")
        if (hub.sealKeyPath == nil) != (hub.sealCertificatePath == nil) {
            throw ConfigError(key: "GOVOFFICE_HUB_SEAL_KEY", value: hub.sealKeyPath ?? "",
                              expected: "both GOVOFFICE_HUB_SEAL_KEY and GOVOFFICE_HUB_SEAL_CERT, or neither")
        }
        hub.webhookMaxAgeSeconds = try int("GOVOFFICE_WEBHOOK_MAX_AGE_SECONDS", default: hub.webhookMaxAgeSeconds,
                                           range: 1...2_592_000)
        hub.webhookBaseDelayMillis = try int("GOVOFFICE_WEBHOOK_BASE_DELAY_MS", default: hub.webhookBaseDelayMillis,
                                             range: 10...600_000)
        if let raw = value("GOVOFFICE_WEBHOOK_ALLOW") {
            do {
                hub.webhookAllow = try CIDRBlock.parseList(raw)
            } catch {
                throw ConfigError(key: "GOVOFFICE_WEBHOOK_ALLOW", value: raw,
                                  expected: "comma-separated address blocks such as 10.0.0.0/8,fd00::/8")
            }
        }
        hub.retentionDays = try int("GOVOFFICE_RETENTION_DAYS", default: hub.retentionDays, range: 1...36_500)
        hub.payloadRetentionDays = try int("GOVOFFICE_PAYLOAD_RETENTION_DAYS", default: hub.payloadRetentionDays,
                                           range: 0...36_500)
        hub.workers = try bool("GOVOFFICE_HUB_WORKERS", default: true)
        var config = AppConfig(
            database: database,
            demo: try choice("GOVOFFICE_DEMO", default: DemoMode.auto),
            maxBodyBytes: try size("GOVOFFICE_MAX_BODY", default: 10 << 20),
            maxUploadBytes: try size("GOVOFFICE_MAX_UPLOAD", default: 50 << 20),
            secureCookies: try choice("GOVOFFICE_SECURE_COOKIES", default: SecureCookies.auto),
            trustProxy: try bool("GOVOFFICE_TRUST_PROXY", default: false),
            loginThrottle: throttle,
            sessionIdleMinutes: try int("GOVOFFICE_SESSION_IDLE_MINUTES", default: 480, range: 5...10_080),
            bcryptCost: try int("GOVOFFICE_BCRYPT_COST", default: 12, range: 4...31),
            logFormat: value("GOVOFFICE_LOG_FORMAT")?.lowercased() ?? "text",
            autoMigrate: try bool("GOVOFFICE_AUTO_MIGRATE", default: !database.isPostgres),
            reloadTemplates: try bool("GOVOFFICE_RELOAD_TEMPLATES", default: false),
            trustDirectory: value("GOVOFFICE_TRUST_DIR"),
            pkiDirectory: value("GOVOFFICE_PKI_DIR") ?? "data/pki",
            ocspMode: try choice("GOVOFFICE_OCSP", default: OCSPMode.soft),
            unsignedPolicy: try choice("GOVOFFICE_UNSIGNED", default: UnsignedPolicy.refuse)
        )
        config.hub = hub
        config.sessionMaxHours = try int("GOVOFFICE_SESSION_MAX_HOURS", default: 12, range: 1...720)
        config.addressLoginThrottle = LoginThrottlePolicy(
            maxFailures: try int("GOVOFFICE_LOGIN_MAX_FAILURES_PER_ADDRESS", default: 50, range: 1...100_000),
            baseLockSeconds: throttle.baseLockSeconds, maxLockSeconds: throttle.maxLockSeconds)
        config.checkpoints.directory = value("GOVOFFICE_CHECKPOINT_DIR") ?? config.checkpoints.directory
        config.checkpoints.minutes = try int("GOVOFFICE_CHECKPOINT_MINUTES", default: config.checkpoints.minutes, range: 0...1440)
        config.holidaysPath = value("GOVOFFICE_HOLIDAYS")
        config.demoOffices = try bool("GOVOFFICE_DEMO_OFFICES", default: false)
        config.databasePoolPerLoop = try int("GOVOFFICE_DB_POOL", default: 4, range: 1...64)
        if let raw = value("GOVOFFICE_TRUSTED_PROXIES") {
            guard let ranges = try? CIDRBlock.parseList(raw), !ranges.isEmpty else {
                throw ConfigError(key: "GOVOFFICE_TRUSTED_PROXIES", value: raw,
                                  expected: "a comma-separated list of addresses or CIDR ranges, such as 127.0.0.1/32,::1")
            }
            config.trustedProxies = ranges
        }
        config.sqliteSynchronous = try choice("GOVOFFICE_SQLITE_SYNCHRONOUS", default: SQLiteSynchronous.full)
        config.secrets.key = value("GOVOFFICE_SECRETS_KEY")
        config.secrets.keyFile = value("GOVOFFICE_SECRETS_KEY_FILE")
        if let key = config.secrets.key {
            guard (try? SecretBox(base64: key)) != nil else {
                throw ConfigError(key: "GOVOFFICE_SECRETS_KEY", value: "…", expected: "the base64 of 32 random bytes (openssl rand -base64 32)")
            }
            guard config.secrets.keyFile == nil else {
                throw ConfigError(key: "GOVOFFICE_SECRETS_KEY_FILE", value: config.secrets.keyFile ?? "",
                                  expected: "either GOVOFFICE_SECRETS_KEY or GOVOFFICE_SECRETS_KEY_FILE, not both")
            }
        }
        func paths(_ key: String) -> [String]? {
            value(key).map { $0.split(whereSeparator: { $0 == "," || $0 == ":" }).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty } }
        }
        config.pkcs11Modules = paths("GOVOFFICE_PKCS11_MODULES") ?? []
        config.keyDirectories = paths("GOVOFFICE_KEY_DIRS")
        return config
    }

    /// A configuration for tests: in-memory SQLite (or a PostgreSQL schema), cheap bcrypt.
    public static func testing(database: DatabaseChoice = .sqliteMemory) -> AppConfig {
        var config = AppConfig(
            database: database, demo: .off, maxBodyBytes: 1 << 20, maxUploadBytes: 4 << 20, secureCookies: .auto,
            trustProxy: false, loginThrottle: LoginThrottlePolicy(), sessionIdleMinutes: 60,
            bcryptCost: 4, logFormat: "text", autoMigrate: false
        )
        // The suites run many applications at once against one PostgreSQL; a small pool each keeps
        // them under its max_connections.
        config.databasePoolPerLoop = 2
        // Each test application its own key, as each has its own database.
        config.secrets.key = SecretBox.generateKeyBase64()
        // An in-process test application writes no checkpoint files when it shuts down: hundreds of them
        // landed in the checkout's data/checkpoints. The checkpoint tests write to folders of their own.
        config.checkpoints.minutes = 0
        return config
    }
}

/// A configuration value that cannot be used; start-up stops and names the key.
public struct ConfigError: Error, CustomStringConvertible {
    /// The environment variable.
    public let key: String
    /// What it contained.
    public let value: String
    /// What would have been accepted.
    public let expected: String
    public var description: String {
        "Cấu hình sai / invalid configuration: \(key)=\(value) (cần / expected \(expected))"
    }
}

/// Human byte sizes in configuration ("10mb", "512kb", "1048576").
enum ByteSize {
    static func parse(_ raw: String) -> Int? {
        let text = raw.lowercased().replacingOccurrences(of: " ", with: "")
        let units: [(String, Int)] = [("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10), ("b", 1)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let number = Int(text.dropLast(suffix.count)), number > 0 else { return nil }
            return number * factor
        }
        guard let number = Int(text), number > 0 else { return nil }
        return number
    }
}

extension Application {
    private struct ConfigKey: StorageKey { typealias Value = AppConfig }

    /// The configuration this application was configured with. Vapor empties the storage while
    /// shutting down, when requests may still be finishing: they then see the defaults rather
    /// than crash the process.
    public var govConfig: AppConfig {
        get { storage[ConfigKey.self] ?? (try? AppConfig.fromEnvironment([:])) ?? .testing() }
        set { storage[ConfigKey.self] = newValue }
    }
}
