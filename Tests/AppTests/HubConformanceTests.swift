import EdXML
import ExchangeClient
import Foundation
import GovCore
import SQLKit
import Testing
import VaporTesting
import XMLSecurity

@testable import App

/// The hub routes what the national hub routes (issue 14, item 8): real VPCP SDK messages, with
/// their deviations kept as warnings on the message and shown on its trace page; only what
/// cannot be routed is refused. In its own file so that it merges apart from HubTests.swift.
extension HubTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/edxml")

    /// A fixture as the SDK wrote it, addressed to the harness's agencies (H14 → H37, G17 → H56),
    /// its dummy signature replaced by G22's real one over the SDK's own bytes.
    static func sdkMessage(_ name: String, _ hub: HubHarness, edit: (inout String) -> Void = { _ in }) throws -> Data {
        var text = String(decoding: try Data(contentsOf: fixtures.appendingPathComponent(name)), as: UTF8.self)
        text = text.replacingOccurrences(of: "000.00.00.H14", with: HubHarness.h37)
            .replacingOccurrences(of: "000.00.00.G17", with: HubHarness.h56)
        if let start = text.range(of: "<Signature>"), let end = text.range(of: "</Signature>") {
            text.removeSubrange(start.lowerBound..<end.upperBound)
        }
        edit(&text)
        let issued = try #require(hub.certificates[HubHarness.g22])
        return try XMLSigner.signEdXML(Data(text.utf8), key: issued.key,
                                       certificateChainDER: [issued.certificate.derBytes, hub.demo.root.certificate.derBytes])
    }

    static func storedWarnings(_ hub: HubHarness, _ id: UUID) async throws -> [String] {
        let message = try #require(try await HubService(app: hub.app).message(id: id))
        return message.warningIssues.map(\.code)
    }

    @Test("An SDK revocation that names its target only in MessageHeader/DocumentId reaches the original recipients")
    func sdkRevocationWithoutBusinessDocumentId() async throws {
        try await HubHarness.run { hub in
            let original = try await hub.client(HubHarness.g22).submit(try Self.sdkMessage("edoc_new_0.edxml", hub))
            let recipients = [HubHarness.h41, HubHarness.h37, HubHarness.h56]
            #expect(original.recipients == recipients)
            for agency in recipients { _ = try await hub.drain(agency) }

            let revoked = try await hub.client(HubHarness.g22).submit(try Self.sdkMessage("edoc_revocation_1.edxml", hub))
            #expect(revoked.businessType == 1)
            #expect(revoked.recipients == recipients)
            for agency in recipients {
                #expect(try await hub.drain(agency).map(\.messageID) == [revoked.messageID], "\(agency)")
            }
            // It belongs to the original: each recipient now has a revocation to answer.
            let stored = try #require(try await HubService(app: hub.app).message(id: revoked.messageID))
            #expect(stored.rootId == original.messageID)
            let pending = try await hub.app.db.sql.select().column("pending_request").from("exchange_parties")
                .where("root_id", .equal, original.messageID).all().map { try $0.decode(column: "pending_request", as: String?.self) }
            #expect(pending == ["revocation", "revocation", "revocation"])
            #expect(try await Self.storedWarnings(hub, revoked.messageID).contains("target_document_id_missing"))

            // The SDK's answer closes it as for any revocation.
            guard case .document(let document) = try EdXMLReader.read(try Self.sdkMessage("edoc_new_0.edxml", hub)).message else {
                Issue.record("not a document"); return
            }
            _ = try await hub.client(HubHarness.h41).submit(try hub.status(.revokeAccepted, for: document, from: HubHarness.h41))
            let history = try await hub.client(HubHarness.g22).history(original.messageID)
            #expect(history.recipients.first { $0.agency == HubHarness.h41 }?.latestStatus == "15")
        }
    }

    @Test("A DocumentId dated 30 February is routed as an opaque key; its warning is stored and shown on the trace page")
    func thirtiethOfFebruaryIsAWarning() async throws {
        try await HubHarness.run { hub in
            let bytes = try Self.sdkMessage("edoc_new_30feb.edxml", hub)
            let sent = try await hub.client(HubHarness.g22).submit(bytes)
            #expect(sent.documentID == "000.00.00.G22,2014/02/30,7806/VPCP-TTĐT")
            #expect(try await Self.storedWarnings(hub, sent.messageID).contains("document_id_date_invalid"))
            #expect(try await hub.drain(HubHarness.h41).map(\.messageID) == [sent.messageID])

            // A status answering it finds it by the same key.
            guard case .document(let document) = try EdXMLReader.read(bytes).message else { Issue.record("not a document"); return }
            let answer = try await hub.client(HubHarness.h41).submit(try hub.status(.arrived, for: document, from: HubHarness.h41))
            #expect(answer.kind == .status)
            #expect(try await hub.drain(HubHarness.g22, kind: .status).map(\.messageID) == [answer.messageID])

            let admin = TestBrowser(hub.app)
            try await admin.login("admin")
            let trace = try await admin.get("/admin/hub/messages/\(sent.messageID.uuidString.lowercased())")
            #expect(trace.status == .ok)
            #expect(trace.text.contains("trace-warning-table"))
            #expect(trace.text.contains("document_id_date_invalid"))
            #expect(trace.text.contains("Ngày trong mã văn bản không có thật"), "the Vietnamese label")
            #expect(trace.text.contains("MessageHeader/DocumentId"))
            let english = try await admin.get("/admin/hub/messages/\(sent.messageID.uuidString.lowercased())?lang=en")
            #expect(english.text.contains("The date in the document id is not a real date"))

            // A message the codec has nothing to say about shows no warning table.
            let (_, clean) = try hub.document(from: HubHarness.g22, to: [HubHarness.h41], number: "951")
            let plain = try await hub.client(HubHarness.g22).submit(clean)
            #expect(try await Self.storedWarnings(hub, plain.messageID) == [])
            let plainTrace = try await admin.get("/admin/hub/messages/\(plain.messageID.uuidString.lowercased())")
            #expect(plainTrace.text.contains("trace-no-warnings"))
            #expect(!plainTrace.text.contains("trace-warning-table"))
        }
    }

    @Test("A document without a routable recipient is still refused, and nothing is stored")
    func noRoutableRecipientIsRefused() async throws {
        try await HubHarness.run { hub in
            let bytes = try Self.sdkMessage("edoc_new_30feb.edxml", hub) { text in
                while let start = text.range(of: "<edXML:To>"), let end = text.range(of: "</edXML:To>") {
                    text.removeSubrange(start.lowerBound..<end.upperBound)
                }
            }
            await expectHubError("edxml_invalid", status: 400) { try await hub.client(HubHarness.g22).submit(bytes) }
            let badCode = try Self.sdkMessage("edoc_new_30feb.edxml", hub) { text in
                text = text.replacingOccurrences(of: "<edXML:OrganId>\(HubHarness.h41)</edXML:OrganId>",
                                                 with: "<edXML:OrganId>H41 và các tỉnh</edXML:OrganId>")
            }
            await expectHubError("edxml_invalid", status: 400) { try await hub.client(HubHarness.g22).submit(badCode) }
            let count = try await hub.app.db.sql.raw("SELECT COUNT(*) AS n FROM exchange_messages").first()?
                .decode(column: "n", as: Int.self)
            #expect(count == 0)
        }
    }
}
