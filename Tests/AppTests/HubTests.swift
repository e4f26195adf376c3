import EdXML
import ExchangeClient
import Foundation
import GovCore
import PKI
import SQLKit
import Testing
import VaporTesting
import X509
import XMLSecurity

@testable import App

/// The hub end to end over real HTTP with three and more agencies, through `ExchangeClient`.
@Suite("Document-exchange hub", .serialized)
struct HubTests {
    typealias H = HubHarness

    @Test("G22 sends to two provinces; both fetch, ack, answer 01 then 03; the sender's matrix shows it")
    func sendFetchAckStatusMatrix() async throws {
        try await H.run { hub in
            let (document, signed) = try hub.document(from: H.g22, to: [H.h41, H.h37], number: "101")
            let sent = try await hub.client(H.g22).submit(signed)
            #expect(!sent.duplicate)
            #expect(sent.recipients == [H.h41, H.h37])
            #expect(sent.kind == .document)

            for province in [H.h41, H.h37] {
                let client = try hub.client(province)
                let inbox = try await client.inbox(type: .document)
                #expect(inbox.map(\.messageID) == [sent.messageID])
                let fetched = try await client.fetch(sent.messageID)
                #expect(fetched.bytes == signed, "the hub must hand out the exact bytes")
                let ack = try await client.acknowledge(sent.messageID, outcome: .done)
                #expect(ack.state.rawValue == "acknowledged")
                #expect(try await client.inbox().isEmpty)
                for code in [StatusCode.arrived, .accepted] {
                    _ = try await client.submit(try hub.status(code, for: document, from: province))
                }
            }
            let statuses = try await hub.drain(H.g22, kind: .status)
            #expect(statuses.count == 4)
            #expect(Set(statuses.map(\.sender)) == [H.h41, H.h37])

            let history = try await hub.client(H.g22).history(sent.messageID)
            #expect(history.recipients.count == 2)
            for line in history.recipients {
                #expect(line.deliveryState.rawValue == "acknowledged")
                #expect(line.latestStatus == "03")
                #expect(line.statuses.map(\.code) == ["01", "03"])
            }
            // The receipt is signed by the hub's seal over the exact receipt text.
            let receipt = try await hub.client(H.g22).receipt(sent.messageID)
            #expect(receipt.receipt.sha256 == sent.sha256)
            let seal = try hub.app.hubSeal()
            let verdict = await CMSVerifier.verifyDetached(
                signature: Array(Data(base64Encoded: receipt.signatureCMS) ?? Data()), data: Data(receipt.receiptJSON.utf8),
                trustStore: seal.trustStoreForTests())
            #expect(verdict.isValid)
            let chain = try await ChainedLog.evidence.verify(on: hub.app.db)
            #expect(chain.broken == nil)
            #expect(chain.checked == 5)
        }
    }

    @Test("The same document twice returns the original id and is delivered once; other content is refused")
    func duplicateSubmission() async throws {
        try await H.run { hub in
            let (_, signed) = try hub.document(from: H.g22, to: [H.h41], number: "102")
            let first = try await hub.client(H.g22).submit(signed)
            let again = try await hub.client(H.g22).submit(signed)
            #expect(again.duplicate)
            #expect(again.messageID == first.messageID)
            #expect(try await hub.drain(H.h41).count == 1)

            var spec = H.spec(from: H.g22, to: [H.h41], number: "102", subject: "Nội dung khác")
            spec.content = "Khác"
            let other = try hub.sign(.document(EdXMLBuilder.document(spec)), as: H.g22)
            await expectHubError("document_conflict", status: 409) { try await hub.client(H.g22).submit(other) }
        }
    }

