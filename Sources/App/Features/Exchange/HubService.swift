import Crypto
import EdXML
import Fluent
import Foundation
import GovCore
import SQLKit
import Vapor

/// The document-exchange hub (Trục liên thông văn bản): accepts signed edXML messages from agency
/// systems, stores each once with one delivery per recipient, relays statuses back to senders,
/// seals a receipt into the evidence chain, and hands messages out by pull (inbox, fetch, ack) or
/// push (webhooks, see `WebhookDispatcher`). Other subsystems use this interface, never its tables.
struct HubService: Sendable {
    let db: any Database
    let app: Application

    init(app: Application, db: (any Database)? = nil) {
        self.app = app
        self.db = db ?? app.db
    }

    // MARK: Stored shapes

    /// A stored message without its payload.
    struct Message: Codable, Sendable {
        var id: UUID
        var seq: Int64
        var kind: String
        var businessType: Int
        var senderCode: String
        var senderSystem: String
        var documentId: String
        var subject: String?
        var statusCode: String?
        var rootId: UUID?
        var recipients: String
        var sha256: String
        var size: Int64
        var acceptedMs: Int64
        var settledMs: Int64?
        var purgedMs: Int64?
        /// The codec's warnings about the message as accepted (JSON list of `EdXMLIssue`); nil when none.
        var warnings: String?

        var recipientCodes: [String] { (try? JSONDecoder().decode([String].self, from: Data(recipients.utf8))) ?? [] }
        var warningIssues: [EdXMLIssue] {
            warnings.flatMap { try? JSONDecoder().decode([EdXMLIssue].self, from: Data($0.utf8)) } ?? []
        }
        static let columns = ["id", "seq", "kind", "business_type", "sender_code", "sender_system", "document_id", "subject",
                              "status_code", "root_id", "recipients", "sha256", "size", "accepted_ms", "settled_ms", "purged_ms",
                              "warnings"]
    }

    /// One recipient's copy of a message on its way.
    struct Delivery: Codable, Sendable {
        var id: UUID
        var messageId: UUID
        var recipientCode: String
        var seq: Int64
        var kind: String
        var state: String
        var attempts: Int
        var nextAttemptMs: Int64
        var lastError: String?
        var deliveredMs: Int64?
        var acknowledgedMs: Int64?
        var ackReason: String?
        var deadMs: Int64?
        var createdMs: Int64
    }

    /// A recipient of a document and where it stands.
    struct Party: Codable, Sendable {
        var rootId: UUID
        var agencyCode: String
        var active: Bool
        var progress: String?
        var latestStatus: String?
        var latestStatusMs: Int64?
        var pendingRequest: String?
        var revoked: Bool
        var createdMs: Int64
    }

    /// What a submission produced.
    struct Accepted: Sendable {
        var message: Message
        var duplicate: Bool
        /// For a status: when the document it answers was accepted (for the latency histogram).
        var rootAcceptedMs: Int64? = nil
    }

    static let decodeKeys = SQLRowDecoder.KeyDecodingStrategy.convertFromSnakeCase

    static func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    // MARK: Submit

