import Fluent
import Foundation
import GovCore
import SQLKit
import Vapor

/// Who did something, as the audit trail records it.
struct AuditActor: Sendable {
    /// `user:<username>`, `system:<system id>` or `cli`.
    var label: String
    var agencyCode: String?
    var ip: String?
    var requestID: String?

    static let commandLine = AuditActor(label: "cli", agencyCode: nil, ip: nil, requestID: nil)
}

/// The audit trail's interface for every subsystem: append within the caller's transaction, so a
/// state change and its audit record commit together or not at all.
enum AuditLog {
    /// Appends one record. Inside a transaction it joins it; otherwise it opens its own.
    static func append(
        _ action: String, entity: String, id: String? = nil, details: [String: String] = [:],
        agencyCode: String? = nil, by actor: AuditActor, on db: any Database
    ) async throws {
        let draft = AuditDraft(
            atMillis: Int64(Date().timeIntervalSince1970 * 1000), actor: actor.label,
            agencyCode: agencyCode ?? actor.agencyCode, action: action, entityType: entity, entityID: id,
            details: canonicalJSON(details), ip: actor.ip, requestID: actor.requestID)
        if db.inTransaction {
            try await appendLocked(draft, on: db)
        } else {
            try await db.atomically { tx in try await appendLocked(draft, on: tx) }
        }
    }

    private static func appendLocked(_ draft: AuditDraft, on db: any Database) async throws {
        let sql = db.sql
        // Take the head's lock before reading it: SQLite's write lock, PostgreSQL's row lock.
        // Every appender queues here, so sequence numbers and links never fork.
        try await sql.raw("UPDATE audit_head SET seq = seq + 1 WHERE id = 1").run()
        guard let row = try await sql.raw("SELECT seq, hash FROM audit_head WHERE id = 1").first() else {
            throw GovError("audit_head_missing", .conflict, vi: "Thiếu đầu chuỗi nhật ký.", en: "The audit chain head is missing.")
        }
        let seq = try row.decode(column: "seq", as: Int64.self)
        let prevHash = try row.decode(column: "hash", as: String.self)
        let entry = AuditChain.seal(draft, seq: seq, prevHash: prevHash)
        try await AuditRecord(entry).create(on: db)
        try await sql.update(AuditHead.schema).set("hash", to: entry.hash).where("id", .equal, 1).run()
    }

    /// Sorted keys, so the same details always hash the same.
    static func canonicalJSON(_ details: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(details), let text = String(data: data, encoding: .utf8) else { return "{}" }
        return text
    }

    /// The outcome of checking the whole chain.
    struct Verification: Sendable {
        var checked: Int
        var headSeq: Int64
        var broken: AuditBreak?
    }

    /// Re-computes every record's hash and link, page by page, and compares the end with the head.
    static func verify(on db: any Database, pageSize: Int = 2000) async throws -> Verification {
        var verifier = AuditChainVerifier()
        var after: Int64 = 0
        while true {
            let page = try await AuditRecord.query(on: db)
                .filter(\.$id > after).sort(\.$id).limit(pageSize).all()
            for record in page {
                if let broken = verifier.feed(record.entry) {
                    return Verification(checked: verifier.verifiedCount, headSeq: -1, broken: broken)
                }
            }
            guard let last = page.last?.id, page.count == pageSize else { break }
            after = last
        }
        guard let head = try await AuditHead.find(1, on: db) else {
            throw GovError("audit_head_missing", .conflict, vi: "Thiếu đầu chuỗi nhật ký.", en: "The audit chain head is missing.")
        }
        let broken = verifier.finish(headSeq: head.seq, headHash: head.hash)
        return Verification(checked: verifier.verifiedCount, headSeq: head.seq, broken: broken)
    }
}

extension Request {
    /// The actor of this request for the audit trail.
    var auditActor: AuditActor {
        if let user = currentUser {
            return AuditActor(label: "user:\(user.username)", agencyCode: currentAgencyCode, ip: clientIP, requestID: id)
        }
        return AuditActor(label: "anonymous", agencyCode: nil, ip: clientIP, requestID: id)
    }
}

/// `govoffice audit verify`: exit 0 when the chain is intact, 1 naming the first broken record.
struct AuditCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "action", help: "verify")
        var action: String
    }

    var help: String { "Kiểm tra chuỗi băm của nhật ký / verify the hash-chained audit log (audit verify)" }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard signature.action == "verify" else {
            context.console.error("Lệnh không hỗ trợ / unknown action: \(signature.action). Dùng / use: audit verify")
            throw ExitStatus(2)
        }
        let result = try await AuditLog.verify(on: context.application.db)
        if let broken = result.broken {
            context.console.error("✗ Nhật ký bị thay đổi tại bản ghi \(broken.seq) (\(broken.kind.rawValue)): \(broken.vi)")
            context.console.error("✗ Audit log broken at record \(broken.seq) (\(broken.kind.rawValue)): \(broken.en)")
            throw ExitStatus(1)
        }
        context.console.success("✓ Nhật ký toàn vẹn: \(result.checked) bản ghi / audit log intact: \(result.checked) records")
    }
}

