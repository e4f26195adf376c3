import ExchangeClient
import Foundation
import GovCore
import NIOConcurrencyHelpers
import SQLKit
import Testing
import VaporTesting

@testable import App

/// A resolver answering from a table the test changes at will: no name is looked up, and the
/// addresses outside loopback in these tests are data only, never connected to.
final class TableResolver: WebhookResolver {
    private let table: NIOLockedValueBox<[String: [String]]>

    init(_ table: [String: [String]]) { self.table = NIOLockedValueBox(table) }

    func set(_ host: String, _ addresses: [String]) { table.withLockedValue { $0[host] = addresses } }

    func addresses(of host: String) async throws -> [IPAddress] {
        let found = table.withLockedValue { $0[host] } ?? []
        guard !found.isEmpty else { throw SystemWebhookResolver.NoAddress() }
        return found.compactMap(IPAddress.init)
    }
}

/// Where webhooks may point (issue 14, item 4): refused at registration and again at each push,
/// with the category as the error, the checked address pinned, redirects not followed.
@Suite("Webhook destinations", .serialized)
struct WebhookAddressTests {
    typealias H = HubHarness

    @Test("Registration refuses loopback, private, link-local and unresolvable destinations by category")
    func registrationRefusesByCategory() async throws {
        try await H.run(adjust: { $0.hub.webhookAllow = [] }) { hub in
            hub.app.webhookResolver = TableResolver([
                "metadata.h41.example": ["169.254.169.254"],
                "intranet.h41.example": ["10.0.0.5"],
                "self.h41.example": ["127.0.0.1"],
                "mixed.h41.example": ["203.0.113.7", "192.168.1.10"],
                "v6.h41.example": ["fd00::5"],
                "public.h41.example": ["203.0.113.7"],
            ])
            let client = try hub.client(H.h41)
            let secret = "0123456789abcdef"
            let refused: [(String, String)] = [
                ("http://169.254.169.254/latest/meta-data/", "webhook_address_link_local"),
                ("http://metadata.h41.example/hook", "webhook_address_link_local"),
                ("http://[fe80::1]/hook", "webhook_address_link_local"),
                ("http://intranet.h41.example/hook", "webhook_address_private"),
                ("http://10.1.2.3/hook", "webhook_address_private"),
                ("http://[::ffff:10.1.2.3]/hook", "webhook_address_private"),
                ("http://100.64.0.1/hook", "webhook_address_private"),
                ("http://v6.h41.example/hook", "webhook_address_private"),
                ("http://mixed.h41.example/hook", "webhook_address_private"),
                ("http://self.h41.example/hook", "webhook_address_loopback"),
                ("http://127.0.0.1:\(hub.port)/hook", "webhook_address_loopback"),
                ("http://[::1]/hook", "webhook_address_loopback"),
                ("http://[::ffff:127.0.0.1]/hook", "webhook_address_loopback"),
                ("http://0.0.0.0/hook", "webhook_address_unspecified"),
                ("http://255.255.255.255/hook", "webhook_address_broadcast"),
                ("http://224.0.0.1/hook", "webhook_address_multicast"),
                ("http://nowhere.h41.example/hook", "webhook_address_not_resolved"),
                ("http://%31%32%37.0.0.1/hook", "webhook_address_invalid_host"),
            ]
            for (url, code) in refused {
                await expectHubError(code, status: 400) {
                    try await client.registerWebhook(url: URL(string: url)!, secret: secret)
                }
            }
            #expect(try await client.webhooks().isEmpty)
            // A public destination (a documentation address, never contacted: nothing is sent here).
            let hook = try await client.registerWebhook(url: URL(string: "https://public.h41.example/hook")!, secret: secret)
            #expect(hook.url == "https://public.h41.example/hook")
        }
    }