    /// Validates, verifies, routes and stores `data` sent by `caller`. Returns only after the message,
    /// its deliveries and its evidence entry are committed; a repeat of an accepted message returns
    /// the original.
    func submit(_ data: Data, caller: SystemCredentials.Caller, requestID: String?) async throws -> Accepted {
        guard !data.isEmpty else { throw HubError.emptyBody }
        let limit = app.govConfig.hub.maxMessageBytes
        guard data.count <= limit else { throw HubError.tooLarge(limit: limit) }

        let parsed: ParsedEdXML
        do {
            parsed = try EdXMLReader.read(data, limits: .default)
        } catch {
            throw HubError.edxml(error.code, vi: error.vi, en: error.en)
        }
        // Refused only for what cannot be routed; every other deviation travels on as a warning
        // kept with the message (docs/edxml.md).
        let report = parsed.validate()
        if let first = report.errors.first {
            throw HubError.edxml("edxml_invalid", vi: "\(first.path): \(first.vi)", en: "\(first.path): \(first.en)")
        }
        let warnings = Self.warningsJSON(report.warnings)
        let routing: RoutingInfo
        do {
            routing = try RoutingInfo(parsed.message)
        } catch {
            throw HubError.edxml(error.code, vi: error.vi, en: error.en)
        }
        guard routing.sender == caller.agency.code else {
            throw HubError.senderMismatch(claimed: routing.sender, caller: caller.agency.code)
        }
        let sha = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        // A repeat of the same bytes is answered before any expensive work.
        if let original = try await findDuplicate(sender: routing.sender, sha256: sha) {
            return Accepted(message: original, duplicate: true)
        }

        let verdict = try await SignatureCheck(pki: app.pkiService(db: db), unsignedPolicy: app.govConfig.unsignedPolicy)
            .check(data, sender: routing.sender)
        guard verdict.isAcceptable else {
            throw HubError.signature(verdict.code ?? "signature_invalid", vi: verdict.messageVI ?? "", en: verdict.messageEN ?? "")
        }
        if routing.kind == .document {
            try await checkRecipients(routing.recipients + routing.addedReceivers)
        }

        let seal = try app.hubSeal()
        let messageID = UUID()
        let systemID = caller.system.systemID
        let accepted: Accepted
        do {
            accepted = try await app.ingestBatcher.run(on: app.db) { tx in
                if let original = try await findDuplicate(sender: routing.sender, sha256: sha, on: tx) {
                    return Accepted(message: original, duplicate: true)
                }
                let plan = try await plan(routing, on: tx)
                let now = Self.nowMillis()
                var message = Message(
                    id: messageID, seq: 0, kind: routing.kind.rawValue, businessType: Int(routing.businessType.rawValue) ?? 0,
                    senderCode: routing.sender, senderSystem: systemID, documentId: routing.documentId,
                    subject: routing.subject.map { String($0.prefix(500)) }, statusCode: routing.statusCode?.rawValue,
                    rootId: plan.rootID, recipients: Self.json(plan.deliverTo), sha256: sha, size: Int64(data.count),
                    acceptedMs: now, settledMs: nil, purgedMs: nil, warnings: warnings)
                var receiptJSON = ""
                let entry = try await ChainedLog.evidence.append(on: tx) { seq in
                    message.seq = seq
                    receiptJSON = Self.receiptJSON(message, recipients: plan.deliverTo, seq: seq)
                    return AuditDraft(atMillis: now, actor: "system:\(systemID)", agencyCode: routing.sender,
                                      action: "exchange.accept", entityType: "exchange_message",
                                      entityID: messageID.uuidString.lowercased(), details: receiptJSON,
                                      ip: nil, requestID: requestID)
                }
                message.seq = entry.seq
                let cms = try seal.sign(Data(receiptJSON.utf8), at: Date(timeIntervalSince1970: Double(now) / 1000))
                try await insert(message, payload: data, receiptJSON: receiptJSON, receiptCMS: cms, on: tx)
                try await plan.apply(on: tx, message: message, now: now)
                // One statement for all recipients: a document to 95 agencies is one round trip.
                var deliveries = tx.sql.insert(into: "exchange_deliveries")
                    .columns("id", "message_id", "recipient_code", "seq", "kind", "state", "attempts", "next_attempt_ms",
                             "created_ms")
                for recipient in plan.deliverTo {
                    deliveries = deliveries.values(SQLBind(UUID()), SQLBind(messageID), SQLBind(recipient), SQLBind(message.seq),
                                                   SQLBind(message.kind), SQLBind("pending"), SQLBind(0), SQLBind(now), SQLBind(now))
                }
                if !plan.deliverTo.isEmpty { try await deliveries.run() }
                return Accepted(message: message, duplicate: false, rootAcceptedMs: plan.rootAcceptedMs)
            }
        } catch let error as any DatabaseError where error.isConstraintFailure {
            // Another node committed the same message (or DocumentId) first.
            if let original = try await findDuplicate(sender: routing.sender, sha256: sha) {
                return Accepted(message: original, duplicate: true)
            }
            throw HubError.documentConflict(routing.documentId)
        }
        if !accepted.duplicate {
            app.inboxSignal.notify(accepted.message.recipientCodes)
            app.hubMetrics.accepted(kind: accepted.message.kind)
            if accepted.message.kind == "status", let rootAcceptedMs = accepted.rootAcceptedMs {
                app.hubMetrics.statusLatency(Double(accepted.message.acceptedMs - rootAcceptedMs) / 1000)
            }
        }
        return accepted
    }