    @Test("Revocation: 13 to each receiver, answered with 15 by one and 16 by the other")
    func revocationAnsweredBy15And16() async throws {
        try await H.run { hub in
            let (document, signed) = try hub.document(from: H.g22, to: [H.h41, H.h37], number: "103")
            let sent = try await hub.client(H.g22).submit(signed)
            for province in [H.h41, H.h37] {
                _ = try await hub.drain(province)
                _ = try await hub.client(province).submit(try hub.status(.arrived, for: document, from: province))
            }
            // 15 before any request is refused.
            await expectHubError("status_not_allowed", status: 409) {
                try await hub.client(H.h41).submit(try! hub.status(.revokeAccepted, for: document, from: H.h41))
            }
            for province in [H.h41, H.h37] {
                _ = try await hub.client(H.g22).submit(try hub.status(.revokeRequest, for: document, from: H.g22, receiver: province))
            }
            for province in [H.h41, H.h37] {
                let requests = try await hub.drain(province, kind: .status)
                #expect(requests.map(\.statusCode) == ["13"])
            }
            _ = try await hub.client(H.h41).submit(try hub.status(.revokeAccepted, for: document, from: H.h41))
            _ = try await hub.client(H.h37).submit(try hub.status(.revokeRefused, for: document, from: H.h37))
            let history = try await hub.client(H.g22).history(sent.messageID)
            let latest = Dictionary(uniqueKeysWithValues: history.recipients.map { ($0.agency, $0.latestStatus) })
            #expect(latest[H.h41] == "15")
            #expect(latest[H.h37] == "16")
            // A receiver may not send 13 (the codec already knows who issued the document).
            await expectHubError("edxml_invalid", status: 400) {
                try await hub.client(H.h41).submit(try! hub.status(.revokeRequest, for: document, from: H.h41, receiver: H.g22))
            }
        }
    }

    @Test("A revocation document goes to the receivers and opens a request they answer with 15")
    func revocationDocument() async throws {
        try await H.run { hub in
            let (document, signed) = try hub.document(from: H.g22, to: [H.h41], number: "104")
            let sent = try await hub.client(H.g22).submit(signed)
            _ = try await hub.drain(H.h41)
            let revocation = EdXMLBuilder.revocation(of: document, reason: "Thu hồi để sửa")
            let revoked = try await hub.client(H.g22).submit(try hub.sign(.document(revocation), as: H.g22))
            #expect(revoked.businessType == 1)
            let items = try await hub.drain(H.h41)
            #expect(items.map(\.messageID) == [revoked.messageID])
            _ = try await hub.client(H.h41).submit(try hub.status(.revokeAccepted, for: document, from: H.h41))
            let history = try await hub.client(H.g22).history(sent.messageID)
            #expect(history.recipients.first?.latestStatus == "15")
        }
    }

    @Test("An update that adds a recipient: the new one receives it and may answer statuses")
    func updateAddsRecipient() async throws {
        try await H.run { hub in
            let (document, signed) = try hub.document(from: H.g22, to: [H.h41], number: "105")
            let sent = try await hub.client(H.g22).submit(signed)
            _ = try await hub.drain(H.h41)
            // H56 is not a recipient yet: its status is refused.
            await expectHubError("not_a_recipient", status: 403) {
                try await hub.client(H.h56).submit(try! hub.status(.arrived, for: document, from: H.h56))
            }
            let update = EdXMLBuilder.update(of: document, addReceivers: [Organization(organId: H.h56, organName: "H56")])
            let updated = try await hub.client(H.g22).submit(try hub.sign(.document(update), as: H.g22))
            #expect(Set(updated.recipients) == [H.h41, H.h56])
            #expect(try await hub.drain(H.h56).map(\.messageID) == [updated.messageID])
            #expect(try await hub.drain(H.h41).map(\.messageID) == [updated.messageID])
            _ = try await hub.client(H.h56).submit(try hub.status(.arrived, for: document, from: H.h56))
            _ = try await hub.client(H.h41).submit(try hub.status(.revokeAccepted, for: document, from: H.h41))
            let history = try await hub.client(H.g22).history(sent.messageID)
            let latest = Dictionary(uniqueKeysWithValues: history.recipients.map { ($0.agency, $0.latestStatus) })
            #expect(latest[H.h56] == "01")
            #expect(latest[H.h41] == "15")
        }
    }

    @Test("A replacement is a document of its own that names this sender's replaced document")
    func replacement() async throws {
        try await H.run { hub in
            let (original, signed) = try hub.document(from: H.g22, to: [H.h41], number: "110")
            _ = try await hub.client(H.g22).submit(signed)
            _ = try await hub.drain(H.h41)
            let originalID = try #require(original.header.documentId)
            let replacement = EdXMLBuilder.replacement(H.spec(from: H.g22, to: [H.h41], number: "111"), replacing: [originalID])
            let sent = try await hub.client(H.g22).submit(try hub.sign(.document(replacement), as: H.g22))
            #expect(sent.businessType == 3)
            #expect(try await hub.drain(H.h41).map(\.messageID) == [sent.messageID])
            _ = try await hub.client(H.h41).submit(try hub.status(.arrived, for: replacement, from: H.h41))
            #expect(try await hub.client(H.g22).history(sent.messageID).recipients.first?.latestStatus == "01")
            // Replacing a document the sender never sent is refused.
            let stray = EdXMLBuilder.replacement(H.spec(from: H.g22, to: [H.h41], number: "112"),
                                                 replacing: ["000.00.00.G22,2026/11/23,999/VPCP-TH"])
            await expectHubError("original_not_found", status: 404) {
                try await hub.client(H.g22).submit(try hub.sign(.document(stray), as: H.g22))
            }
        }
    }

