import ExchangeClient
import Foundation
import Testing

/// What can be checked without a hub: nothing listens on port 1, so every call must fail cleanly.
/// AsyncHTTPClient keeps retrying a refused connection until the deadline, so each call takes the
/// client's (short) timeout and reports the last connection error.
@Suite struct TransportTests {
    static let closed = ExchangeClient(hub: URL(string: "http://127.0.0.1:1")!,
                                       credentials: HubCredentials(systemID: "qlvb", secret: "s"),
                                       timeout: .seconds(2))

    /// The ExchangeClientError a call failed with (nil if it succeeded). Untyped closures here: the
    /// 6.3.1 compiler crashes in IRGen on arrays of `@Sendable async throws(E)` closures.
    static func failure(_ body: () async throws -> Void) async -> ExchangeClientError? {
        do {
            try await body()
            return nil
        } catch let error as ExchangeClientError {
            return error
        } catch {
            Issue.record("not an ExchangeClientError: \(error)")
            return nil
        }
    }

    @Test func closedPortIsTransportFailed() async {
        let error = await Self.failure { _ = try await Self.closed.whoami() }
        #expect(error?.code == "transport_failed")
        #expect(error?.status == nil)
        #expect(error?.isRetryable == true)
        #expect(error?.vi.isEmpty == false)
        #expect(error?.en.hasPrefix("Could not reach the exchange hub") == true)
    }

    @Test func everyCallMapsTransportErrors() async {
        let id = UUID()
        let client = Self.closed
        let calls: [@Sendable () async throws -> Void] = [
            { _ = try await client.submit(Data("<edXML/>".utf8)) },
            { _ = try await client.submit(Data(count: 600_000), progress: { _, _ in }) },
            { _ = try await client.inbox(type: .status, limit: 5, wait: .seconds(1)) },
            { _ = try await client.fetch(id) },
            { _ = try await client.acknowledge(id, outcome: .failed(reason: "sai định dạng")) },
            { _ = try await client.history(id) },
            { _ = try await client.receipt(id) },
            { _ = try await client.registerWebhook(url: URL(string: "https://a.vn/h")!, secret: "0123456789abcdef") },
            { _ = try await client.webhooks() },
            { try await client.deleteWebhook(id) },
            { _ = try await client.deadLetters() },
            { _ = try await client.redeliver(deliveryID: id) },
        ]
        for call in calls {
            let error = await Self.failure(call)
            #expect(error?.code == "transport_failed")
        }
    }

    @Test func fileSubmissionFailures() async throws {
        let missing = URL(fileURLWithPath: "/nonexistent/\(UUID()).xml")
        let error = await Self.failure { _ = try await Self.closed.submit(fileAt: missing) }
        #expect(error?.code == "file_unreadable")
        #expect(error?.isRetryable == false)

        let directory = await Self.failure { () throws(ExchangeClientError) in
            _ = try await Self.closed.submit(fileAt: URL(fileURLWithPath: NSTemporaryDirectory()))
        }
        #expect(directory?.code == "file_unreadable")

        let remote = await Self.failure { () throws(ExchangeClientError) in
            _ = try await Self.closed.submit(fileAt: URL(string: "https://a.vn/x.xml")!)
        }
        #expect(remote?.code == "file_unreadable")

        // A readable file gets as far as the network.
        let file = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("exchange-\(UUID()).xml")
        try Data("<edXML/>".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let network = await Self.failure { _ = try await Self.closed.submit(fileAt: file) }
        #expect(network?.code == "transport_failed")
    }

    @Test(arguments: ["ftp://hub.example.gov.vn", "https://hub.example.gov.vn/?x=1", "mailto:a@b.vn"])
    func unusableHubURL(raw: String) async throws {
        let client = ExchangeClient(hub: try #require(URL(string: raw)), credentials: HubCredentials(systemID: "a", secret: "b"))
        let error = await Self.failure { _ = try await client.whoami() }
        #expect(error?.code == "request_invalid")
        #expect(error?.isRetryable == false)
    }

    @Test func watchStopsOnNonRetryableError() async throws {
        let client = ExchangeClient(hub: try #require(URL(string: "ftp://hub")), credentials: HubCredentials(systemID: "a", secret: "b"))
        var iterator = client.watch(wait: .seconds(1)).makeAsyncIterator()
        let error = await Self.failure { _ = try await iterator.next() }
        #expect(error?.code == "request_invalid")
        // A finished watch stays finished.
        let after = try await iterator.next()
        #expect(after == nil)
    }

    @Test func watchRetriesTransportErrorsUntilCancelled() async throws {
        let task = Task { () throws(ExchangeClientError) -> Int in
            var count = 0
            for try await _ in Self.closed.watch(wait: .seconds(1)) { count += 1 }
            return count
        }
        try await Task.sleep(for: .milliseconds(1500))
        task.cancel()
        // Cancellation ends the sequence quietly rather than surfacing an error.
        let count = try await task.value
        #expect(count == 0)
    }

    @Test func retryDelayGrowsWithJitterAndCaps() {
        for failures in 1...12 {
            let ceiling = Swift.min(Double(1 << Swift.min(failures - 1, 5)), 30)
            for _ in 0..<20 {
                let delay = InboxWatch.retryDelay(afterFailures: failures)
                #expect(delay >= .milliseconds(Int64(ceiling * 500)))
                #expect(delay <= .seconds(30))
                #expect(delay <= .milliseconds(Int64(ceiling * 1000)))
            }
        }
        #expect(InboxWatch.retryDelay(afterFailures: 0) <= .seconds(1))
    }
}
