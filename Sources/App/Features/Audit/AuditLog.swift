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
        try await ChainedLog.audit.append(draft, on: db)
    }

    /// Sorted keys, so the same details always hash the same.
    static func canonicalJSON(_ details: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(details), let text = String(data: data, encoding: .utf8) else { return "{}" }
        return text
    }

    /// Re-computes every record's hash and link, page by page, and compares the end with the head.
    static func verify(on db: any Database, pageSize: Int = 2000) async throws -> ChainedLog.Verification {
        try await ChainedLog.audit.verify(on: db, pageSize: pageSize)
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

/// `govoffice audit verify [--checkpoints DIR]`: exit 0 when the chain is intact (and agrees with
/// every signed checkpoint in DIR), 1 naming the first broken record or each disagreeing
/// checkpoint. `govoffice audit checkpoint [--checkpoints DIR]` writes checkpoints of the audit and
/// evidence chains now (the server writes them periodically and on shutdown).
struct AuditCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "action", help: "verify | checkpoint")
        var action: String

        @Option(name: "checkpoints", help: "thư mục điểm kiểm đã ký / folder of signed checkpoints (GOVOFFICE_CHECKPOINT_DIR)")
        var checkpoints: String?
    }

    var help: String {
        "Kiểm tra chuỗi băm của nhật ký / verify the hash-chained audit log (audit verify [--checkpoints DIR], audit checkpoint)"
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        switch signature.action {
        case "verify":
            let result = try await AuditLog.verify(on: app.db)
            if let broken = result.broken {
                context.console.error("✗ Nhật ký bị thay đổi tại bản ghi \(broken.seq) (\(broken.kind.rawValue)): \(broken.vi)")
                context.console.error("✗ Audit log broken at record \(broken.seq) (\(broken.kind.rawValue)): \(broken.en)")
                throw ExitStatus(1)
            }
            context.console.success("✓ Nhật ký toàn vẹn: \(result.checked) bản ghi / audit log intact: \(result.checked) records")
            if let directory = signature.checkpoints {
                let (checked, problems) = try await ChainCheckpoints.problems(app, chain: "audit", log: .audit, directory: directory)
                for problem in problems { context.console.error("✗ \(problem)") }
                if !problems.isEmpty { throw ExitStatus(1) }
                context.console.success("✓ \(checked) điểm kiểm khớp nhật ký / checkpoints agree with the audit log: \(checked)")
            }
        case "checkpoint":
            let directory = signature.checkpoints ?? app.govConfig.checkpoints.directory
            for (name, log) in ChainCheckpoints.chains {
                let path = try await ChainCheckpoints.write(app, chain: name, log: log, directory: directory)
                context.console.print(path)
            }
        default:
            context.console.error("Lệnh không hỗ trợ / unknown action: \(signature.action). Dùng / use: audit verify | audit checkpoint")
            throw ExitStatus(2)
        }
    }
}
