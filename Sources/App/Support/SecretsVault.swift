import Fluent
import Foundation
import GovCore
import NIOConcurrencyHelpers
import SQLKit
import Vapor

/// A column that holds secrets sealed with `SecretBox`; the row id is part of what is sealed.
struct SealedColumn: Sendable, Hashable {
    var table: String
    var column: String

    /// What a value of row `id` is sealed to, so that it opens in that row only.
    func context(_ id: UUID) -> String { "\(table).\(column):\(id.uuidString.lowercased())" }

    /// The office connections' hub secrets.
    static let officeSecret = SealedColumn(table: "office_connections", column: "secret")
    /// The webhooks' HMAC secrets.
    static let webhookSecret = SealedColumn(table: "exchange_webhooks", column: "secret")
    /// Every sealed column (status, rotation, the sealing of rows from before sealing existed).
    static let all = [officeSecret, webhookSecret]
}

/// Seals and opens the secrets the server must read back (office hub secrets, webhook secrets)
/// under the operator's key: `GOVOFFICE_SECRETS_KEY`, `GOVOFFICE_SECRETS_KEY_FILE`, or — on a
/// SQLite file only, the one-command demo — `secrets.key` beside the database, made (0600) the
/// first time a secret is sealed. PostgreSQL never gets a generated key.
final class SecretsVault: Sendable {
    /// Where the key came from.
    enum Source: Sendable, Equatable {
        case environment
        case file(String)
        /// Made by the server beside its SQLite file (rotation rewrites it).
        case generated(String)
        /// In-memory SQLite (tests): a random key for this process.
        case ephemeral
    }

    private let config: AppConfig
    private let resolved = NIOLockedValueBox<(box: SecretBox, source: Source)?>(nil)

    init(config: AppConfig) { self.config = config }

    /// The key file the server makes for a SQLite database, if it runs on one.
    var generatedKeyPath: String? {
        guard case .sqliteFile(let path) = config.database else { return nil }
        return URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("secrets.key").path
    }

    /// The configured key (or the SQLite key file already made), without making one.
    func configured() throws -> (box: SecretBox, source: Source)? {
        if let cached = resolved.withLockedValue({ $0 }) { return cached }
        let found: (box: SecretBox, source: Source)?
        if let text = config.secrets.key {
            found = (try SecretBox(base64: text), .environment)
        } else if let path = config.secrets.keyFile {
            found = (try Self.readKeyFile(path, setting: "GOVOFFICE_SECRETS_KEY_FILE"), .file(path))
        } else if let path = generatedKeyPath, FileManager.default.fileExists(atPath: path) {
            found = (try Self.readKeyFile(path, setting: "GOVOFFICE_SECRETS_KEY_FILE"), .generated(path))
        } else if config.database == .sqliteMemory {
            found = (try SecretBox(base64: SecretBox.generateKeyBase64()), .ephemeral)
        } else {
            found = nil
        }
        guard let found else { return nil }
        return resolved.withLockedValue { cached in
            if let cached { return cached }
            cached = found
            return found
        }
    }

    /// The key to seal and open with. On a SQLite file with no key anywhere, one is made now —
    /// unless rows sealed by some key exist: a new key could not open them, so that is an error.
    func box(on db: any Database) async throws -> SecretBox {
        if let found = try configured() { return found.box }
        guard let path = generatedKeyPath else { throw Self.missingKey }
        guard try await Self.census(on: db).sealed.isEmpty else { throw Self.missingKey }
        _ = try PrivateFile.createNew(Data((SecretBox.generateKeyBase64() + "\n").utf8), at: path)
        guard let made = try configured() else { throw Self.missingKey }
        return made.box
    }

    /// Seals `plaintext` for row `id` of `column`.
    func seal(_ plaintext: String, _ column: SealedColumn, id: UUID, on db: any Database) async throws -> String {
        try await box(on: db).seal(plaintext, context: column.context(id))
    }

    /// Opens row `id`'s sealed value of `column`. A value that is not sealed is refused, never
    /// taken as clear text (start-up seals the rows written before sealing existed).
    func open(_ sealed: String, _ column: SealedColumn, id: UUID, on db: any Database) async throws -> String {
        try await box(on: db).open(sealed, context: column.context(id))
    }

    // MARK: the rows

    /// What the sealed columns hold: per key id, how many rows; and the rows still in clear.
    struct Census: Sendable {
        var sealed: [String: Int] = [:]
        var clear: [(column: SealedColumn, id: UUID, value: String)] = []
    }

    struct Row: Decodable { var id: UUID; var value: String }

    /// Reads every sealed column; a table that does not exist yet (before `migrate`) holds nothing.
    static func census(on db: any Database) async throws -> Census {
        var census = Census()
        for column in SealedColumn.all {
            for row in try await rows(column, on: db) {
                if let keyID = SecretBox.keyID(of: row.value) {
                    census.sealed[keyID, default: 0] += 1
                } else {
                    census.clear.append((column, row.id, row.value))
                }
            }
        }
        return census
    }

    static func rows(_ column: SealedColumn, on db: any Database) async throws -> [Row] {
        guard try await tableExists(column.table, on: db) else { return [] }
        return try await db.sql.select().column(SQLIdentifier("id")).column(SQLAlias(SQLIdentifier(column.column), as: SQLIdentifier("value")))
            .from(column.table).all(decoding: Row.self)
    }

