import ExchangeClient
import Foundation
import Testing

/// Samples shaped exactly like the contract (docs/exchange-api-contract.md).
@Suite struct ModelDecodingTests {
    static let decoder = ExchangeClient.makeJSONDecoder()
    static let t0 = Date(timeIntervalSince1970: 1_795_421_700) // 2026-11-23T08:15:00Z

    static func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try decoder.decode(T.self, from: Data(json.utf8))
    }

    @Test func submitResultDocument() throws {
        let r = try Self.decode(SubmitResult.self, """
        {"message_id": "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f", "duplicate": false, "kind": "document",
         "business_type": 0, "document_id": "000.00.00.G22,2026/11/23,12/QĐ-UBND",
         "recipients": ["000.00.00.H26", "000.00.00.H27"],
         "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "size": 10240,
         "accepted_at": "2026-11-23T08:15:00Z",
         "receipt_url": "/api/v1/exchange/messages/6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f/receipt"}
        """)
        #expect(r.messageID == UUID(uuidString: "6F1C2D3E-4A5B-4C6D-8E7F-0A1B2C3D4E5F"))
        #expect(!r.duplicate)
        #expect(r.kind == .document)
        #expect(r.businessType == 0)
        #expect(r.documentID == "000.00.00.G22,2026/11/23,12/QĐ-UBND")
        #expect(r.statusCode == nil)
        #expect(r.recipients == ["000.00.00.H26", "000.00.00.H27"])
        #expect(r.size == 10240)
        #expect(r.acceptedAt == Self.t0)
        #expect(r.receiptURL.hasSuffix("/receipt"))
    }

    @Test func submitResultStatusDuplicate() throws {
        let r = try Self.decode(SubmitResult.self, """
        {"message_id": "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f", "duplicate": true, "kind": "status",
         "business_type": 0, "document_id": "000.00.00.G22,2026/11/23,12/QĐ-UBND", "status_code": "03",
         "recipients": ["000.00.00.G22"], "sha256": "00", "size": 512,
         "accepted_at": "2026-11-23T08:15:00.250Z", "receipt_url": "/r"}
        """)
        #expect(r.duplicate)
        #expect(r.kind == .status)
        #expect(r.statusCode == "03")
        #expect(abs(r.acceptedAt.timeIntervalSince(Self.t0) - 0.25) < 0.001)
    }

    @Test func inboxWithNulls() throws {
        let list = try Self.decode(InboxEnvelope.self, """
        {"items": [
          {"message_id": "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f", "kind": "document", "business_type": 0,
           "sender": "000.00.00.G22", "document_id": "000.00.00.G22,2026/11/23,12/QĐ-UBND", "status_code": null,
           "subject": "V/v triển khai", "size": 10240, "accepted_at": "2026-11-23T08:15:00Z", "sequence": 17,
           "attempts": 0},
          {"message_id": "7f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f", "kind": "status", "business_type": 0,
           "sender": "000.00.00.H26", "document_id": null, "status_code": "01",
           "subject": null, "size": 300, "accepted_at": "2026-11-23T15:15:00+07:00", "sequence": 18,
           "attempts": 2}
        ]}
        """)
        #expect(list.items.count == 2)
        #expect(list.items[0].statusCode == nil)
        #expect(list.items[0].subject == "V/v triển khai")
        #expect(list.items[0].sequence == 17)
        #expect(list.items[1].kind == .status)
        #expect(list.items[1].documentID == nil)
        #expect(list.items[1].subject == nil)
        #expect(list.items[1].acceptedAt == Self.t0.addingTimeInterval(0))
        #expect(list.items[1].attempts == 2)
    }

    @Test func ackResult() throws {
        let r = try Self.decode(AckResult.self, """
        {"message_id": "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f", "state": "failed", "acknowledged_at": "2026-11-23T08:15:00Z"}
        """)
        #expect(r.state == .failed)
        #expect(r.acknowledgedAt == Self.t0)
        let other = try Self.decode(AckResult.self, """
        {"message_id": "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f", "state": "archived", "acknowledged_at": "2026-11-23T08:15:00Z"}
        """)
        #expect(other.state.rawValue == "archived") // a later hub's state still decodes
    }

    @Test func deliveryHistoryWithNulls() throws {
        let h = try Self.decode(DeliveryHistory.self, """
        {"message_id": "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f", "document_id": "000.00.00.G22,2026/11/23,12/QĐ-UBND",
         "accepted_at": "2026-11-23T08:15:00Z", "business_type": 0,
         "recipients": [
           {"agency": "000.00.00.H26", "delivery_state": "acknowledged", "delivered_at": "2026-11-23T08:16:00Z",
            "acknowledged_at": "2026-11-23T08:17:00Z", "attempts": 1, "last_error": null, "latest_status": "03",
            "latest_status_at": "2026-11-23T09:00:00Z",
            "statuses": [{"code": "01", "at": "2026-11-23T08:20:00Z", "description": "Đã nhận",
                          "message_id": "8f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f"},
                         {"code": "03", "at": "2026-11-23T09:00:00Z", "description": null,
                          "message_id": "9f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f"}]},
           {"agency": "000.00.00.H27", "delivery_state": "pending", "delivered_at": null, "acknowledged_at": null,
            "attempts": 0, "last_error": "connection refused", "latest_status": null, "latest_status_at": null,
            "statuses": []}
         ]}
        """)
        #expect(h.recipients.count == 2)
        let first = h.recipients[0]
        #expect(first.deliveryState == .acknowledged)
        #expect(first.deliveredAt == Self.t0.addingTimeInterval(60))
        #expect(first.latestStatus == "03")
        #expect(first.statuses.map(\.code) == ["01", "03"])
        #expect(first.statuses[0].description == "Đã nhận")
        #expect(first.statuses[1].description == nil)
        let second = h.recipients[1]
        #expect(second.deliveryState == .pending)
        #expect(second.deliveredAt == nil)
        #expect(second.acknowledgedAt == nil)
        #expect(second.latestStatus == nil)
        #expect(second.latestStatusAt == nil)
        #expect(second.lastError == "connection refused")
        #expect(second.statuses.isEmpty)
    }

    @Test func receipt() throws {
        let r = try Self.decode(Receipt.self, #"""
        {"receipt": {"message_id": "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f", "sha256": "ab", "sender": "000.00.00.G22",
                     "recipients": ["000.00.00.H26"], "accepted_at": "2026-11-23T08:15:00Z", "evidence_seq": 42},
         "receipt_json": "{\"message_id\":\"6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f\"}",
         "signature_cms": "MIIBAA==", "certificate_pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"}
        """#)
        #expect(r.receipt.evidenceSeq == 42)
        #expect(r.receipt.recipients == ["000.00.00.H26"])
        #expect(r.receiptJSON.hasPrefix("{\"message_id\""))
        #expect(r.signedBytes == Data(r.receiptJSON.utf8))
        #expect(r.signatureDER == Data([0x30, 0x82, 0x01, 0x00]))
        #expect(r.certificatePEM.contains("BEGIN CERTIFICATE"))
    }

    @Test func webhooks() throws {
        let w = try Self.decode(Webhook.self, """
        {"id": "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f", "url": "https://agency.example.vn/hook", "created_at": "2026-11-23T08:15:00Z"}
        """)
        #expect(w.url == "https://agency.example.vn/hook")
        #expect(w.createdAt == Self.t0)
        let list = try Self.decode(WebhookEnvelope.self, #"{"items": []}"#)
        #expect(list.items.isEmpty)
    }

    @Test func deadLettersAndRedeliver() throws {
        let list = try Self.decode(DeadLetterEnvelope.self, """
        {"items": [{"delivery_id": "1f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f", "message_id": "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f",
                    "recipient": "000.00.00.H26", "attempts": 12, "last_error": null, "dead_at": "2026-11-23T08:15:00Z"}]}
        """)
        #expect(list.items.first?.attempts == 12)
        #expect(list.items.first?.lastError == nil)
        #expect(list.items.first?.deadAt == Self.t0)
        let r = try Self.decode(RedeliverResult.self, #"{"delivery_id": "1f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f", "state": "pending"}"#)
        #expect(r.state == .pending)
    }

    @Test func identity() throws {
        let i = try Self.decode(Identity.self, """
        {"system_id": "qlvb-ubnd", "name": "QLVB UBND tỉnh", "agency_code": "000.00.00.G22", "agency_name": "UBND tỉnh"}
        """)
        #expect(i.systemID == "qlvb-ubnd")
        #expect(i.agencyCode == "000.00.00.G22")
    }

    @Test func missingRequiredFieldFails() {
        #expect(throws: DecodingError.self) {
            try Self.decode(InboxItem.self, #"{"message_id": "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f", "kind": "document"}"#)
        }
        #expect(throws: DecodingError.self) {
            try Self.decode(Webhook.self, #"{"id": "not-a-uuid", "url": "x", "created_at": "2026-11-23T08:15:00Z"}"#)
        }
        #expect(throws: DecodingError.self) {
            try Self.decode(Webhook.self, #"{"id": "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f", "url": "x", "created_at": "23/11/2026"}"#)
        }
    }

    @Test func encodesLikeTheHub() throws {
        let item = DeadLetter(deliveryID: UUID(), messageID: UUID(), recipient: "000.00.00.H26", attempts: 1,
                              lastError: nil, deadAt: Self.t0)
        let text = String(decoding: try ExchangeClient.makeJSONEncoder().encode(item), as: UTF8.self)
        #expect(text.contains(#""dead_at":"2026-11-23T08:15:00Z""#))
        #expect(try Self.decoder.decode(DeadLetter.self, from: Data(text.utf8)) == item)
    }

    struct InboxEnvelope: Decodable { var items: [InboxItem] }
    struct WebhookEnvelope: Decodable { var items: [Webhook] }
    struct DeadLetterEnvelope: Decodable { var items: [DeadLetter] }
}