    @Test("A name that resolved to a public address at registration and to 169.254.169.254 at push time is refused; nothing is sent")
    func pushTimeRebindingRefused() async throws {
        try await WebhookReceiver.with(failures: 0) { receiver in
            try await H.run(adjust: { $0.hub.webhookAllow = [] }) { hub in
                let resolver = TableResolver(["hooks.h41.example": ["203.0.113.7"], "hooks.h37.example": ["203.0.113.8"]])
                hub.app.webhookResolver = resolver
                _ = try await hub.client(H.h41).registerWebhook(url: receiver.url(host: "hooks.h41.example"), secret: "0123456789abcdef")
                _ = try await hub.client(H.h37).registerWebhook(url: receiver.url(host: "hooks.h37.example"), secret: "0123456789abcdef")
                // Rebound: H41's name now answers the cloud metadata address, H37's the hub's loopback,
                // where the receiver really listens: had the hub connected, the receiver would know.
                resolver.set("hooks.h41.example", ["169.254.169.254"])
                resolver.set("hooks.h37.example", ["127.0.0.1"])
                let (_, signed) = try hub.document(from: H.g22, to: [H.h41, H.h37], number: "141")
                let sent = try await hub.client(H.g22).submit(signed)
                let errors = try await Self.lastErrors(hub, of: sent.messageID)
                #expect(errors[H.h41] == "webhook_address_link_local")
                #expect(errors[H.h37] == "webhook_address_loopback")
                #expect(receiver.calls().isEmpty)
                // The refused pushes wait in the inbox for a pull, as any failing push does.
                #expect(try await hub.client(H.h41).inbox().map(\.messageID) == [sent.messageID])
            }
        }
    }

    @Test("The push connects to the checked address, keeps the name in Host, signs id, kind and sequence")
    func pushPinsTheCheckedAddress() async throws {
        try await WebhookReceiver.with(failures: 0) { receiver in
            try await H.run { hub in
                // The name exists only in this table: the push reaches the receiver only through the
                // address the hub checked, not through a second lookup of its own.
                hub.app.webhookResolver = TableResolver(["hooks.h41.example": ["127.0.0.1"]])
                let secret = "pinned-webhook-secret"
                _ = try await hub.client(H.h41).registerWebhook(url: receiver.url(host: "hooks.h41.example"), secret: secret)
                let (_, signed) = try hub.document(from: H.g22, to: [H.h41], number: "142")
                let sent = try await hub.client(H.g22).submit(signed)
                for _ in 0..<200 where receiver.calls().isEmpty { try await Task.sleep(for: .milliseconds(50)) }
                let call = try #require(receiver.calls().first)
                #expect(call.host == "hooks.h41.example:\(receiver.port)")
                #expect(call.body == signed)
                #expect(call.signature.hasPrefix("v2="))
                #expect(call.envelope.messageID == sent.messageID.uuidString.lowercased())
                #expect(call.envelope.kind == "document")
                #expect(WebhookSignature.verify(body: call.body, secret: secret, timestamp: call.timestamp,
                                                envelope: call.envelope, header: call.signature))
                var replayed = call.envelope
                replayed.sequence = String((Int(call.envelope.sequence) ?? 0) + 1)
                #expect(!WebhookSignature.verify(body: call.body, secret: secret, timestamp: call.timestamp,
                                                 envelope: replayed, header: call.signature))
            }
        }
    }

    @Test("A webhook answering a redirect is not followed; the delivery's error says so")
    func redirectNotFollowed() async throws {
        try await WebhookReceiver.with(failures: 0) { receiver in
            try await H.run { hub in
                let moved = URL(string: "http://127.0.0.1:\(receiver.port)/moved")!
                _ = try await hub.client(H.h41).registerWebhook(url: moved, secret: "0123456789abcdef")
                let (_, signed) = try hub.document(from: H.g22, to: [H.h41], number: "143")
                let sent = try await hub.client(H.g22).submit(signed)
                let errors = try await Self.lastErrors(hub, of: sent.messageID)
                #expect(errors[H.h41] == "webhook_address_redirect")
                #expect(receiver.calls().isEmpty, "the redirect target /hook must not be called")
            }
        }
    }

    @Test("A connection error is reported by category, not as the raw error")
    func connectionErrorByCategory() async throws {
        let receiver = try await WebhookReceiver.start(failures: 0)
        let port = receiver.port
        try await receiver.stop()  // nothing listens there any more
        try await H.run { hub in
            _ = try await hub.client(H.h41).registerWebhook(url: URL(string: "http://127.0.0.1:\(port)/hook")!,
                                                            secret: "0123456789abcdef")
            let (_, signed) = try hub.document(from: H.g22, to: [H.h41], number: "144")
            let sent = try await hub.client(H.g22).submit(signed)
            let errors = try await Self.lastErrors(hub, of: sent.messageID)
            #expect(errors[H.h41] == "webhook_connection_failed")
        }
    }

    /// The deliveries' last errors once every recipient's first push was attempted.
    static func lastErrors(_ hub: HubHarness, of message: UUID) async throws -> [String: String] {
        var errors: [String: String] = [:]
        for _ in 0..<200 {
            let recipients = try await hub.client(H.g22).history(message).recipients
            errors = Dictionary(uniqueKeysWithValues: recipients.compactMap { r in r.lastError.map { (r.agency, $0) } })
            if errors.count == recipients.count { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return errors
    }
}
