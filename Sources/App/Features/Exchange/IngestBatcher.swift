import Fluent
import Foundation
import NIOConcurrencyHelpers
import SQLKit
import Vapor

/// Group commit for the hub's ingest: messages that arrive together are written in one
/// transaction, so one durable commit (one fsync on SQLite, one WAL flush on PostgreSQL) serves
/// many submissions. Each submission runs in a savepoint of its own, so a refused message (a
/// conflict found inside) leaves the others of its batch untouched. A caller is answered only
/// after the transaction holding its message has committed.
final class IngestBatcher: Sendable {
    typealias Work = @Sendable (any Database) async throws -> HubService.Accepted

    private struct Job {
        var work: Work
        var continuation: CheckedContinuation<HubService.Accepted, any Error>
    }

    private struct State {
        var jobs: [Job] = []
        var draining = false
    }

    private let state = NIOLockedValueBox(State())
    /// The most submissions one transaction carries.
    let maxBatch: Int

    init(maxBatch: Int = 128) { self.maxBatch = maxBatch }

    /// Runs `work` in the next batch on `db` and returns its result once that batch committed.
    func run(on db: any Database, _ work: @escaping Work) async throws -> HubService.Accepted {
        try await withCheckedThrowingContinuation { continuation in
            let start = state.withLockedValue { state -> Bool in
                state.jobs.append(Job(work: work, continuation: continuation))
                guard !state.draining else { return false }
                state.draining = true
                return true
            }
            if start {
                Task { await self.drain(db) }
            }
        }
    }

    private func drain(_ db: any Database) async {
        while true {
            let batch = state.withLockedValue { state -> [Job] in
                let taken = Array(state.jobs.prefix(maxBatch))
                state.jobs.removeFirst(taken.count)
                if taken.isEmpty { state.draining = false }
                return taken
            }
            if batch.isEmpty { return }
            await commit(batch, on: db)
        }
    }

    private func commit(_ batch: [Job], on db: any Database) async {
        let outcomes: [Result<HubService.Accepted, any Error>]
        do {
            outcomes = try await db.atomically { tx in
                var results: [Result<HubService.Accepted, any Error>] = []
                for (index, job) in batch.enumerated() {
                    let savepoint = "ingest_\(index)"
                    try await tx.sql.raw("SAVEPOINT \(unsafeRaw: savepoint)").run()
                    do {
                        results.append(.success(try await job.work(tx)))
                        try await tx.sql.raw("RELEASE SAVEPOINT \(unsafeRaw: savepoint)").run()
                    } catch {
                        try await tx.sql.raw("ROLLBACK TO SAVEPOINT \(unsafeRaw: savepoint)").run()
                        try await tx.sql.raw("RELEASE SAVEPOINT \(unsafeRaw: savepoint)").run()
                        results.append(.failure(error))
                    }
                }
                return results
            }
        } catch {
            // The transaction itself failed (the commit, a lost connection): nobody's message is stored.
            for job in batch { job.continuation.resume(throwing: error) }
            return
        }
        for (job, outcome) in zip(batch, outcomes) { job.continuation.resume(with: outcome) }
    }
}

extension Application {
    private struct IngestBatcherKey: StorageKey { typealias Value = IngestBatcher }
    private struct IngestBatcherLock: LockKey {}

    /// This node's ingest group commit.
    var ingestBatcher: IngestBatcher {
        locks.lock(for: IngestBatcherLock.self).withLock {
            if let batcher = storage[IngestBatcherKey.self] { return batcher }
            let batcher = IngestBatcher()
            storage[IngestBatcherKey.self] = batcher
            return batcher
        }
    }
}