    func findDuplicate(sender: String, sha256: String, on db: (any Database)? = nil) async throws -> Message? {
        try await (db ?? self.db).sql.select().columns(Message.columns.map { SQLIdentifier($0) }).from("exchange_messages")
            .where("sender_code", .equal, sender).where("sha256", .equal, sha256).limit(1)
            .first(decoding: Message.self, keyDecodingStrategy: Self.decodeKeys)
    }

    /// Every addressed agency must be in the directory and active; all bad ones are named at once.
    private func checkRecipients(_ codes: [String]) async throws {
        let known = try await AgencyDirectory(db: db).summaries(codes: Set(codes))
        let unknown = codes.filter { known[$0] == nil }
        if !unknown.isEmpty { throw HubError.recipientsUnknown(unknown) }
        let locked = codes.filter { known[$0]?.state != .active }
        if !locked.isEmpty { throw HubError.recipientsLocked(locked) }
    }

    private func insert(_ message: Message, payload: Data, receiptJSON: String, receiptCMS: [UInt8],
                        on db: any Database) async throws {
        try await db.sql.insert(into: "exchange_messages")
            .columns(Message.columns.filter { $0 != "settled_ms" && $0 != "purged_ms" } + ["payload", "receipt_json", "receipt_cms"])
            .values(SQLBind(message.id), SQLBind(message.seq), SQLBind(message.kind), SQLBind(message.businessType),
                    SQLBind(message.senderCode), SQLBind(message.senderSystem), SQLBind(message.documentId),
                    SQLBind(message.subject), SQLBind(message.statusCode), SQLBind(message.rootId),
                    SQLBind(message.recipients), SQLBind(message.sha256), SQLBind(message.size), SQLBind(message.acceptedMs),
                    SQLBind(message.warnings), SQLBind(payload), SQLBind(receiptJSON), SQLBind(Data(receiptCMS)))
            .run()
    }

    /// The warnings as stored: nil when there are none, so that most rows carry nothing.
    static func warningsJSON(_ issues: [EdXMLIssue]) -> String? {
        guard !issues.isEmpty, let data = try? JSONEncoder().encode(issues) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func json(_ codes: [String]) -> String {
        (try? String(data: JSONEncoder().encode(codes), encoding: .utf8)) ?? "[]"
    }

    /// The receipt's exact bytes: sorted keys, so anyone can re-create and check them.
    static func receiptJSON(_ message: Message, recipients: [String], seq: Int64) -> String {
        let receipt = Receipt(message_id: message.id.uuidString.lowercased(), sha256: message.sha256, size: message.size,
                              sender: message.senderCode, sender_system: message.senderSystem, kind: message.kind,
                              document_id: message.documentId, recipients: recipients,
                              accepted_at: HubTime.iso(message.acceptedMs), evidence_seq: seq)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(data: encoder.encode(receipt), encoding: .utf8)) ?? "{}"
    }

    /// What the hub's seal signs for every accepted message; stored and signed as sorted-key JSON.
    struct Receipt: Codable, Sendable {
        var message_id: String
        var sha256: String
        var size: Int64
        var sender: String
        var sender_system: String
        var kind: String
        var document_id: String
        var recipients: [String]
        var accepted_at: String
        var evidence_seq: Int64
    }

    // MARK: Routing plan

    /// What accepting one message changes besides storing it: the document it belongs to, who
    /// gets it, and the parties' new states.
    struct Plan: Sendable {
        var rootID: UUID?
        var deliverTo: [String]
        /// When the root document was accepted (known to the plan, which read it).
        var rootAcceptedMs: Int64? = nil
        var newParties: [String] = []
        var partyUpdates: [(agency: String, progress: String?, latest: String?, pending: String??, revoked: Bool?, active: Bool?)] = []

        func apply(on db: any Database, message: HubService.Message, now: Int64) async throws {
            let root = rootID ?? message.id
            if !newParties.isEmpty {
                var insert = db.sql.insert(into: "exchange_parties").columns("root_id", "agency_code", "active", "revoked", "created_ms")
                for agency in newParties {
                    insert = insert.values(SQLBind(root), SQLBind(agency), SQLBind(true), SQLBind(false), SQLBind(now))
                }
                try await insert.run()
            }
            for update in partyUpdates {
                var query = db.sql.update("exchange_parties")
                if let progress = update.progress { query = query.set("progress", to: progress) }
                if let latest = update.latest {
                    query = query.set("latest_status", to: latest).set("latest_status_ms", to: now)
                }
                if let pending = update.pending { query = query.set("pending_request", to: SQLBind(pending)) }
                if let revoked = update.revoked { query = query.set("revoked", to: revoked) }
                if let active = update.active { query = query.set("active", to: active) }
                try await query.where("root_id", .equal, root).where("agency_code", .equal, update.agency).run()
            }
        }
    }

