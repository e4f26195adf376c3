import EdXML
import ExchangeClient
import Foundation
import GovCore
import NIOCore
import Testing
import VaporTesting

@testable import App

/// What the API fuzzing (tests/api/fuzz.sh, Schemathesis against docs/openapi.yaml) found, kept as
/// regression tests on the raw HTTP answers (ExchangeClient would hide them: it parses any UUID).
@Suite("Hub API conforms to docs/openapi.yaml", .serialized)
struct ApiConformanceTests {
    typealias H = HubHarness

    /// `Uuid` in docs/openapi.yaml (`^[0-9a-f]{8}-…-[0-9a-f]{12}$`): the hub writes its ids in lower case.
    static func isLowerUUID(_ text: String) -> Bool {
        UUID(uuidString: text) != nil && text.count == 36 && text == text.lowercased()
    }

    /// Every `id`, `message_id` and `delivery_id` anywhere in a JSON body.
    static func ids(in body: ByteBuffer) throws -> [String] {
        let json = try JSONSerialization.jsonObject(with: Data(buffer: body))
        var found: [String] = []
        func walk(_ value: Any) {
            if let object = value as? [String: Any] {
                for (key, inner) in object {
                    if ["id", "message_id", "delivery_id"].contains(key), let text = inner as? String { found.append(text) }
                    walk(inner)
                }
            } else if let array = value as? [Any] {
                array.forEach(walk)
            }
        }
        walk(json)
        return found
    }

    static func expectLowerIDs(_ response: TestingHTTPResponse, _ what: String, count: Int,
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
        let ids = try ids(in: response.body)
        #expect(ids.count >= count, "\(what): expected \(count)+ ids in \(response.body.string)", sourceLocation: sourceLocation)
        for id in ids {
            #expect(isLowerUUID(id), "\(what): id \(id) is not a lower-case UUID", sourceLocation: sourceLocation)
        }
    }

    func request(_ hub: HubHarness, _ agency: String, _ method: HTTPMethod, _ path: String,
                 json: String? = nil, xml: Data? = nil) async throws -> TestingHTTPResponse {
        guard let creds = hub.credentials[agency] else { throw TestFailure("no credentials for \(agency)") }
        var headers: HTTPHeaders = ["X-SystemId": creds.systemID, "X-SecretKey": creds.secret]
        var body: ByteBuffer?
        if let json {
            headers.contentType = .json
            body = ByteBuffer(string: json)
        } else if let xml {
            headers.contentType = .xml
            body = ByteBuffer(bytes: Array(xml))
        }
        return try await hub.app.testing().sendRequest(method, "/api/v1/exchange/" + path, headers: headers, body: body)
    }

    @Test("Every id in the hub API's JSON bodies is a lower-case UUID, like X-Message-Id and the receipt")
    func lowerCaseIDs() async throws {
        try await WebhookReceiver.with(failures: 1_000_000) { try await lowerCaseIDs($0) }
    }

    private func lowerCaseIDs(_ receiver: WebhookReceiver) async throws {
        try await H.run(adjust: { $0.hub.webhookMaxAgeSeconds = 1 }) { hub in
            // A dead delivery: H41's webhook never answers 2xx, pushes give up after a second.
            let registered = try await request(hub, H.h41, .POST, "webhooks",
                                               json: #"{"url":"\#(receiver.url.absoluteString)","secret":"0123456789abcdef"}"#)
            #expect(registered.status == .created)
            try Self.expectLowerIDs(registered, "POST webhooks", count: 1)
            try Self.expectLowerIDs(try await request(hub, H.h41, .GET, "webhooks"), "GET webhooks", count: 1)
            let (_, deadSigned) = try hub.document(from: H.g22, to: [H.h41], number: "901")
            _ = try await hub.client(H.g22).submit(deadSigned)
            var letters = try await request(hub, H.g22, .GET, "dead-letters")
            for _ in 0..<100 {
                if try !Self.ids(in: letters.body).isEmpty { break }
                try await Task.sleep(for: .milliseconds(100))
                letters = try await request(hub, H.g22, .GET, "dead-letters")
            }
            try Self.expectLowerIDs(letters, "GET dead-letters", count: 2)
            for hook in try await hub.client(H.h41).webhooks() {
                try await hub.client(H.h41).deleteWebhook(hook.id)
            }

            // Submit (201, then 200 for the repeat), inbox, ack, status, history, receipt.
            let (document, signed) = try hub.document(from: H.g22, to: [H.h41], number: "902")
            let submitted = try await request(hub, H.g22, .POST, "messages", xml: signed)
            #expect(submitted.status == .created)
            try Self.expectLowerIDs(submitted, "POST messages", count: 1)
            let id = try #require(try Self.ids(in: submitted.body).first)
            let receiptURL = (try JSONSerialization.jsonObject(with: Data(buffer: submitted.body)) as? [String: Any])?["receipt_url"]
            #expect(receiptURL as? String == "/api/v1/exchange/messages/\(id)/receipt")
            try Self.expectLowerIDs(try await request(hub, H.g22, .POST, "messages", xml: signed), "POST messages (repeat)", count: 1)
            try Self.expectLowerIDs(try await request(hub, H.h41, .GET, "inbox"), "GET inbox", count: 1)
            let fetched = try await request(hub, H.h41, .GET, "messages/\(id)")
            #expect(fetched.headers.first(name: "X-Message-Id") == id)
            try Self.expectLowerIDs(try await request(hub, H.h41, .POST, "messages/\(id)/ack", json: #"{"outcome":"done"}"#),
                                    "POST ack", count: 1)
            _ = try await hub.client(H.h41).submit(try hub.status(.arrived, for: document, from: H.h41))
            try Self.expectLowerIDs(try await request(hub, H.g22, .GET, "messages/\(id)/history"), "GET history", count: 2)
            try Self.expectLowerIDs(try await request(hub, H.g22, .GET, "messages/\(id)/receipt"), "GET receipt", count: 1)

            // Redeliver the dead delivery (200), then again: it is pending, 409 delivery_not_dead (documented).
            let deliveryID = try #require(try JSONDecoder().decode(DeadLetters.self, from: Data(buffer: letters.body)).items.first)
                .delivery_id
            let redelivered = try await request(hub, H.g22, .POST, "deliveries/\(deliveryID)/redeliver")
            #expect(redelivered.status == .ok)
            try Self.expectLowerIDs(redelivered, "POST redeliver", count: 1)
            let again = try await request(hub, H.g22, .POST, "deliveries/\(deliveryID)/redeliver")
            #expect(again.status == .conflict)
            #expect(again.errorCode == "delivery_not_dead")
        }
    }

    private struct DeadLetters: Decodable {
        struct Item: Decodable { var delivery_id: String }
        var items: [Item]
    }
}