    @Test("Long-poll returns as soon as a status arrives")
    func longPoll() async throws {
        try await H.run { hub in
            let (document, signed) = try hub.document(from: H.g22, to: [H.h41], number: "106")
            _ = try await hub.client(H.g22).submit(signed)
            _ = try await hub.drain(H.h41)
            let sender = try hub.client(H.g22)
            async let waited = sender.inbox(type: .status, wait: .seconds(20))
            try await Task.sleep(for: .milliseconds(300))
            _ = try await hub.client(H.h41).submit(try hub.status(.arrived, for: document, from: H.h41))
            let items = try await waited
            #expect(items.map(\.statusCode) == ["01"])
        }
    }

    @Test("Per recipient, messages come in acceptance order")
    func ordering() async throws {
        try await H.run { hub in
            var ids: [UUID] = []
            for number in 200..<210 {
                let (_, signed) = try hub.document(from: H.g22, to: [H.h41], number: String(number))
                ids.append(try await hub.client(H.g22).submit(signed).messageID)
            }
            let items = try await hub.client(H.h41).inbox()
            #expect(items.map(\.messageID) == ids)
            #expect(items.map(\.sequence) == items.map(\.sequence).sorted())
        }
    }

    @Test("A webhook that fails three times and then succeeds gets the message once; the delivery is acknowledged")
    func webhookRetries() async throws {
        try await WebhookReceiver.with(failures: 3) { receiver in
            try await H.run { hub in
                let secret = "s3cret-for-webhook-test"
                _ = try await hub.client(H.h41).registerWebhook(url: receiver.url, secret: secret)
                // Stored sealed: the raw column holds no clear secret, and the push below still signs with it.
                struct Stored: Decodable { var secret: String }
                let stored = try await hub.app.db.sql.select().column("secret").from("exchange_webhooks").all(decoding: Stored.self)
                #expect(stored.count == 1 && stored.allSatisfy { !$0.secret.contains(secret) && SecretBox.isSealed($0.secret) })
                let (_, signed) = try hub.document(from: H.g22, to: [H.h41], number: "107")
                let sent = try await hub.client(H.g22).submit(signed)
                var state = ""
                for _ in 0..<200 {
                    state = try await hub.client(H.g22).history(sent.messageID).recipients.first?.deliveryState.rawValue ?? ""
                    if state == "acknowledged" { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(state == "acknowledged")
                let calls = receiver.calls()
                #expect(calls.count == 4)
                #expect(calls.last?.body == signed)
                if let last = calls.last {
                    #expect(WebhookSignature.verify(body: last.body, secret: secret, timestamp: last.timestamp,
                                                    envelope: last.envelope, header: last.signature))
                    #expect(last.envelope == .init(messageID: sent.messageID.uuidString.lowercased(), kind: "document",
                                                   sequence: last.envelope.sequence))
                }
                #expect(try await hub.client(H.h41).inbox().isEmpty)
            }
        }
    }

    @Test("A webhook that keeps failing ends as a dead letter the sender can redeliver")
    func deadLetter() async throws {
        try await WebhookReceiver.with(failures: 1_000_000) { try await deadLetter($0) }
    }

    private func deadLetter(_ receiver: WebhookReceiver) async throws {
        try await H.run(adjust: { $0.hub.webhookMaxAgeSeconds = 1 }) { hub in
            _ = try await hub.client(H.h41).registerWebhook(url: receiver.url, secret: "0123456789abcdef")
            let (_, signed) = try hub.document(from: H.g22, to: [H.h41], number: "108")
            let sent = try await hub.client(H.g22).submit(signed)
            var letters: [DeadLetter] = []
            for _ in 0..<100 {
                letters = try await hub.client(H.g22).deadLetters()
                if !letters.isEmpty { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let trace = try await hub.client(H.g22).history(sent.messageID).recipients.first
            #expect(letters.count == 1, "delivery: \(String(describing: trace))")
            #expect(try await hub.client(H.h37).deadLetters().isEmpty, "another agency sees none of them")
            guard let letter = letters.first else { return }
            await expectHubError("delivery_not_found", status: 404) {
                try await hub.client(H.h37).redeliver(deliveryID: letter.deliveryID)
            }
            let again = try await hub.client(H.g22).redeliver(deliveryID: letter.deliveryID)
            #expect(again.state.rawValue == "pending")
        }
    }
}

/// The bad inputs of the hub issue, each with its own code and never a 5xx.
@Suite("Hub refusals", .serialized)
struct HubRefusalTests {
    typealias H = HubHarness

    @Test("A spoofed From is refused with 403 sender_mismatch")
    func spoofedSender() async throws {
        try await H.run { hub in
            let (_, signed) = try hub.document(from: H.g22, to: [H.h41], number: "301")
            await expectHubError("sender_mismatch", status: 403) { try await hub.client(H.h37).submit(signed) }
        }
    }

    @Test("A missing, a broken and a foreign signature are refused")
    func badSignatures() async throws {
        try await H.run { hub in
            let unsigned = try EdXMLWriter.write(.document(EdXMLBuilder.document(H.spec(from: H.g22, to: [H.h41], number: "302"))))
            await expectHubError("signature_missing", status: 400) { try await hub.client(H.g22).submit(unsigned) }
            let (_, signed) = try hub.document(from: H.g22, to: [H.h41], number: "303")
            var tampered = String(decoding: signed, as: UTF8.self)
            tampered = tampered.replacingOccurrences(of: "Nội dung thử nghiệm.", with: "Nội dung đã bị sửa.")
            await expectHubError("signature_invalid", status: 400) { try await hub.client(H.g22).submit(Data(tampered.utf8)) }
            // Signed with H37's certificate but From says G22.
            let foreign = try hub.sign(.document(EdXMLBuilder.document(H.spec(from: H.g22, to: [H.h41], number: "304"))), as: H.h37)
            await expectHubError("certificate_agency_mismatch", status: 400) { try await hub.client(H.g22).submit(foreign) }
        }
    }

    @Test("Unknown and locked recipients refuse the whole message, naming them")
    func badRecipients() async throws {
        try await H.run { hub in
            let (_, unknown) = try hub.document(from: H.g22, to: [H.h41, "000.00.00.X99"], number: "305")
            await expectHubError("recipient_unknown", status: 422) { try await hub.client(H.g22).submit(unknown) }
            let (_, locked) = try hub.document(from: H.g22, to: [H.h41, H.h30Locked], number: "306")
            await expectHubError("recipient_locked", status: 422) { try await hub.client(H.g22).submit(locked) }
            #expect(try await hub.client(H.h41).inbox().isEmpty, "nothing was delivered")
        }
    }

    @Test("A status for a document the sender never received, and an illegal transition")
    func badStatuses() async throws {
        try await H.run { hub in
            let (document, signed) = try hub.document(from: H.g22, to: [H.h41], number: "307")
            _ = try await hub.client(H.g22).submit(signed)
            await expectHubError("not_a_recipient", status: 403) {
                try await hub.client(H.h37).submit(try! hub.status(.arrived, for: document, from: H.h37))
            }
            await expectHubError("status_not_allowed", status: 409) {
                try await hub.client(H.h41).submit(try! hub.status(.done, for: document, from: H.h41))
            }
            let (neverSent, _) = try hub.document(from: H.g22, to: [H.h41], number: "399")
            await expectHubError("original_not_found", status: 404) {
                try await hub.client(H.h41).submit(try! hub.status(.arrived, for: neverSent, from: H.h41))
            }
        }
    }

    @Test("Malformed edXML, an empty body, a wrong media type and an oversized body")
    func malformedAndOversized() async throws {
        try await H.run(adjust: { $0.hub.maxMessageBytes = 64 * 1024 }) { hub in
            await expectHubError("xml_malformed", status: 400) {
                try await hub.client(H.g22).submit(Data("<edXML:edXMLEnvelope><broken".utf8))
            }
            await expectHubError("edxml_empty", status: 400) { try await hub.client(H.g22).submit(Data()) }
            let big = Data(repeating: 0x41, count: 100 * 1024)
            await expectHubError("message_too_large", status: 413) { try await hub.client(H.g22).submit(big) }
            let creds = hub.credentials[H.g22]!
            let response = try await hub.app.testing().sendRequest(
                .POST, "/api/v1/exchange/messages",
                headers: ["X-SystemId": creds.systemID, "X-SecretKey": creds.secret, "Content-Type": "application/json"],
                body: ByteBuffer(string: "{}"))
            #expect(response.status.code == 415)
            #expect(response.errorCode == "unsupported_media_type")
        }
    }

    @Test("Wrong credentials get 401; another agency's message id gets 404 on fetch, ack, history and receipt")
    func credentialsAndForeignIDs() async throws {
        try await H.run { hub in
            let wrong = ExchangeClient(hub: hub.hubURL, credentials: HubCredentials(systemID: "qlvb-00000000g22", secret: "wrong"))
            await expectHubError("system_credentials_invalid", status: 401) { try await wrong.inbox() }
            let (_, signed) = try hub.document(from: H.g22, to: [H.h41], number: "308")
            let sent = try await hub.client(H.g22).submit(signed)
            let outsider = try hub.client(H.h37)
            await expectHubError("message_not_found", status: 404) { try await outsider.fetch(sent.messageID) }
            await expectHubError("message_not_found", status: 404) { try await outsider.acknowledge(sent.messageID, outcome: .done) }
            await expectHubError("message_not_found", status: 404) { try await outsider.history(sent.messageID) }
            await expectHubError("message_not_found", status: 404) { try await outsider.receipt(sent.messageID) }
            // A recipient may not read the sender's matrix either, and an unknown id looks the same.
            await expectHubError("message_not_found", status: 404) { try await hub.client(H.h41).history(sent.messageID) }
            await expectHubError("message_not_found", status: 404) { try await outsider.fetch(UUID()) }
        }
    }

    @Test("A bad ack body and a bad webhook are refused with their own codes")
    func badAckAndWebhook() async throws {
        try await H.run { hub in
            let (_, signed) = try hub.document(from: H.g22, to: [H.h41], number: "309")
            let sent = try await hub.client(H.g22).submit(signed)
            await expectHubError("ack_invalid", status: 400) {
                try await hub.client(H.h41).acknowledge(sent.messageID, outcome: .failed(reason: "  "))
            }
            await expectHubError("webhook_invalid", status: 400) {
                try await hub.client(H.h41).registerWebhook(url: URL(string: "ftp://example.org/x")!, secret: "0123456789abcdef")
            }
            await expectHubError("webhook_invalid", status: 400) {
                try await hub.client(H.h41).registerWebhook(url: URL(string: "https://example.org/x")!, secret: "short")
            }
        }
    }

    @Test("An ack's reason is at most 2000 characters whatever the outcome (found by the production-settings API fuzzing)")
    func ackReasonLimitHoldsForDone() async throws {
        try await H.run { hub in
            let (_, signed) = try hub.document(from: H.g22, to: [H.h41], number: "319")
            let sent = try await hub.client(H.g22).submit(signed)
            let creds = try #require(hub.credentials[H.h41])
            let path = "/api/v1/exchange/messages/\(sent.messageID.uuidString.lowercased())/ack"
            let headers: HTTPHeaders = ["X-SystemId": creds.systemID, "X-SecretKey": creds.secret,
                                        "Content-Type": "application/json", "Accept": "application/json"]
            let long = #"{"outcome":"done","reason":"\#(String(repeating: "x", count: 2001))"}"#
            let refused = try await hub.app.testing().sendRequest(.POST, path, headers: headers, body: ByteBuffer(string: long))
            #expect(refused.status == .badRequest)
            #expect(refused.body.string.contains("ack_invalid"))
            // At the limit, and with the message still unacknowledged after the refusal, it is taken.
            let atLimit = #"{"outcome":"done","reason":"\#(String(repeating: "x", count: 2000))"}"#
            let taken = try await hub.app.testing().sendRequest(.POST, path, headers: headers, body: ByteBuffer(string: atLimit))
            #expect(taken.status == .ok)
        }
    }

    @Test("Retention purges acknowledged payloads (410 afterwards) and keeps the evidence chain")
    func retention() async throws {
        try await H.run(adjust: { $0.hub.payloadRetentionDays = 0 }) { hub in
            let (_, signed) = try hub.document(from: H.g22, to: [H.h41], number: "310")
            let sent = try await hub.client(H.g22).submit(signed)
            _ = try await hub.drain(H.h41)
            let purged = try await HubService(app: hub.app).purge()
            #expect(purged.payloads == 1)
            await expectHubError("message_purged", status: 410) { try await hub.client(H.h41).fetch(sent.messageID) }
            let history = try await hub.client(H.g22).history(sent.messageID)
            #expect(history.recipients.first?.deliveryState.rawValue == "acknowledged")
            #expect(try await ChainedLog.evidence.verify(on: hub.app.db).broken == nil)
        }
    }
}

extension HubSeal {
    /// The seal's own root as the only trust anchor.
    func trustStoreForTests() -> TrustStore {
        var store = TrustStore()
        if let root = chain.last { store.add(root, demo: true, source: "test") }
        return store
    }
}
