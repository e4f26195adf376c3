import Foundation

extension ExchangeClient {
    /// A never-ending long-poll of the inbox that yields each waiting message once (see `InboxWatch`).
    /// `wait` is the long-poll time of each inbox call (clamped to 0…60 s by the hub's contract).
    public func watch(type: MessageKind? = nil, wait: Duration = .seconds(30)) -> InboxWatch {
        InboxWatch(client: self, type: type, wait: wait)
    }
}

/// The inbox as an `AsyncSequence`: `for try await item in client.watch() { … acknowledge … }`.
///
/// Items stay in the hub's inbox until acknowledged, so every poll lists them again; the watch
/// remembers the ids it already yielded and forgets an id only once the hub stops listing it (it was
/// acknowledged), so each message is yielded once per watch even if processing it is slow. A message
/// yielded but never acknowledged is not yielded again by this watch; a new watch yields it again.
///
/// Polls take up to 500 items (the hub's maximum). When a poll shows nothing new while messages are
/// still waiting unacknowledged, the hub would answer the next long-poll at once, so the watch
/// pauses `idleInterval` instead of spinning.
///
/// Failures: retryable ones (transport, 5xx, 429) are retried after 1 s, 2 s, 4 s … capped at 30 s,
/// with jitter so many agencies do not reconnect in step; anything else (401, 403, other refusals,
/// malformed answers) ends the sequence by throwing. Cancelling the consuming task ends it quietly.
public struct InboxWatch: AsyncSequence, Sendable {
    /// Each waiting message.
    public typealias Element = InboxItem

    /// The client polled.
    public let client: ExchangeClient
    /// The kind filter, nil for both.
    public let type: MessageKind?
    /// The long-poll time of each inbox call.
    public let wait: Duration
    /// The pause after a poll that found only already-yielded messages.
    public var idleInterval: Duration = .seconds(2)

    /// A watch on `client`'s inbox; `ExchangeClient.watch(type:wait:)` is the usual way to get one.
    public init(client: ExchangeClient, type: MessageKind?, wait: Duration) {
        self.client = client
        self.type = type
        self.wait = wait
    }

    /// The largest page the hub serves, so the watch sees as many waiting messages as possible.
    static let pageSize = 500

    /// The pause before retry number `failures` (1-based): 2^(failures-1) seconds capped at 30 s,
    /// then drawn uniformly from its upper half (equal jitter), so it is never zero and never above 30 s.
    public static func retryDelay(afterFailures failures: Int) -> Duration {
        let exponent = Swift.min(Swift.max(failures, 1) - 1, 5)
        let ceiling = Swift.min(Double(1 << exponent), 30)
        return .milliseconds(Int64(Double.random(in: (ceiling / 2)...ceiling) * 1000))
    }

    /// Starts polling on the first `next()`.
    public func makeAsyncIterator() -> Iterator {
        Iterator(watch: self)
    }

    /// The polling state of one iteration; not shared between tasks.
    public struct Iterator: AsyncIteratorProtocol {
        let watch: InboxWatch
        private var pending: [InboxItem] = []
        private var yielded: Set<UUID> = []
        private var failures = 0
        private var finished = false

        init(watch: InboxWatch) {
            self.watch = watch
        }

        /// The next new message; nil once the task is cancelled; throws the first non-retryable error
        /// (after which it returns nil).
        public mutating func next() async throws(ExchangeClientError) -> InboxItem? {
            while !finished {
                if !pending.isEmpty { return pending.removeFirst() }
                if Task.isCancelled { break }
                let items: [InboxItem]
                do {
                    items = try await watch.client.inbox(type: watch.type, limit: InboxWatch.pageSize, wait: watch.wait)
                } catch {
                    if error.code == "cancelled" || Task.isCancelled { break }
                    guard error.isRetryable else {
                        finished = true
                        throw error
                    }
                    failures += 1
                    if await !Self.pause(InboxWatch.retryDelay(afterFailures: failures)) { break }
                    continue
                }
                failures = 0
                if items.count < InboxWatch.pageSize {
                    // A complete listing: whatever is no longer listed was acknowledged.
                    yielded.formIntersection(items.map(\.messageID))
                }
                for item in items where !yielded.contains(item.messageID) {
                    yielded.insert(item.messageID)
                    pending.append(item)
                }
                let hubWaited = items.isEmpty && watch.wait > .zero
                if pending.isEmpty, !hubWaited, await !Self.pause(watch.idleInterval) { break }
            }
            finished = true
            return nil
        }

        /// Sleeps; false when the task was cancelled meanwhile.
        private static func pause(_ duration: Duration) async -> Bool {
            do {
                try await Task.sleep(for: duration)
                return true
            } catch {
                return false
            }
        }
    }
}
