import Foundation
import NIOConcurrencyHelpers
import Vapor

/// Wakes long-polling inbox requests and the push worker of this node as soon as a message for an
/// agency is committed. Other nodes sharing the database notice through their own short re-query
/// interval (see `HubService.inbox`), so this is an accelerator, never the only path.
final class InboxSignal: Sendable {
    private struct Waiter {
        var agency: String
        var continuation: AsyncStream<Void>.Continuation
    }

    private let waiters = NIOLockedValueBox<[UUID: Waiter]>([:])

    /// Wakes every request waiting for one of `agencies` (and the push worker).
    func notify(_ agencies: some Sequence<String>) {
        let wanted = Set(agencies)
        let woken: [AsyncStream<Void>.Continuation] = waiters.withLockedValue { all in
            var out: [AsyncStream<Void>.Continuation] = []
            for (id, waiter) in all where wanted.contains(waiter.agency) || waiter.agency == Self.anyAgency {
                out.append(waiter.continuation)
                all[id] = nil
            }
            return out
        }
        for continuation in woken {
            continuation.yield()
            continuation.finish()
        }
    }

    /// The key the push worker waits under: woken by every message.
    static let anyAgency = "*"

    /// Returns when `agency` is notified or after `timeout`, whichever comes first. The waiter is
    /// registered before anything is awaited, so a notification cannot slip between.
    func wait(for agency: String, timeout: Duration) async {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        let id = UUID()
        waiters.withLockedValue { $0[id] = Waiter(agency: agency, continuation: continuation) }
        defer { waiters.withLockedValue { $0[id] = nil } }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in stream { return }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }
}

extension Application {
    private struct InboxSignalKey: StorageKey { typealias Value = InboxSignal }
    private struct InboxSignalLock: LockKey {}

    /// This node's inbox wake-ups.
    var inboxSignal: InboxSignal {
        locks.lock(for: InboxSignalLock.self).withLock {
            if let signal = storage[InboxSignalKey.self] { return signal }
            let signal = InboxSignal()
            storage[InboxSignalKey.self] = signal
            return signal
        }
    }
}
