import EdXML
import ExchangeClient
import Foundation
import GovCore
import SQLKit
import Testing
import VaporTesting

@testable import App

/// The hub's admin pages, on messages submitted through the real API: who may see what, the
/// trace of a message, and putting a dead delivery back in the queue.
@Suite("Hub admin pages", .serialized)
struct HubAdminTests {
    typealias H = HubHarness

    /// What the tests below work on.
    struct Fixture {
        var sent: SubmitResult          // G22 → H41, H37; H41 answered 01 and 03
        var documentId: String
        var other: SubmitResult         // H37 → H56: nothing to do with G22 or H41
        var otherDocumentId: String
        var h37Delivery: UUID           // the H37 copy of `sent`, made dead
        var h41Delivery: UUID
    }

    private func prepare(_ hub: HubHarness) async throws -> Fixture {
        let (document, signed) = try hub.document(from: H.g22, to: [H.h41, H.h37], number: "901")
        let sent = try await hub.client(H.g22).submit(signed)
        let h41 = try hub.client(H.h41)
        _ = try await h41.fetch(sent.messageID)
        _ = try await h41.acknowledge(sent.messageID, outcome: .done)
        for code in [StatusCode.arrived, .accepted] {
            _ = try await h41.submit(try hub.status(code, for: document, from: H.h41))
        }
        let (_, otherSigned) = try hub.document(from: H.h37, to: [H.h56], number: "902")
        let other = try await hub.client(H.h37).submit(otherSigned)

        let service = HubService(app: hub.app)
        let message = try #require(try await service.message(id: sent.messageID))
        let otherMessage = try #require(try await service.message(id: other.messageID))
        let h37 = try #require(try await service.delivery(message: sent.messageID, recipient: H.h37))
        let h41Delivery = try #require(try await service.delivery(message: sent.messageID, recipient: H.h41))
        // The push worker gave up on H37's copy (set directly: the webhook path has its own test).
        try await hub.app.db.sql.update("exchange_deliveries").set("state", to: "dead")
            .set("dead_ms", to: HubService.nowMillis()).set("attempts", to: 12).set("last_error", to: "HTTP 503")
            .where("id", .equal, h37.id).run()
        return Fixture(sent: sent, documentId: message.documentId, other: other, otherDocumentId: otherMessage.documentId,
                       h37Delivery: h37.id, h41Delivery: h41Delivery.id)
    }

    private func id(_ uuid: UUID) -> String { uuid.uuidString.lowercased() }

    /// The system id HubHarness issued to `agency`.
    private func system(_ agency: String) -> String { "qlvb-" + agency.replacingOccurrences(of: ".", with: "").lowercased() }

    private func state(_ hub: HubHarness, _ delivery: UUID) async throws -> String? {
        try await hub.app.db.sql.select().column("state").from("exchange_deliveries").where("id", .equal, delivery)
            .first()?.decode(column: "state", as: String.self)
    }

