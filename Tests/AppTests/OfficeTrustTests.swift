import Crypto
import EdXML
import Fluent
import Foundation
import GovCore
import PKI
import SQLKit
import Testing
import VaporTesting
import XMLSecurity

@testable import App

/// The office trusts what it verifies (issue 14, item 5): revocations, updates and statuses need
/// the sender's valid seal like new documents do; a refusal is kept for audit and answered, and
/// nothing is half-applied. In its own file so that it merges apart from OfficeTests.swift.
extension OfficeTests {
    /// `message` signed by a certificate of a CA this office does not trust, and the real verdict on it.
    static func badlySigned(_ app: Application, _ message: EdXMLMessage, as agency: String) async throws -> (Data, SignatureReport) {
        let stranger = try DemoPKI()
        let issued = try stranger.issueAgency(code: agency, name: "Cơ quan \(agency)")
        let signed = try XMLSigner.signEdXML(try EdXMLWriter.write(message), key: issued.key,
                                             certificateChainDER: [issued.certificate.derBytes, stranger.root.certificate.derBytes])
        let report = try await app.signatureCheck.check(signed, sender: agency)
        #expect(!report.isAcceptable)
        return (signed, report)
    }

    /// `message` unsigned, and the real verdict on it (refused: production's signature policy).
    static func unsigned(_ app: Application, _ message: EdXMLMessage, as agency: String) async throws -> (Data, SignatureReport) {
        let bytes = try EdXMLWriter.write(message)
        let report = try await app.signatureCheck.check(bytes, sender: agency)
        #expect(!report.isAcceptable)
        return (bytes, report)
    }

    static func refusedRows(_ app: Application) async throws -> [OfficeRefusedMessage] {
        try await OfficeRefusedMessage.query(on: app.db).all()
    }

    static func auditActions(_ app: Application) async throws -> [String] {
        try await AuditRecord.query(on: app.db).all().map(\.action)
    }