    private func findRoot(documentId: String, sender: String?, on db: any Database) async throws -> Message? {
        var query = db.sql.select().columns(Message.columns.map { SQLIdentifier($0) }).from("exchange_messages")
            .where("document_id", .equal, documentId).where("kind", .equal, "document")
            .where("business_type", .in, [0, 3])
        if let sender { query = query.where("sender_code", .equal, sender) }
        return try await query.orderBy("seq").limit(1).first(decoding: Message.self, keyDecodingStrategy: Self.decodeKeys)
    }

    private func parties(of root: UUID, on db: any Database) async throws -> [String: Party] {
        let rows = try await db.sql.select().column("*").from("exchange_parties").where("root_id", .equal, root)
            .all(decoding: Party.self, keyDecodingStrategy: Self.decodeKeys)
        return Dictionary(rows.map { ($0.agencyCode, $0) }, uniquingKeysWith: { a, _ in a })
    }

    private func plan(_ routing: RoutingInfo, on db: any Database) async throws -> Plan {
        switch routing.kind {
        case .status:
            return try await planStatus(routing, on: db)
        case .document:
            switch routing.businessType {
            case .new, .replacement:
                if try await findRoot(documentId: routing.documentId, sender: routing.sender, on: db) != nil {
                    throw HubError.documentConflict(routing.documentId)
                }
                for replaced in routing.replacedDocumentIds {
                    guard try await findRoot(documentId: replaced, sender: routing.sender, on: db) != nil else {
                        throw HubError.originalNotFound(replaced)
                    }
                }
                return Plan(rootID: nil, deliverTo: routing.recipients, newParties: routing.recipients)
            case .revocation, .update:
                let target = routing.targetDocumentId ?? routing.documentId
                guard let root = try await findRoot(documentId: target, sender: routing.sender, on: db) else {
                    throw HubError.originalNotFound(target)
                }
                let parties = try await parties(of: root.id, on: db)
                let added = Set(routing.addedReceivers)
                var plan = Plan(rootID: root.id, deliverTo: [])
                var deliverTo = routing.recipients
                for agency in routing.addedReceivers where !deliverTo.contains(agency) { deliverTo.append(agency) }
                let strangers = deliverTo.filter { parties[$0] == nil && !added.contains($0) }
                if !strangers.isEmpty {
                    throw HubError.statusNotAllowed(
                        vi: "Chỉ gửi thu hồi/cập nhật tới nơi đã nhận văn bản; không phải nơi nhận: \(strangers.joined(separator: ", ")).",
                        en: "A revocation or update goes only to the document's recipients; not recipients: \(strangers.joined(separator: ", ")).")
                }
                plan.deliverTo = deliverTo
                let request = routing.businessType == .revocation ? "revocation" : "update"
                for agency in deliverTo {
                    if parties[agency] == nil {
                        plan.newParties.append(agency)
                    } else if !routing.removedReceivers.contains(agency) {
                        plan.partyUpdates.append((agency, nil, nil, .some(request), nil, nil))
                    }
                }
                for agency in routing.removedReceivers where parties[agency] != nil {
                    plan.partyUpdates.append((agency, nil, nil, .some(nil), nil, false))
                }
                return plan
            }
        }
    }

