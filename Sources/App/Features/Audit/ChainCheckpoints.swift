import Fluent
import Foundation
import GovCore
import NIOConcurrencyHelpers
import NIOCore
import PKI
import SQLKit
import Vapor
import X509

/// Signed checkpoints of the audit trail's and the evidence log's heads, written by the hub seal
/// into `GOVOFFICE_CHECKPOINT_DIR` (one file per checkpoint, never rewritten), so that a database
/// writer who recomputes a chain or cuts its tail is caught by `audit verify --checkpoints` and
/// `exchange evidence verify --checkpoints`.
enum ChainCheckpoints {
    /// The chains with their names in checkpoint files.
    static let chains: [(name: String, log: ChainedLog)] = [("audit", .audit), ("evidence", .evidence)]

    /// Who writes: host name and process id, so that nodes sharing the folder never pick one name.
    static var node: String { "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)" }

    /// Signs the current head of `log` and writes it as a new file in `directory`; returns its path.
    @discardableResult
    static func write(_ app: Application, chain name: String, log: ChainedLog, directory: String) async throws -> String {
        guard let head = try await app.db.sql.raw("SELECT seq, hash FROM \(unsafeRaw: log.headTable) WHERE id = 1").first() else {
            throw GovError("audit_head_missing", .conflict, vi: "Thiếu đầu chuỗi nhật ký.", en: "The log chain head is missing.")
        }
        let now = Date()
        let checkpoint = ChainCheckpoint(chain: name, seq: try head.decode(column: "seq", as: Int64.self),
                                         hash: try head.decode(column: "hash", as: String.self),
                                         atMillis: Int64(now.timeIntervalSince1970 * 1000), node: node)
        let cms = try app.hubSeal().sign(checkpoint.signedBytes, at: now)
        let data = try SignedCheckpoint(checkpoint: checkpoint, cms: cms).encoded()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent(checkpoint.fileName())
        // Written under a temporary name and renamed, so a reader never sees half a checkpoint.
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            throw GovError("checkpoint_write_failed", .conflict, vi: "Không ghi được điểm kiểm \(path).",
                           en: "Cannot write the checkpoint \(path).")
        }
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
        return path
    }

    /// Writes a checkpoint of every chain; failures are logged (the next round tries again).
    static func writeAll(_ app: Application, directory: String) async {
        for (name, log) in chains {
            do {
                try await write(app, chain: name, log: log, directory: directory)
            } catch {
                app.logger.warning("checkpoint of the \(name) chain not written: \(String(reflecting: error))")
            }
        }
    }

    /// What is wrong with `log` according to the checkpoints of chain `name` in `directory`: each
    /// file must be signed by the hub seal's certificate, not be ahead of the chain, and match the
    /// record at its sequence. Empty when everything agrees; one line per problem otherwise.
    static func problems(_ app: Application, chain name: String, log: ChainedLog, directory: String) async throws -> (checked: Int, problems: [String]) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isFolder), isFolder.boolValue else {
            throw ToolFailure(message: "Không có thư mục điểm kiểm / no checkpoint folder: \(directory)")
        }
        guard let seal = try app.hubSeal().chain.first else { throw HubSeal.unusable("no certificate") }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasPrefix("\(name)-") && $0.hasSuffix(".checkpoint.json") }.sorted()
        let sql = app.db.sql
        let length = try await sql.raw("SELECT COALESCE(MAX(seq), 0) AS n FROM \(unsafeRaw: log.recordTable)").first()?
            .decode(column: "n", as: Int64.self) ?? 0
        var problems: [String] = []
        for file in files {
            let path = (directory as NSString).appendingPathComponent(file)
            guard let data = FileManager.default.contents(atPath: path), let stored = SignedCheckpoint.decode(data),
                  stored.checkpoint.chain == name else {
                problems.append("checkpoint \(file): unreadable / không đọc được")
                continue
            }
            let checkpoint = stored.checkpoint
            let verification = await CMSVerifier.verifyDetached(
                signature: stored.cmsBytes, data: checkpoint.signedBytes, trustStore: TrustStore(),
                options: ValidationOptions(checkRevocation: false))
            // The signature must be intact (a validation ran, which happens only after the
            // cryptographic check) and made by the seal's own certificate, not any other one.
            guard verification.validation != nil, verification.signer == seal else {
                problems.append("checkpoint \(file): signature does not verify against the hub seal certificate / chữ ký không khớp con dấu của trục")
                continue
            }
            var recordHash: String?
            if checkpoint.seq > 0, checkpoint.seq <= length {
                recordHash = try await sql.select().column("hash").from(log.recordTable).where("seq", .equal, checkpoint.seq)
                    .first()?.decode(column: "hash", as: String.self)
            }
            if let mismatch = checkpoint.compare(chainLength: length, recordHash: recordHash) {
                problems.append("checkpoint \(file): \(mismatch.message)")
            }
        }
        return (files.count, problems)
    }

    /// `--checkpoints DIR` of the verify commands: prints the outcome, throws exit status 1 when
    /// any checkpoint disagrees or is forged.
    static func verifyCommand(_ app: Application, chain name: String, log: ChainedLog, directory: String) async throws {
        let (checked, problems) = try await Self.problems(app, chain: name, log: log, directory: directory)
        if !problems.isEmpty {
            throw ToolFailure(message: problems.map { "✗ \($0)" }.joined(separator: "\n"), exitCode: 1)
        }
        print("✓ \(checked) điểm kiểm khớp chuỗi / checkpoints agree with the \(name) chain: \(checked)")
    }
}

/// Writes checkpoints every `GOVOFFICE_CHECKPOINT_MINUTES` while `serve` runs, and once more on
/// shutdown, so the last head before a stop is pinned too.
final class CheckpointWriter: LifecycleHandler, Sendable {
    private let task = NIOLockedValueBox<RepeatedTask?>(nil)

    func didBoot(_ application: Application) throws {
        let settings = application.govConfig.checkpoints
        guard settings.minutes > 0 else { return }
        let repeated = application.eventLoopGroup.next().scheduleRepeatedAsyncTask(
            initialDelay: .minutes(Int64(settings.minutes)), delay: .minutes(Int64(settings.minutes))
        ) { _ in
            application.eventLoopGroup.any().makeFutureWithTask {
                await ChainCheckpoints.writeAll(application, directory: settings.directory)
            }
        }
        task.withLockedValue { $0 = repeated }
    }

    func shutdown(_ application: Application) {
        task.withLockedValue { $0?.cancel(); $0 = nil }
    }

    func shutdownAsync(_ application: Application) async {
        shutdown(application)
        let settings = application.govConfig.checkpoints
        guard settings.minutes > 0 else { return }
        await ChainCheckpoints.writeAll(application, directory: settings.directory)
    }
}
