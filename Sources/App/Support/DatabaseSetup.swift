import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import NIOConcurrencyHelpers
import PostgresKit
import SQLKit
import SQLiteNIO
import Vapor

/// Opens the configured database: the embedded SQLite file or PostgreSQL.
enum DatabaseSetup {
    static func register(_ app: Application, _ choice: AppConfig.DatabaseChoice, poolPerLoop: Int) throws {
        switch choice {
        case .sqliteMemory:
            app.databases.use(.sqlite(.memory), as: .sqlite)
        case .sqliteFile(let path):
            // The file (and its folder, see tuneSQLite) appears on first use, not here: the
            // commands that need no database leave no trace.
            app.databases.use(.sqlite(.file(path)), as: .sqlite)
        case .postgres(let url, let searchPath):
            var config = try SQLPostgresConfiguration(url: url)
            config.searchPath = searchPath
            app.databases.use(
                .postgres(configuration: config, maxConnectionsPerEventLoop: poolPerLoop, connectionPoolTimeout: .seconds(10)),
                as: .psql)
        }
    }

    /// Per-connection settings of the SQLite file: WAL so readers never wait for the writer, a
    /// bounded busy timeout so a stuck writer gives an error instead of hanging a request forever,
    /// and `synchronous` said out loud (FULL unless GOVOFFICE_SQLITE_SYNCHRONOUS=normal) rather than
    /// left to the driver's build. The pool keeps one connection per event loop, so each loop's
    /// connection is configured. The benchmarks call this too: they measure these settings.
    static func tuneSQLite(_ app: Application) async throws {
        guard case .sqliteFile(let path) = app.govConfig.database else { return }
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        let synchronous = app.govConfig.sqliteSynchronous == .normal ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = FULL"
        for eventLoop in app.eventLoopGroup.makeIterator() {
            guard let sql = app.databases.database(logger: app.logger, on: eventLoop) as? any SQLDatabase else { continue }
            try await sql.raw("PRAGMA journal_mode = WAL").run()
            try await sql.raw("\(unsafeRaw: synchronous)").run()
            try await sql.raw("PRAGMA busy_timeout = 5000").run()
            try await sql.raw("PRAGMA foreign_keys = ON").run()
        }
    }
}

extension Database {
    /// Locks row `id` of `table` for the rest of the transaction — a row lock on PostgreSQL, the
    /// write lock on SQLite — by setting `column` to itself, so that a check-then-write on it made
    /// at once on several nodes happens one after the other.
    func lockRow(in table: String, id: UUID, column: String) async throws {
        try await sql.update(table).set(SQLIdentifier(column), to: SQLIdentifier(column)).where("id", .equal, id).run()
    }

    /// Runs `body` in one transaction, retrying a few times when SQLite reports a write conflict
    /// (another connection wrote between this transaction's first read and its first write).
    /// PostgreSQL serialises through row locks and never needs the retry.
    func atomically<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        // SQLite has one writer: this process's write transactions queue here instead of racing for
        // the file lock, which under load ends in "database is locked" (a deferred transaction
        // that read first cannot be upgraded while another writes, and the busy timeout does not
        // apply to that case). Readers outside transactions are not held.
        if !inTransaction, (self as? any SQLDatabase)?.dialect.name == "sqlite" {
            return try await SQLiteWriteGate.shared.run { try await self.retryingTransaction(body) }
        }
        return try await retryingTransaction(body)
    }

    private func retryingTransaction<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await self.transaction { db in try await body(db) }
            } catch let error as SQLiteError where attempt < 8 && Self.isRetryableSQLiteConflict(error) {
                // Another process (a CLI command, a second server on the same file) held the lock.
                attempt += 1
                try await Task.sleep(for: .milliseconds(5 * attempt * attempt))
            }
        }
    }

    private static func isRetryableSQLiteConflict(_ error: SQLiteError) -> Bool {
        switch error.reason {
        case .busy, .locked, .busyInSnapshot, .busyInRecovery, .busyTimeout: true
        default: false
        }
    }

    /// This database as SQLKit, for the few statements Fluent's query builder cannot say.
    var sql: any SQLDatabase {
        guard let sql = self as? any SQLDatabase else { fatalError("GovOffice needs an SQL database") }
        return sql
    }
}

/// One write transaction at a time per process on SQLite, first come first served.
final class SQLiteWriteGate: Sendable {
    static let shared = SQLiteWriteGate()

    private struct State {
        var busy = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = NIOLockedValueBox(State())

    func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let immediate = state.withLockedValue { state -> Bool in
                if state.busy {
                    state.waiters.append(continuation)
                    return false
                }
                state.busy = true
                return true
            }
            if immediate { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.busy = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