    private func planStatus(_ routing: RoutingInfo, on db: any Database) async throws -> Plan {
        guard let code = routing.statusCode else {
            throw HubError.edxml("status_code_invalid", vi: "Thiếu mã trạng thái.", en: "The status code is missing.")
        }
        guard let root = try await findRoot(documentId: routing.documentId, sender: nil, on: db) else {
            throw HubError.originalNotFound(routing.documentId)
        }
        let parties = try await parties(of: root.id, on: db)
        let byOriginalSender = routing.sender == root.senderCode && code == .revokeRequest
        let partyCode: String
        if code == .revokeRequest {
            guard routing.sender == root.senderCode else {
                throw HubError.statusNotAllowed(vi: "Chỉ cơ quan gửi văn bản mới được gửi trạng thái 13.",
                                                en: "Only the agency that sent the document may send status 13.")
            }
            guard let target = routing.responseOrganId, let party = parties[target], party.active else {
                throw HubError.notARecipient(routing.documentId)
            }
            partyCode = target
        } else {
            if let organ = routing.responseOrganId, !organ.isEmpty, organ != root.senderCode {
                throw HubError.originalNotFound(routing.documentId)
            }
            guard let party = parties[routing.sender], party.active else {
                throw HubError.notARecipient(routing.documentId)
            }
            partyCode = party.agencyCode
        }
        guard let party = parties[partyCode] else { throw HubError.notARecipient(routing.documentId) }
        let state = StatusFlow.State(progress: party.progress.flatMap(StatusCode.init(rawValue:)),
                                     pendingRequest: party.pendingRequest != nil)
        if code != .revokeRequest, let refusal = StatusFlow.check(code, after: state, byOriginalSender: byOriginalSender) {
            throw HubError.statusNotAllowed(vi: refusal.vi, en: refusal.en)
        }
        var plan = Plan(rootID: root.id, deliverTo: [code == .revokeRequest ? partyCode : root.senderCode],
                        rootAcceptedMs: root.acceptedMs)
        switch code {
        case .revokeRequest:
            plan.partyUpdates.append((partyCode, nil, code.rawValue, .some("revocation"), nil, nil))
        case .revokeAccepted:
            let wasRevocation = party.pendingRequest == "revocation"
            plan.partyUpdates.append((partyCode, nil, code.rawValue, .some(nil), wasRevocation ? true : nil, nil))
        case .revokeRefused:
            plan.partyUpdates.append((partyCode, nil, code.rawValue, .some(nil), nil, nil))
        default:
            plan.partyUpdates.append((partyCode, code.rawValue, code.rawValue, nil, nil, nil))
        }
        return plan
    }

    // MARK: Reading

    func message(id: UUID) async throws -> Message? {
        try await db.sql.select().columns(Message.columns.map { SQLIdentifier($0) }).from("exchange_messages")
            .where("id", .equal, id).first(decoding: Message.self, keyDecodingStrategy: Self.decodeKeys)
    }

    /// The message if `agency` sent it or is one of its recipients; otherwise not found, so that
    /// nobody learns whether another agency's message exists.
    func visibleMessage(id: UUID, agency: String) async throws -> Message {
        // `recipients` lists exactly the agencies the message has deliveries for.
        guard let message = try await message(id: id),
              message.senderCode == agency || message.recipientCodes.contains(agency) else { throw HubError.notFound }
        return message
    }

    /// One inbox entry.
    struct InboxItem: Codable, Sendable {
        var messageId: UUID
        var deliveryId: UUID
        var kind: String
        var businessType: Int
        var senderCode: String
        var documentId: String
        var statusCode: String?
        var subject: String?
        var size: Int64
        var acceptedMs: Int64
        var seq: Int64
        var attempts: Int
    }

    /// What waits for `agency`, oldest first. With `wait`, returns as soon as something arrives.
    func inbox(agency: String, kind: String?, limit: Int, wait: Duration) async throws -> [InboxItem] {
        let deadline = ContinuousClock.now + wait
        // Other nodes' commits are seen by re-querying; this node's wake the waiter at once.
        let recheck: Duration = app.govConfig.database.isPostgres ? .milliseconds(100) : .seconds(2)
        while true {
            var query = db.sql.select()
                .column(SQLColumn("message_id", table: "d")).column(SQLColumn("id", table: "d"), as: "delivery_id")
                .column(SQLColumn("kind", table: "d")).column(SQLColumn("seq", table: "d"))
                .column(SQLColumn("attempts", table: "d"))
                .column(SQLColumn("business_type", table: "m")).column(SQLColumn("sender_code", table: "m"))
                .column(SQLColumn("document_id", table: "m")).column(SQLColumn("status_code", table: "m"))
                .column(SQLColumn("subject", table: "m")).column(SQLColumn("size", table: "m"))
                .column(SQLColumn("accepted_ms", table: "m"))
                .from(SQLAlias(SQLIdentifier("exchange_deliveries"), as: SQLIdentifier("d")))
                .join(SQLAlias(SQLIdentifier("exchange_messages"), as: SQLIdentifier("m")), on: SQLColumn("id", table: "m"),
                      .equal, SQLColumn("message_id", table: "d"))
                .where(SQLColumn("recipient_code", table: "d"), .equal, SQLBind(agency))
                .where(SQLColumn("state", table: "d"), .in, SQLBind.group(["pending", "delivered"]))
            if let kind { query = query.where(SQLColumn("kind", table: "d"), .equal, SQLBind(kind)) }
            let items = try await query.orderBy(SQLColumn("seq", table: "d")).limit(limit)
                .all(decoding: InboxItem.self, keyDecodingStrategy: Self.decodeKeys)
            let remaining = deadline - ContinuousClock.now
            if !items.isEmpty || remaining <= .zero { return items }
            await app.inboxSignal.wait(for: agency, timeout: min(remaining, recheck))
        }
    }

