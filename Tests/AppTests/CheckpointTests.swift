import Fluent
import Foundation
import GovCore
import PKI
import SQLKit
import Testing
import VaporTesting

@testable import App

/// Signed checkpoints against a database writer (issue 14, item 7): a cut tail or a recomputed
/// chain passes the chain's own check, and is caught by the checkpoints the hub seal signed.
@Suite("Signed checkpoints of the audit and evidence chains")
struct CheckpointTests {
    /// Runs `body` with a test app whose demo seal and checkpoint folder are fresh temporary folders.
    func withCheckpoints(_ body: (Application, String) async throws -> Void) async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoints-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try await withTestApp(adjust: { config in
            config.pkiDirectory = root + "/pki"
            config.checkpoints.directory = root + "/checkpoints"
        }) { app in
            try await body(app, root + "/checkpoints")
        }
    }

    func appendAudit(_ app: Application, _ count: Int) async throws {
        for index in 0..<count {
            try await AuditLog.append("test.event", entity: "thing", id: "c\(index)", details: ["n": "\(index)"],
                                      by: .commandLine, on: app.db)
        }
    }

    /// Ten more audit records and a checkpoint of the head, which agrees with the chain; the head's seq.
    func checkpointedAudit(_ app: Application, _ folder: String) async throws -> Int64 {
        try await appendAudit(app, 10)
        try await ChainCheckpoints.write(app, chain: "audit", log: .audit, directory: folder)
        #expect(try await ChainCheckpoints.problems(app, chain: "audit", log: .audit, directory: folder).problems.isEmpty)
        return try await AuditLog.verify(on: app.db).headSeq
    }

    /// What a writer with database access does to hide a cut: delete the tail and move the head back.
    func cutTail(_ app: Application, _ log: ChainedLog, keep: Int64) async throws {
        try await app.db.sql.delete(from: log.recordTable).where("seq", .greaterThan, keep).run()
        let hash = try #require(try await app.db.sql.select().column("hash").from(log.recordTable).where("seq", .equal, keep)
            .first()?.decode(column: "hash", as: String.self))
        try await app.db.sql.update(log.headTable).set("seq", to: keep).set("hash", to: hash).where("id", .equal, 1).run()
    }

    @Test("A cut tail passes audit verify alone and fails it with the checkpoints")
    func cutTailCaught() async throws {
        try await withCheckpoints { app, folder in
            let headSeq = try await checkpointedAudit(app, folder)

            try await cutTail(app, .audit, keep: headSeq - 4)
            // The gap: the chain's own check cannot see it.
            #expect(try await AuditLog.verify(on: app.db).broken == nil)
            let found = try await ChainCheckpoints.problems(app, chain: "audit", log: .audit, directory: folder)
            #expect(found.checked == 1)
            #expect(found.problems.count == 1)
            #expect(found.problems.first?.contains("chain shorter than checkpoint \(headSeq)") == true, "\(found.problems)")
        }
    }

    @Test("A chain recomputed after altering a record passes audit verify alone and fails it with the checkpoints")
    func recomputedChainCaught() async throws {
        try await withCheckpoints { app, folder in
            let headSeq = try await checkpointedAudit(app, folder)

            // Alter record 5 and reseal every record from the first with the chain's own code.
            try await app.db.sql.update(AuditRecord.schema).set("actor", to: "user:someone-else").where("seq", .equal, 5).run()
            var prevHash = AuditChain.genesisHash
            for record in try await AuditRecord.query(on: app.db).sort(\.$id).all() {
                let sealed = AuditChain.seal(record.entry.draft, seq: try record.requireID(), prevHash: prevHash)
                try await app.db.sql.update(AuditRecord.schema).set("prev_hash", to: sealed.prevHash).set("hash", to: sealed.hash)
                    .where("seq", .equal, sealed.seq).run()
                prevHash = sealed.hash
            }
            try await app.db.sql.update(ChainedLog.audit.headTable).set("hash", to: prevHash).where("id", .equal, 1).run()
            #expect(try await AuditLog.verify(on: app.db).broken == nil)

            let found = try await ChainCheckpoints.problems(app, chain: "audit", log: .audit, directory: folder)
            #expect(found.problems.count == 1)
            #expect(found.problems.first?.contains("record \(headSeq) differs from the checkpoint at sequence \(headSeq)") == true,
                    "\(found.problems)")
        }
    }

    @Test("A forged checkpoint is reported: changed fields, or signed by another certificate than the seal")
    func forgedCheckpointReported() async throws {
        try await withCheckpoints { app, folder in
            try await appendAudit(app, 3)
            let path = try await ChainCheckpoints.write(app, chain: "audit", log: .audit, directory: folder)
            // Moved back to record 1 with the seal's signature kept: the signature no longer matches.
            let written = try #require(FileManager.default.contents(atPath: path))
            var stored = try #require(SignedCheckpoint.decode(written))
            let first = try #require(try await AuditRecord.find(1, on: app.db))
            stored.checkpoint.seq = 1
            stored.checkpoint.hash = first.hash
            try stored.encoded().write(to: URL(fileURLWithPath: folder + "/audit-forged-moved.checkpoint.json"))
            // Signed properly, but by an agency's certificate instead of the hub seal.
            let agency = try #require(HubHarness.issued[HubHarness.g22])
            let cms = try CMSSigner.signDetached(stored.checkpoint.signedBytes, certificate: agency.certificate, key: agency.key)
            try SignedCheckpoint(checkpoint: stored.checkpoint, cms: cms).encoded()
                .write(to: URL(fileURLWithPath: folder + "/audit-forged-other-signer.checkpoint.json"))
            try Data("not a checkpoint".utf8).write(to: URL(fileURLWithPath: folder + "/audit-garbage.checkpoint.json"))

            let found = try await ChainCheckpoints.problems(app, chain: "audit", log: .audit, directory: folder)
            #expect(found.checked == 4)
            #expect(found.problems.count == 3, "\(found.problems)")
            #expect(found.problems.filter { $0.contains("signature does not verify against the hub seal certificate") }.count == 2)
            #expect(found.problems.contains { $0.contains("audit-garbage") && $0.contains("unreadable") })
        }
    }

    @Test("The evidence chain: a cut tail is caught by its checkpoints; the audit checkpoints do not count for it")
    func evidenceCutTailCaught() async throws {
        try await withCheckpoints { app, folder in
            for index in 0..<6 {
                try await ChainedLog.evidence.append(AuditDraft(atMillis: 1_795_421_700_000 + Int64(index), actor: "hub",
                                                                action: "exchange.accept", entityType: "exchange_message",
                                                                entityID: "m\(index)"), on: app.db)
            }
            await ChainCheckpoints.writeAll(app, directory: folder)
            try await cutTail(app, .evidence, keep: 3)
            #expect(try await ChainedLog.evidence.verify(on: app.db).broken == nil)
            let found = try await ChainCheckpoints.problems(app, chain: "evidence", log: .evidence, directory: folder)
            #expect(found.checked == 1)
            #expect(found.problems.first?.contains("chain shorter than checkpoint 6") == true, "\(found.problems)")
            #expect(try await ChainCheckpoints.problems(app, chain: "audit", log: .audit, directory: folder).problems.isEmpty)
        }
    }

    @Test("Checkpoint file names of two writers at the same millisecond differ")
    func fileNamesDoNotCollide() {
        let checkpoint = ChainCheckpoint(chain: "audit", seq: 7, hash: String(repeating: "a", count: 64),
                                         atMillis: 1_795_421_700_123, node: "node-a.gov.vn-42")
        #expect(checkpoint.fileName(random: 1) != checkpoint.fileName(random: 2))
        #expect(checkpoint.fileName(random: 1).hasPrefix("audit-20261123T081500123Z-node-a_gov_vn-42-7-"))
    }
}