    @Test("A system administrator opens every page and sees every agency's messages")
    func systemAdminSeesEverything() async throws {
        try await H.run { hub in
            let fx = try await prepare(hub)
            let admin = TestBrowser(hub.app)
            try await admin.login("admin")

            let overview = try await admin.get("/admin/hub")
            #expect(overview.status == .ok)
            #expect(overview.text.contains("Trục liên thông văn bản"))
            for code in H.agencies { #expect(overview.text.contains(code)) }
            #expect(overview.text.contains(system(H.g22)))
            #expect(overview.text.contains("hub-feedback-table"))
            // H41 received one document in the window and answered 03: 1 (100%) twice.
            #expect(overview.text.contains("<td>1 (100%)</td><td>1 (100%)</td>"))
            // H37 (and H56) received one document each and answered nothing.
            #expect(overview.text.contains("<td>0 (0%)</td><td>0 (0%)</td>"))
            #expect(overview.text.contains("id=\"state-dead\""))

            let list = try await admin.get("/admin/hub/messages")
            #expect(list.status == .ok)
            #expect(list.text.contains(fx.documentId))
            #expect(list.text.contains(fx.otherDocumentId))
            #expect(list.text.contains("/admin/hub/messages/\(id(fx.sent.messageID))"))
            let filtered = try await admin.get("/admin/hub/messages?sender=\(H.h37)")
            #expect(filtered.text.contains(fx.otherDocumentId))
            #expect(!filtered.text.contains("/admin/hub/messages/\(id(fx.sent.messageID))"))
            let byDocument = try await admin.get("/admin/hub/messages?q=902")
            #expect(byDocument.text.contains(fx.otherDocumentId))
            #expect(!byDocument.text.contains("/admin/hub/messages/\(id(fx.sent.messageID))"))

            let trace = try await admin.get("/admin/hub/messages/\(id(fx.sent.messageID))")
            #expect(trace.status == .ok)
            #expect(trace.text.contains(fx.sent.sha256))
            #expect(trace.text.contains("&quot;evidence_seq&quot;") || trace.text.contains("\"evidence_seq\""))
            #expect(trace.text.contains("delivery-\(id(fx.h37Delivery))"))
            #expect(trace.text.contains("delivery-\(id(fx.h41Delivery))"))
            #expect(trace.text.contains("trace-matrix-table"))
            #expect(trace.text.contains("trace-related-table"), "the two statuses are related messages")
            #expect(trace.text.contains("/admin/hub/deliveries/\(id(fx.h37Delivery))/redeliver"))

            let dead = try await admin.get("/admin/hub/dead-letters")
            #expect(dead.status == .ok)
            #expect(dead.text.contains("dead-\(id(fx.h37Delivery))"))
            #expect(dead.text.contains("HTTP 503"))

            let english = try await admin.get("/admin/hub?lang=en")
            #expect(english.status == .ok)
            #expect(english.text.contains("Document exchange hub"))

            #expect(try await admin.get("/admin/hub/messages/not-a-uuid").status == .notFound)
            #expect(try await admin.get("/admin/hub/messages/\(id(UUID()))").status == .notFound)
            #expect(try await admin.get("/admin/hub/messages?page=0").status == .badRequest)
        }
    }

    @Test("A clerk sees the agency's traffic but may not redeliver; a leader sees nothing")
    func clerkLooksLeaderIsRefused() async throws {
        try await H.run { hub in
            let fx = try await prepare(hub)
            let clerk = TestBrowser(hub.app)
            try await clerk.login("g22.vanthu")
            for path in ["/admin/hub", "/admin/hub/messages", "/admin/hub/messages/\(id(fx.sent.messageID))",
                         "/admin/hub/dead-letters"] {
                let page = try await clerk.get(path)
                #expect(page.status == .ok, "\(path)")
                #expect(!page.text.contains("/redeliver"), "\(path): a clerk is offered redelivery")
            }
            #expect(try await clerk.get("/admin/hub/messages").text.contains(fx.documentId))
            #expect(try await clerk.get("/").text.contains("nav-hub"))
            // Another agency's message (H37 → H56) stays out of sight.
            #expect(try await clerk.get("/admin/hub/messages/\(id(fx.other.messageID))").status == .notFound)
            let post = try await clerk.post("/admin/hub/deliveries/\(id(fx.h37Delivery))/redeliver", [])
            #expect(post.status == .forbidden)
            #expect(try await state(hub, fx.h37Delivery) == "dead")

            let leader = TestBrowser(hub.app)
            try await leader.login("g22.lanhdao")
            for path in ["/admin/hub", "/admin/hub/messages", "/admin/hub/messages/\(id(fx.sent.messageID))",
                         "/admin/hub/dead-letters"] {
                let page = try await leader.get(path)
                #expect(page.status == .forbidden, "\(path)")
                #expect(!page.text.contains(fx.documentId), "\(path)")
            }
            #expect(try await leader.get("/").text.contains("nav-hub") == false)
            #expect(try await leader.post("/admin/hub/deliveries/\(id(fx.h37Delivery))/redeliver", []).status == .forbidden)

            let anonymous = TestBrowser(hub.app)
            let login = try await anonymous.get("/admin/hub")
            #expect(login.status == .seeOther)
            #expect(login.headers.first(name: .location)?.hasPrefix("/login") == true)
        }
    }

    @Test("An agency administrator sees only what involves their own agency")
    func agencyAdminSeesOwnAgency() async throws {
        try await H.run { hub in
            let fx = try await prepare(hub)
            let g22 = TestBrowser(hub.app)
            try await g22.login("g22.quantri")
            let overview = try await g22.get("/admin/hub")
            #expect(overview.status == .ok)
            #expect(overview.text.contains(system(H.g22)))
            #expect(!overview.text.contains(system(H.h41)))
            #expect(!overview.text.contains(system(H.h37)))
            #expect(overview.text.contains("hub-scope"))

            let list = try await g22.get("/admin/hub/messages")
            #expect(list.status == .ok)
            #expect(list.text.contains(fx.documentId))
            #expect(!list.text.contains(fx.otherDocumentId))
            #expect(try await g22.get("/admin/hub/messages/\(id(fx.other.messageID))").status == .notFound)
            let trace = try await g22.get("/admin/hub/messages/\(id(fx.sent.messageID))")
            #expect(trace.status == .ok)
            #expect(trace.text.contains("delivery-\(id(fx.h37Delivery))"), "the sender sees every recipient")
            let dead = try await g22.get("/admin/hub/dead-letters")
            #expect(dead.text.contains("dead-\(id(fx.h37Delivery))"), "G22 sent it")

            // H41 received the document: it sees its own line only, and not G22's dead letter.
            let h41 = TestBrowser(hub.app)
            try await h41.login("h41.quantri")
            let h41List = try await h41.get("/admin/hub/messages")
            #expect(h41List.text.contains(fx.documentId))
            #expect(!h41List.text.contains(fx.otherDocumentId))
            let h41Trace = try await h41.get("/admin/hub/messages/\(id(fx.sent.messageID))")
            #expect(h41Trace.status == .ok)
            #expect(h41Trace.text.contains("delivery-\(id(fx.h41Delivery))"))
            #expect(!h41Trace.text.contains("delivery-\(id(fx.h37Delivery))"))
            #expect(!h41Trace.text.contains("/redeliver"))
            let h41Dead = try await h41.get("/admin/hub/dead-letters")
            #expect(h41Dead.status == .ok)
            #expect(!h41Dead.text.contains("dead-\(id(fx.h37Delivery))"))
            let refused = try await h41.post("/admin/hub/deliveries/\(id(fx.h37Delivery))/redeliver", [])
            #expect(refused.status == .notFound)
            #expect(try await state(hub, fx.h37Delivery) == "dead")
        }
    }

    @Test("Redeliver needs the form token, then puts the dead delivery back to pending")
    func redeliver() async throws {
        try await H.run { hub in
            let fx = try await prepare(hub)
            let admin = TestBrowser(hub.app)
            try await admin.login("admin")
            let path = "/admin/hub/deliveries/\(id(fx.h37Delivery))/redeliver"

            let noToken = try await admin.post(path, [], csrf: .none)
            #expect(noToken.status == .forbidden)
            #expect(try await state(hub, fx.h37Delivery) == "dead")
            let badToken = try await admin.post(path, [], csrf: .value("forged"))
            #expect(badToken.status == .forbidden)
            #expect(try await state(hub, fx.h37Delivery) == "dead")

            let done = try await admin.post(path, [])
            #expect(done.status == .seeOther)
            #expect(done.headers.first(name: .location) == "/admin/hub/dead-letters")
            #expect(try await state(hub, fx.h37Delivery) == "pending")
            let attempts = try await hub.app.db.sql.select().column("attempts").from("exchange_deliveries")
                .where("id", .equal, fx.h37Delivery).first()?.decode(column: "attempts", as: Int.self)
            #expect(attempts == 0)
            let page = try await admin.get("/admin/hub/dead-letters")
            #expect(page.text.contains("flash-success"))
            #expect(!page.text.contains("dead-\(id(fx.h37Delivery))"))
            // H37 finds it in its inbox again.
            let inbox = try await hub.client(H.h37).inbox(type: .document)
            #expect(inbox.map(\.messageID).contains(fx.sent.messageID))

            // A delivery that is not dead is never put back; nor is an unknown one.
            let acknowledged = try await admin.post("/admin/hub/deliveries/\(id(fx.h41Delivery))/redeliver", [])
            #expect(acknowledged.status == .conflict)
            #expect(try await state(hub, fx.h41Delivery) == "acknowledged")
            #expect(try await admin.post("/admin/hub/deliveries/\(id(UUID()))/redeliver", []).status == .notFound)

            // The redeliver is in the audit log under the administrator's name.
            let audit = try await admin.get("/admin/audit?action=exchange.redeliver")
            #expect(audit.text.contains("user:admin"))

            // From the trace page the button comes back to the trace.
            try await hub.app.db.sql.update("exchange_deliveries").set("state", to: "dead")
                .where("id", .equal, fx.h37Delivery).run()
            let fromTrace = try await admin.post(path, [("return_to", "trace")])
            #expect(fromTrace.headers.first(name: .location) == "/admin/hub/messages/\(id(fx.sent.messageID))")
        }
    }
}