    /// The payload of a message `agency` may see; marks the agency's delivery as delivered.
    func fetch(id: UUID, agency: String) async throws -> (Message, Data) {
        let message = try await visibleMessage(id: id, agency: agency)
        guard let payload = try await payload(of: id) else { throw HubError.purged }
        if message.recipientCodes.contains(agency) {
            // In a transaction, so that on SQLite it queues behind the other writers of this node.
            let now = Self.nowMillis()
            try await db.atomically { tx in
                try await tx.sql.update("exchange_deliveries").set("state", to: "delivered").set("delivered_ms", to: now)
                    .where("message_id", .equal, id).where("recipient_code", .equal, agency).where("state", .equal, "pending")
                    .run()
            }
        }
        return (message, payload)
    }

    /// The stored bytes of a message; nil once retention purged them (or for an unknown id).
    func payload(of id: UUID) async throws -> Data? {
        try await db.sql.select().column("payload").from("exchange_messages").where("id", .equal, id).first()?
            .decode(column: "payload", as: Data?.self)
    }

    /// Records the recipient's acknowledgement; repeating it changes nothing.
    func acknowledge(id: UUID, agency: String, failed reason: String?) async throws -> Delivery {
        let now = Self.nowMillis()
        let delivery = try await db.atomically { tx -> Delivery in
            guard let delivery = try await self.delivery(message: id, recipient: agency, on: tx) else { throw HubError.notFound }
            guard ["pending", "delivered", "dead"].contains(delivery.state) else { return delivery }
            try await tx.sql.update("exchange_deliveries")
                .set("state", to: reason == nil ? "acknowledged" : "failed")
                .set("acknowledged_ms", to: now).set("ack_reason", to: SQLBind(reason))
                .set("delivered_ms", to: SQLBind(delivery.deliveredMs ?? now))
                .where("id", .equal, delivery.id).run()
            try await settleIfDone(message: id, now: now, on: tx)
            guard let updated = try await self.delivery(message: id, recipient: agency, on: tx) else { throw HubError.notFound }
            return updated
        }
        if let message = try? await message(id: id) {
            app.hubMetrics.deliveryLatency(Double(now - message.acceptedMs) / 1000)
        }
        return delivery
    }

    func settleIfDone(message id: UUID, now: Int64, on db: any Database) async throws {
        try await db.sql.raw("""
            UPDATE exchange_messages SET settled_ms = \(bind: now) WHERE id = \(bind: id) AND settled_ms IS NULL
            AND NOT EXISTS (SELECT 1 FROM exchange_deliveries WHERE message_id = \(bind: id)
                            AND state NOT IN ('acknowledged', 'failed'))
            """).run()
    }

    func delivery(message: UUID, recipient: String, on db: (any Database)? = nil) async throws -> Delivery? {
        try await (db ?? self.db).sql.select().column("*").from("exchange_deliveries")
            .where("message_id", .equal, message).where("recipient_code", .equal, recipient)
            .first(decoding: Delivery.self, keyDecodingStrategy: Self.decodeKeys)
    }

    func deliveries(of message: UUID) async throws -> [Delivery] {
        try await db.sql.select().column("*").from("exchange_deliveries").where("message_id", .equal, message)
            .orderBy("recipient_code").all(decoding: Delivery.self, keyDecodingStrategy: Self.decodeKeys)
    }

    /// One recipient's line of a sent document's matrix.
    struct RecipientHistory: Sendable {
        var agency: String
        var delivery: Delivery?
        var party: Party?
        var statuses: [Message]
    }