    private static func tableExists(_ table: String, on db: any Database) async throws -> Bool {
        let sql = db.sql
        let query: SQLQueryString = sql.dialect.name == "sqlite"
            ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name = \(bind: table)"
            : "SELECT table_name FROM information_schema.tables WHERE table_name = \(bind: table) AND table_schema = ANY(current_schemas(false))"
        return try await sql.raw(query).first() != nil
    }

    /// `serve`'s check before anything reads a secret: PostgreSQL needs a configured key; rows
    /// sealed by another key stop start-up naming the setting; rows still in clear (written before
    /// sealing existed) are sealed now, in one transaction. Returns how many rows were sealed.
    @discardableResult
    func prepare(on db: any Database, logger: Logger) async throws -> Int {
        if config.database.isPostgres, try configured() == nil { throw Self.missingKey }
        let census = try await Self.census(on: db)
        if !census.sealed.isEmpty {
            guard let current = try configured()?.box else { throw Self.missingKey }
            let others = census.sealed.keys.filter { $0 != current.keyID }.sorted()
            guard others.isEmpty else { throw SecretBox.wrongKey(found: others, expected: current.keyID) }
        }
        guard !census.clear.isEmpty else { return 0 }
        let box = try await box(on: db)
        let clear = census.clear
        try await db.atomically { tx in
            for row in clear {
                let sealed = try box.seal(row.value, context: row.column.context(row.id))
                // Only if still the clear value: another node may have sealed it meanwhile.
                try await tx.sql.update(row.column.table).set(SQLIdentifier(row.column.column), to: SQLBind(sealed))
                    .where("id", .equal, row.id).where(SQLIdentifier(row.column.column), .equal, SQLBind(row.value)).run()
            }
        }
        logger.notice("Đã niêm phong \(clear.count) bí mật còn lưu rõ / sealed \(clear.count) secrets stored in clear (key \(box.keyID))")
        return clear.count
    }

    /// Re-seals every row under `newBox` in one transaction (rows in clear are sealed too) and
    /// returns how many rows changed. A row the current key cannot open stops it all: nothing is
    /// written. When the current key is the generated SQLite key file, the file gets the new key
    /// (and its path is returned).
    func rotate(to newBox: SecretBox, newKeyText: String, on db: any Database) async throws -> (count: Int, keyFile: String?) {
        let current = try await box(on: db)
        let count = try await db.atomically { tx -> Int in
            var count = 0
            for column in SealedColumn.all {
                for row in try await Self.rows(column, on: tx) {
                    let context = column.context(row.id)
                    let clear = try SecretBox.isSealed(row.value) ? current.open(row.value, context: context) : row.value
                    let resealed = try newBox.seal(clear, context: context)
                    try await tx.sql.update(column.table).set(SQLIdentifier(column.column), to: SQLBind(resealed))
                        .where("id", .equal, row.id).run()
                    count += 1
                }
            }
            return count
        }
        var keyFile: String?
        if case .generated(let path)? = try configured()?.source {
            try PrivateFile.write(Data((newKeyText.trimmingCharacters(in: .whitespacesAndNewlines) + "\n").utf8), to: path)
            keyFile = path
        }
        resolved.withLockedValue { $0 = (newBox, keyFile.map(Source.generated) ?? .environment) }
        return (count, keyFile)
    }

    // MARK: keys

    /// Reads a key file, refusing one that the group or others may read.
    static func readKeyFile(_ path: String, setting: String) throws -> SecretBox {
        guard FileManager.default.fileExists(atPath: path) else {
            throw GovError("secrets_key_file_missing", .invalid, vi: "Không có tệp khóa \(path) (\(setting)).",
                           en: "The key file \(path) does not exist (\(setting)).")
        }
        guard try !PrivateFile.isShared(path) else {
            throw GovError("secrets_key_file_shared", .invalid,
                           vi: "Tệp khóa \(path) (\(setting)) không được để nhóm hoặc người khác đọc: chmod 600 \(path).",
                           en: "The key file \(path) (\(setting)) must not be readable by group or others: chmod 600 \(path).")
        }
        return try SecretBox(base64: String(decoding: try ToolFiles.read(path), as: UTF8.self))
    }

    static let missingKey = GovError(
        "secrets_key_missing", .conflict,
        vi: "Chưa cấu hình khóa niêm phong bí mật: đặt GOVOFFICE_SECRETS_KEY (base64 của 32 byte, ví dụ `openssl rand -base64 32`) hoặc GOVOFFICE_SECRETS_KEY_FILE. Nếu cơ sở dữ liệu đã có bí mật được niêm phong, phải dùng đúng khóa đã niêm phong chúng.",
        en: "No secrets key is configured: set GOVOFFICE_SECRETS_KEY (base64 of 32 bytes, e.g. `openssl rand -base64 32`) or GOVOFFICE_SECRETS_KEY_FILE. If the database already holds sealed secrets, it must be the key that sealed them.")
}

extension Application {
    private struct SecretsVaultKey: StorageKey { typealias Value = SecretsVault }
    private struct SecretsVaultLock: LockKey {}

    /// The vault of this application's configuration.
    var secrets: SecretsVault {
        locks.lock(for: SecretsVaultLock.self).withLock {
            if let vault = storage[SecretsVaultKey.self] { return vault }
            let vault = SecretsVault(config: govConfig)
            storage[SecretsVaultKey.self] = vault
            return vault
        }
    }
}
