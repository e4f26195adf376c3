import Fluent
import Foundation
import GovCore
import SQLKit

/// An append-only, hash-chained log kept in two tables: the records (the audit log's columns) and
/// one head row with the last sequence number and hash. The audit trail and the hub's evidence log
/// are both one of these, so both follow `AuditChain`'s sealing rules and one verifier checks them.
struct ChainedLog: Sendable {
    let recordTable: String
    let headTable: String

    /// Who did what in the platform.
    static let audit = ChainedLog(recordTable: "audit_log", headTable: "audit_head")
    /// Every message the hub accepted, with its receipt.
    static let evidence = ChainedLog(recordTable: "exchange_evidence", headTable: "exchange_evidence_head")

    /// Seals `draft` as the next entry. Must run inside the caller's transaction: the head row's
    /// lock (SQLite's write lock, PostgreSQL's row lock) queues every appender, so sequence numbers
    /// and links never fork, and the entry commits with the change it records.
    @discardableResult
    func append(_ draft: AuditDraft, on db: any Database) async throws -> AuditEntry {
        try await append(on: db) { _ in draft }
    }

    /// Like `append(_:on:)`, for an entry whose content names its own sequence number (a receipt).
    @discardableResult
    func append(on db: any Database, draft makeDraft: (Int64) throws -> AuditDraft) async throws -> AuditEntry {
        let sql = db.sql
        // Lock, advance and read the head in one statement (SQLite ≥ 3.35 and PostgreSQL both
        // have RETURNING).
        guard let row = try await sql.raw("UPDATE \(unsafeRaw: headTable) SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
            .first() else {
            throw GovError("audit_head_missing", .conflict, vi: "Thiếu đầu chuỗi nhật ký.", en: "The log chain head is missing.")
        }
        let seq = try row.decode(column: "seq", as: Int64.self)
        let prevHash = try row.decode(column: "hash", as: String.self)
        let entry = AuditChain.seal(try makeDraft(seq), seq: seq, prevHash: prevHash)
        try await sql.insert(into: recordTable)
            .columns("seq", "at_ms", "actor", "agency_code", "action", "entity_type", "entity_id", "details", "ip",
                     "request_id", "prev_hash", "hash")
            .values(SQLBind(entry.seq), SQLBind(entry.atMillis), SQLBind(entry.actor), SQLBind(entry.agencyCode),
                    SQLBind(entry.action), SQLBind(entry.entityType), SQLBind(entry.entityID), SQLBind(entry.details),
                    SQLBind(entry.ip), SQLBind(entry.requestID), SQLBind(entry.prevHash), SQLBind(entry.hash))
            .run()
        try await sql.update(headTable).set("hash", to: entry.hash).where("id", .equal, 1).run()
        return entry
    }

    /// The outcome of checking the whole chain.
    struct Verification: Sendable {
        var checked: Int
        var headSeq: Int64
        var broken: AuditBreak?
    }

    private struct Row: Decodable {
        var seq: Int64
        var at_ms: Int64
        var actor: String
        var agency_code: String?
        var action: String
        var entity_type: String
        var entity_id: String?
        var details: String
        var ip: String?
        var request_id: String?
        var prev_hash: String
        var hash: String

        var entry: AuditEntry {
            AuditEntry(seq: seq, atMillis: at_ms, actor: actor, agencyCode: agency_code, action: action,
                       entityType: entity_type, entityID: entity_id, details: details, ip: ip, requestID: request_id,
                       prevHash: prev_hash, hash: hash)
        }
    }

    /// Re-computes every record's hash and link, page by page, and compares the end with the head.
    func verify(on db: any Database, pageSize: Int = 2000) async throws -> Verification {
        var verifier = AuditChainVerifier()
        var after: Int64 = 0
        let sql = db.sql
        while true {
            let page = try await sql.select().column("*").from(recordTable).where("seq", .greaterThan, after)
                .orderBy("seq").limit(pageSize).all(decoding: Row.self)
            for row in page {
                if let broken = verifier.feed(row.entry) {
                    return Verification(checked: verifier.verifiedCount, headSeq: -1, broken: broken)
                }
            }
            guard let last = page.last?.seq, page.count == pageSize else { break }
            after = last
        }
        guard let head = try await sql.raw("SELECT seq, hash FROM \(unsafeRaw: headTable) WHERE id = 1").first() else {
            throw GovError("audit_head_missing", .conflict, vi: "Thiếu đầu chuỗi nhật ký.", en: "The log chain head is missing.")
        }
        let broken = verifier.finish(headSeq: try head.decode(column: "seq", as: Int64.self),
                                     headHash: try head.decode(column: "hash", as: String.self))
        return Verification(checked: verifier.verifiedCount, headSeq: try head.decode(column: "seq", as: Int64.self),
                            broken: broken)
    }
}