    /// A sent document's deliveries and statuses, recipient by recipient. `agency` must be the
    /// sender unless `asAdmin`.
    func history(id: UUID, agency: String?) async throws -> (Message, [RecipientHistory]) {
        guard let message = try await message(id: id) else { throw HubError.notFound }
        if let agency, message.senderCode != agency { throw HubError.notFound }
        // A revocation, update or status belongs to its root document; a root is its own.
        let rootID = message.rootId ?? message.id
        let parties = try await parties(of: rootID, on: db)
        let deliveries = try await deliveries(of: message.id)
        let related = try await db.sql.select().columns(Message.columns.map { SQLIdentifier($0) }).from("exchange_messages")
            .where("root_id", .equal, rootID).orderBy("seq")
            .all(decoding: Message.self, keyDecodingStrategy: Self.decodeKeys)
        let statuses = related.filter { $0.kind == "status" }
        var agencies = deliveries.map(\.recipientCode)
        for code in parties.keys.sorted() where !agencies.contains(code) { agencies.append(code) }
        var lines: [RecipientHistory] = []
        for code in agencies {
            let own = statuses.filter { $0.senderCode == code || ($0.statusCode == "13" && $0.recipientCodes == [code]) }
            lines.append(RecipientHistory(agency: code, delivery: deliveries.first { $0.recipientCode == code },
                                          party: parties[code], statuses: own))
        }
        return (message, lines)
    }

    /// The receipt's signed bytes and CMS signature.
    func receipt(id: UUID, agency: String?) async throws -> (json: String, cms: Data) {
        if let agency { _ = try await visibleMessage(id: id, agency: agency) }
        guard let row = try await db.sql.select().column("receipt_json").column("receipt_cms").from("exchange_messages")
            .where("id", .equal, id).first() else { throw HubError.notFound }
        return (try row.decode(column: "receipt_json", as: String.self), try row.decode(column: "receipt_cms", as: Data.self))
    }

    /// Deliveries by state (those to or from `agency`, or all), for `/metrics` and the admin page.
    func deliveryCounts(involving agency: String? = nil) async throws -> [String: Int] {
        var query = db.sql.select().column("state").column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from("exchange_deliveries")
        if let agency { query = query.where(Self.deliveriesInvolving(agency)) }
        var counts = Dictionary(uniqueKeysWithValues: Self.deliveryStates.map { ($0, 0) })
        for row in try await query.groupBy("state").all() {
            counts[try row.decode(column: "state", as: String.self)] = try row.decode(column: "n", as: Int.self)
        }
        return counts
    }

    /// Deliveries that involve `agency`: to it, or of messages it sent.
    static func deliveriesInvolving(_ agency: String) -> SQLQueryString {
        "(recipient_code = \(bind: agency) OR message_id IN (SELECT id FROM exchange_messages WHERE sender_code = \(bind: agency)))"
    }

    /// Every state a delivery passes through, in order.
    static let deliveryStates = ["pending", "delivered", "acknowledged", "failed", "dead"]

    // MARK: Dead letters

    struct DeadLetter: Codable, Sendable {
        var deliveryId: UUID
        var messageId: UUID
        var recipientCode: String
        var senderCode: String
        var documentId: String
        var attempts: Int
        var lastError: String?
        var deadMs: Int64?
    }

    /// Dead deliveries of messages `sender` sent (every sender's when nil).
    func deadLetters(sender: String?, limit: Int = 200) async throws -> [DeadLetter] {
        var query = db.sql.select()
            .column(SQLColumn("id", table: "d"), as: "delivery_id").column(SQLColumn("message_id", table: "d"))
            .column(SQLColumn("recipient_code", table: "d")).column(SQLColumn("attempts", table: "d"))
            .column(SQLColumn("last_error", table: "d")).column(SQLColumn("dead_ms", table: "d"))
            .column(SQLColumn("sender_code", table: "m")).column(SQLColumn("document_id", table: "m"))
            .from(SQLAlias(SQLIdentifier("exchange_deliveries"), as: SQLIdentifier("d")))
            .join(SQLAlias(SQLIdentifier("exchange_messages"), as: SQLIdentifier("m")), on: SQLColumn("id", table: "m"),
                  .equal, SQLColumn("message_id", table: "d"))
            .where(SQLColumn("state", table: "d"), .equal, SQLBind("dead"))
        if let sender { query = query.where(SQLColumn("sender_code", table: "m"), .equal, SQLBind(sender)) }
        return try await query.orderBy(SQLColumn("dead_ms", table: "d"), SQLDirection.descending).limit(limit)
            .all(decoding: DeadLetter.self, keyDecodingStrategy: Self.decodeKeys)
    }

