import Fluent
import Foundation
import GovCore
import SQLKit
import Vapor

/// Online backups of the embedded SQLite database.
enum DatabaseBackup {
    /// Writes a consistent copy of the SQLite database to `path` with `VACUUM INTO`: it reads one
    /// snapshot inside a read transaction, so the server keeps serving (and writing) meanwhile, and
    /// the copy is a compacted, ordinary database file (no WAL beside it) that opens on its own.
    /// Refuses an existing non-empty `path` (`backup_exists`) and a PostgreSQL database
    /// (`backup_postgres`: pg_dump is the tool there). Returns the copy's size in bytes.
    static func sqlite(_ db: any Database, to path: String) async throws -> Int {
        guard let sql = db as? any SQLDatabase, sql.dialect.name == "sqlite" else {
            throw GovError("backup_postgres", .invalid,
                           vi: "Sao lưu PostgreSQL bằng pg_dump (xem docs/deploy.md).",
                           en: "Back PostgreSQL up with pg_dump (see docs/deploy.md).")
        }
        let url = URL(fileURLWithPath: path)
        let existing = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int
        if let existing, existing > 0 {
            throw GovError("backup_exists", .conflict, vi: "Tệp \(url.path) đã có; chọn tên khác.",
                           en: "\(url.path) already exists; choose another name.")
        }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try await sql.raw("VACUUM INTO \(bind: url.path)").run()
        return (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
    }
}

/// `govoffice backup FILE`: an online copy of the SQLite database (see DatabaseBackup); on
/// PostgreSQL it says to use pg_dump and exits 2.
struct BackupCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "file", help: "tệp sao lưu mới / the new backup file")
        var file: String
    }

    var help: String { "Sao lưu cơ sở dữ liệu SQLite khi máy chủ đang chạy / online backup of the SQLite database" }

    func run(using context: CommandContext, signature: Signature) async throws {
        if context.application.govConfig.database.isPostgres {
            context.console.error("""
                PostgreSQL: dùng pg_dump, ví dụ / use pg_dump, e.g. \
                pg_dump --format=custom --file=govoffice.dump "$DATABASE_URL" (docs/deploy.md)
                """)
            throw ExitStatus(2)
        }
        do {
            let bytes = try await DatabaseBackup.sqlite(context.application.db, to: signature.file)
            context.console.success("✓ Đã sao lưu / backed up: \(signature.file) (\(bytes) bytes)")
        } catch let error as GovError {
            context.console.error("✗ \(error.vi) / \(error.en)")
            throw ExitStatus(1)
        }
    }
}