    @Test("an unsigned or badly signed revocation or update is not applied, is kept for audit and answered 16; a signed one applies")
    func unverifiedRevocationAndUpdateAreRefused() async throws {
        try await withTestApp { app in
            let doc = try await Self.arrive(app, number: "1101", subject: "Văn bản gốc")
            let id = try doc.requireID()
            guard case .document(let original) = try EdXMLReader.read(try #require(doc.edxml)).message else {
                Issue.record("not a document"); return
            }
            let revocation = EdXMLMessage.document(EdXMLBuilder.revocation(of: original, reason: "Thu hồi giả mạo"))
            let update = EdXMLMessage.document(EdXMLBuilder.update(of: original) { $0.header.subject = "Trích yếu bị sửa trộm" })

            var hubIDs: [UUID] = []
            for (message, sign) in [(revocation, Self.unsigned), (update, Self.badlySigned)] {
                let (bytes, report) = try await sign(app, message, Self.g22)
                let hubID = UUID()
                hubIDs.append(hubID)
                let outcome = try await app.office.intake(hubMessageID: hubID, bytes: bytes, agency: Self.h41, signature: report)
                guard case .refused(let reason) = outcome else { Issue.record("an unverified change must be refused"); return }
                #expect(reason.contains(try #require(report.code)), "the sender learns why: \(reason)")
                // Fetched again (a retry): the same answer, nothing more.
                #expect(try await app.office.intake(hubMessageID: hubID, bytes: bytes, agency: Self.h41, signature: report) == outcome)
                let kept = try #require(try await Self.refusedRows(app).first { $0.hubMessageID == hubID.uuidString.lowercased() })
                #expect(kept.edxml == bytes, "kept for audit as it came")
                #expect(kept.kind == "document")
                #expect(kept.senderCode == Self.g22)
                #expect(kept.documentID == original.header.documentId)
                #expect(kept.reason == reason)
            }
            let unchanged = try #require(try await OfficeDocument.find(id, on: app.db))
            #expect(unchanged.revocation == nil, "the revocation was not applied")
            #expect(unchanged.subject == "Văn bản gốc", "the update was not applied")
            #expect(unchanged.state == "arrived")
            #expect(try await Self.refusedRows(app).count == 2)
            #expect(try await Self.queued(app, unchanged) == ["01", "16", "16"], "each refusal answered once, with 16")
            let refusal = try await app.office.outbox(of: unchanged)[1]
            guard case .status(let answer) = try EdXMLReader.read(refusal.payload).message else { Issue.record("not a status"); return }
            #expect(answer.responseFor.documentId == original.header.documentId)
            #expect(answer.description?.contains("signature_missing") == true)
            let history = try await app.office.history(of: unchanged).map(\.action)
            #expect(history.contains("incoming.revocation_refused"))
            #expect(history.contains("incoming.update_refused"))
            #expect(try await Self.auditActions(app).filter { $0 == "office.intake_refused" }.count == 2)

            // Not checked at all is not verified either.
            let notChecked = try await app.office.intake(hubMessageID: UUID(), bytes: try EdXMLWriter.write(revocation),
                                                         agency: Self.h41, signature: nil)
            guard case .refused = notChecked else { Issue.record("an unchecked revocation must be refused"); return }
            #expect(try await OfficeDocument.find(id, on: app.db)?.revocation == nil)

            // Correctly signed (the verdict a valid seal gets), both still work.
            #expect(try await app.office.intake(hubMessageID: UUID(), bytes: try EdXMLWriter.write(update), agency: Self.h41,
                                                signature: Self.valid) == .done)
            #expect(try await OfficeDocument.find(id, on: app.db)?.subject == "Trích yếu bị sửa trộm")
            #expect(try await app.office.intake(hubMessageID: UUID(), bytes: try EdXMLWriter.write(revocation), agency: Self.h41,
                                                signature: Self.valid) == .done)
            #expect(try await OfficeDocument.find(id, on: app.db)?.revocation == "requested")
        }
    }

    @Test("an unsigned or badly signed status is not applied, is kept for audit and acknowledged as failed; a signed one applies")
    func unverifiedStatusIsRefused() async throws {
        try await withTestApp { app in
            // G22 sends a document to H41; H41's statuses come back to G22's office.
            let g22Clerk = Self.actor("g22.vanthu", [.clerk], agency: Self.g22, unit: "HC")
            let draft = OfficeService.Draft(typeCode: "QĐ", subject: "Quyết định đi thử", content: "Nội dung",
                                            signerName: "Lê Văn Lãnh Đạo", signerPosition: "Phó Chủ nhiệm", competence: "KT.",
                                            recipients: [Self.h41], places: "Như trên", urgency: 0, secret: false, files: [])
            let doc = try await app.office.createDraft(draft, by: Self.actor("g22.chuyenvien", [.specialist], agency: Self.g22),
                                                       directory: AgencyDirectory(db: app.db))
            let id = try doc.requireID()
            try await app.office.approve(id, by: Self.actor("g22.lanhdao", [.leader], agency: Self.g22))
            _ = try await app.office.assignNumber(id, agencyAbbreviation: "VPCP", unitAbbreviation: nil, by: g22Clerk)
            try await app.office.send(id, by: g22Clerk)
            let sent = try #require(try await OfficeDocument.find(id, on: app.db))
            guard case .document(let issued) = try EdXMLReader.read(try #require(sent.edxml)).message else {
                Issue.record("not a document"); return
            }
            let accepted = EdXMLMessage.status(EdXMLBuilder.status(.accepted, for: issued, from: Organization(organId: Self.h41)))
            let request = EdXMLMessage.status(EdXMLBuilder.status(.revokeAccepted, for: issued, from: Organization(organId: Self.h41)))

            for (message, sign) in [(accepted, Self.badlySigned), (request, Self.unsigned)] {
                let (bytes, report) = try await sign(app, message, Self.h41)
                let hubID = UUID()
                let outcome = try await app.office.intake(hubMessageID: hubID, bytes: bytes, agency: Self.g22, signature: report)
                guard case .refused(let reason) = outcome else { Issue.record("an unverified status must be refused"); return }
                #expect(reason.contains(try #require(report.code)))
                let kept = try #require(try await Self.refusedRows(app).first { $0.hubMessageID == hubID.uuidString.lowercased() })
                #expect(kept.kind == "status")
                #expect(kept.edxml == bytes)
                #expect(kept.senderCode == Self.h41)
                #expect(kept.documentID == issued.header.documentId)
            }
            #expect(try await Self.refusedRows(app).compactMap(\.statusCode).sorted() == ["03", "15"])
            #expect(try await app.office.statuses(of: sent).isEmpty, "no status was applied")
            #expect(try await OfficeDocument.find(id, on: app.db)?.state == "sent")
            #expect(try await Self.auditActions(app).filter { $0 == "office.intake_refused" }.count == 2)
            #expect(try await Self.queued(app, sent) == ["document"], "a refused status is not answered with another status")

            // Correctly signed, it is applied.
            #expect(try await app.office.intake(hubMessageID: UUID(), bytes: try EdXMLWriter.write(accepted), agency: Self.g22,
                                                signature: Self.valid) == .done)
            #expect(try await app.office.statuses(of: sent).map(\.code) == ["03"])
        }
    }

    @Test("a revocation as the VPCP SDK sends it (no Bussiness/DocumentId) revokes the document its header names")
    func sdkStyleRevocationTarget() async throws {
        try await withTestApp { app in
            let doc = try await Self.arrive(app, number: "1103")
            guard case .document(let original) = try EdXMLReader.read(try #require(doc.edxml)).message else {
                Issue.record("not a document"); return
            }
            var revocation = EdXMLBuilder.revocation(of: original, reason: "Thu hồi")
            revocation.business?.documentId = nil
            #expect(try await app.office.intake(hubMessageID: UUID(), bytes: try EdXMLWriter.write(.document(revocation)),
                                                agency: Self.h41, signature: Self.valid) == .done)
            #expect(try await OfficeDocument.find(try doc.requireID(), on: app.db)?.revocation == "requested")
        }
    }

    @Test("the worker verifies a status the hub relays: one altered on the way is acknowledged as failed with the reason, not applied")
    func workerRefusesAnAlteredStatusAndAcknowledgesFailed() async throws {
        try await HubHarness.run { hub in
            let (document, signed) = try hub.document(from: HubHarness.g22, to: [HubHarness.h41], number: "960")
            _ = try await hub.client(HubHarness.g22).submit(signed)
            _ = try await hub.drain(HubHarness.h41)
            let arrived = try await hub.client(HubHarness.h41).submit(try hub.status(.arrived, for: document, from: HubHarness.h41))
            // A relay (a compromised hub, or plain HTTP on the way) turns the arrival into a refusal;
            // its own checksum is made to match, so only the sender's seal can tell.
            let original = try #require(try await HubService(app: hub.app).payload(of: arrived.messageID))
            let altered = Data(String(decoding: original, as: UTF8.self)
                .replacingOccurrences(of: "<edXML:StatusCode>01</edXML:StatusCode>", with: "<edXML:StatusCode>02</edXML:StatusCode>").utf8)
            #expect(altered != original)
            let sha = SHA256.hash(data: altered).map { String(format: "%02x", $0) }.joined()
            try await hub.app.db.sql.update("exchange_messages").set("payload", to: SQLBind(altered)).set("sha256", to: sha)
                .where("id", .equal, arrived.messageID).run()

            let link = OfficeWorker.Link(client: try hub.client(HubHarness.g22), connection: OfficeConnection(), secret: "")
            let item = try #require(try await hub.client(HubHarness.g22).inbox(type: .status).first { $0.messageID == arrived.messageID })
            try await OfficeWorker.take(item, link: link, app: hub.app, agency: HubHarness.g22)
            let delivery = try #require(try await HubService(app: hub.app).delivery(message: arrived.messageID, recipient: HubHarness.g22))
            #expect(delivery.state == "failed")
            let reason = try #require(delivery.ackReason)
            let kept = try #require(try await Self.refusedRows(hub.app).first)
            #expect(kept.kind == "status")
            #expect(kept.statusCode == "02")
            #expect(kept.edxml == altered)
            #expect(reason == kept.reason, "the hub is told why: \(reason)")
            #expect(try await Self.auditActions(hub.app).contains("office.intake_refused"))

            // The next status, as H41 signed it, is taken in and acknowledged.
            let accepted = try await hub.client(HubHarness.h41).submit(try hub.status(.accepted, for: document, from: HubHarness.h41))
            let next = try #require(try await hub.client(HubHarness.g22).inbox(type: .status).first { $0.messageID == accepted.messageID })
            try await OfficeWorker.take(next, link: link, app: hub.app, agency: HubHarness.g22)
            #expect(try await HubService(app: hub.app).delivery(message: accepted.messageID, recipient: HubHarness.g22)?.state
                    == "acknowledged")
            #expect(try await Self.refusedRows(hub.app).count == 1)
        }
    }
}