    /// Puts a dead (or failed) delivery back in the queue, with a fresh retry budget.
    func redeliver(deliveryID: UUID, sender: String?, actor: AuditActor) async throws -> Delivery {
        guard let delivery = try await db.sql.select().column("*").from("exchange_deliveries").where("id", .equal, deliveryID)
            .first(decoding: Delivery.self, keyDecodingStrategy: Self.decodeKeys) else { throw HubError.deliveryNotFound }
        if let sender {
            guard let message = try await message(id: delivery.messageId), message.senderCode == sender else {
                throw HubError.deliveryNotFound
            }
        }
        guard ["dead", "failed"].contains(delivery.state) else {
            throw GovError("delivery_not_dead", .conflict,
                           vi: "Chỉ gửi lại được lượt chuyển phát đã hỏng hoặc bị báo lỗi (trạng thái hiện tại: \(delivery.state)).",
                           en: "Only a dead or failed delivery can be redelivered (it is \(delivery.state)).")
        }
        let now = Self.nowMillis()
        try await db.atomically { tx in
            try await tx.sql.update("exchange_deliveries").set("state", to: "pending").set("attempts", to: 0)
                .set("next_attempt_ms", to: now).set("created_ms", to: now).set("dead_ms", to: SQLLiteral.null)
                .where("id", .equal, deliveryID).run()
            try await tx.sql.update("exchange_messages").set("settled_ms", to: SQLLiteral.null)
                .where("id", .equal, delivery.messageId).run()
            try await AuditLog.append("exchange.redeliver", entity: "exchange_delivery", id: deliveryID.uuidString.lowercased(),
                                      details: ["recipient": delivery.recipientCode,
                                                "message": delivery.messageId.uuidString.lowercased()],
                                      by: actor, on: tx)
        }
        var updated = delivery
        updated.state = "pending"
        updated.attempts = 0
        return updated
    }

    // MARK: Retention

    /// Purges payloads settled longer ago than the payload retention, and deletes metadata older
    /// than the retention period. The evidence chain is never touched. Returns the counts.
    func purge(now: Int64 = HubService.nowMillis()) async throws -> (payloads: Int, messages: Int) {
        let settings = app.govConfig.hub
        let payloadCutoff = now - Int64(settings.payloadRetentionDays) * 86_400_000
        let metadataCutoff = now - Int64(settings.retentionDays) * 86_400_000
        let payloadRows = try await db.sql.raw("""
            SELECT id FROM exchange_messages WHERE settled_ms IS NOT NULL AND settled_ms <= \(bind: payloadCutoff)
            AND purged_ms IS NULL
            """).all()
        let payloadIDs = try payloadRows.map { try $0.decode(column: "id", as: UUID.self) }
        for chunk in payloadIDs.chunked(500) {
            try await db.sql.update("exchange_messages").set("payload", to: SQLLiteral.null).set("purged_ms", to: now)
                .where("id", .in, chunk).run()
        }
        let oldRows = try await db.sql.raw("SELECT id FROM exchange_messages WHERE accepted_ms <= \(bind: metadataCutoff)").all()
        let oldIDs = try oldRows.map { try $0.decode(column: "id", as: UUID.self) }
        for chunk in oldIDs.chunked(500) {
            try await db.atomically { tx in
                try await tx.sql.delete(from: "exchange_deliveries").where("message_id", .in, chunk).run()
                try await tx.sql.delete(from: "exchange_parties").where("root_id", .in, chunk).run()
                try await tx.sql.update("exchange_messages").set("root_id", to: SQLLiteral.null).where("root_id", .in, chunk).run()
                try await tx.sql.delete(from: "exchange_messages").where("id", .in, chunk).run()
            }
        }
        return (payloadIDs.count, oldIDs.count)
    }
}

extension Array {
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}

/// The hub's time format on the wire: ISO 8601 UTC with seconds.
enum HubTime {
    static func iso(_ millis: Int64) -> String {
        Date(timeIntervalSince1970: Double(millis) / 1000).formatted(.iso8601)
    }

    static func iso(_ millis: Int64?) -> String? { millis.map { iso($0) } }
}

extension Request {
    var hub: HubService { HubService(app: application, db: db) }
}
