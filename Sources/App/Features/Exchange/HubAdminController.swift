import EdXML
import Fluent
import Foundation
import GovCore
import SQLKit
import Vapor

/// The hub's admin pages: connected agencies, today's traffic, deliveries by state and status
/// feedback; recent messages with each one's trace; dead letters with a redeliver button.
/// System administrators see everything; an agency administrator sees only what involves their
/// own agency (sent by it or addressed to it); everyone else is refused. Reads go through
/// HubService where it has them, otherwise read-only SQLKit queries on the `exchange_*` tables.
struct HubAdminController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let admin = routes.grouped(RequireSignInMiddleware()).grouped("admin", "hub")
        admin.get(use: overview)
        admin.get("messages", use: messages)
        admin.get("messages", ":id", use: trace)
        admin.get("dead-letters", use: deadLetters)
        admin.post("deliveries", ":id", "redeliver", use: redeliver)
    }

    static let forbidden = GovError("forbidden_hub", .forbidden,
                                    vi: "Bạn không có quyền xem trục liên thông của cơ quan này.",
                                    en: "You may not view this agency's document exchange.")

    static let perPage = 50
    /// How far back the status-feedback table looks.
    static let feedbackDays = 30

    /// nil: every agency (system administrators); otherwise the user's own agency, which its admin and
    /// clerks may look at (`acting`: only its admin may act on it).
    private func scope(_ req: Request, acting: Bool = false) async throws -> Agency? {
        let principal = try req.requirePrincipal()
        return try await req.agencies.scope(principal, asked: nil,
                                            allowed: acting ? AccessPolicy.canManageSystems : AccessPolicy.canViewExchange,
                                            refusal: Self.forbidden)
    }

    /// Whether the page may offer the redeliver button: the same rule `scope(_:acting:)` applies.
    private func mayAct(_ req: Request) -> Bool {
        guard let principal = req.principal else { return false }
        return principal.isSystemAdmin
            || principal.agencyID.map { AccessPolicy.canManageSystems(ofAgency: $0, principal) } == true
    }

    // MARK: Formatting

    static func time(_ millis: Int64?) -> String? {
        millis.map { DisplayTime.format(Date(timeIntervalSince1970: Double($0) / 1000)) }
    }

    static func percent(_ part: Int, of total: Int) -> String {
        guard total > 0 else { return "0" }
        return String(Int((Double(part) * 100 / Double(total)).rounded()))
    }

    private func kindLabel(_ req: Request, _ kind: String) -> String {
        ["document", "status"].contains(kind) ? req.t("hub.kind.\(kind)") : kind
    }

    private func businessLabel(_ req: Request, _ message: HubService.Message) -> String? {
        guard message.kind == "document" else { return nil }
        return (0...3).contains(message.businessType) ? req.t("hub.business.\(message.businessType)") : String(message.businessType)
    }

    private func stateLabel(_ req: Request, _ state: String) -> String {
        (HubService.deliveryStates + ["removed"]).contains(state) ? req.t("hub.state.\(state)") : state
    }

    private func statusDescription(_ req: Request, _ code: String?) -> String? {
        guard let code, let status = StatusCode(rawValue: code) else { return nil }
        return req.language == .vi ? status.officialDescription : status.englishDescription
    }

    // MARK: Scope in SQL

    /// Messages that involve `code`: sent by it or with a delivery to it.
    private static func messagesInvolving(_ code: String) -> SQLQueryString {
        "(sender_code = \(bind: code) OR id IN (SELECT message_id FROM exchange_deliveries WHERE recipient_code = \(bind: code)))"
    }

    // MARK: Overview

    struct SystemCell: Encodable {
        var systemID: String
        var active: Bool
        var webhook: String?
    }

    struct AgencyRow: Encodable {
        var code: String
        var name: String
        var systems: [SystemCell]
        var lastUsed: String?
    }

    struct CountRow: Encodable {
        var key: String
        var label: String
        var count: Int
    }

    struct FeedbackRow: Encodable {
        var code: String
        var name: String
        var received: Int
        var withStatus: Int
        var withStatusShare: String
        var reached: Int
        var reachedShare: String
    }

    struct OverviewBody: Encodable {
        var agencyCode: String?
        var agencies: [AgencyRow]
        var today: String
        var traffic: [CountRow]
        var trafficTotal: Int
        var deliveries: [CountRow]
        var feedbackDays: Int
        var feedback: [FeedbackRow]
    }

    @Sendable func overview(req: Request) async throws -> Response {
        let agency = try await scope(req)
        let code = agency?.code
        let sql = req.db.sql

        // Connected agencies: those with at least one system, with each system's webhook.
        let systems = try await req.systemCredentials.list(agency: agency)
        let agencies = try await req.agencies.agencies(ids: Set(systems.map { $0.$agency.id }))
        let hooks = try await req.webhooks.list(agency: code)
        let hookBySystem = Dictionary(hooks.map { ($0.systemId, $0.url) }, uniquingKeysWith: { _, last in last })
        var agencyRows: [AgencyRow] = []
        for item in agencies {
            let own = systems.filter { $0.$agency.id == item.id }
            agencyRows.append(AgencyRow(
                code: item.code, name: item.name,
                systems: own.map { SystemCell(systemID: $0.systemID, active: $0.isActive, webhook: hookBySystem[$0.systemID]) },
                lastUsed: own.compactMap(\.lastUsedAt).max().map { DisplayTime.format($0) }))
        }
        agencyRows.sort { $0.code < $1.code }

        // Messages accepted since midnight in Vietnam, by kind.
        let midnight = VietnamTime.calendar.startOfDay(for: Date())
        let midnightMs = Int64((midnight.timeIntervalSince1970 * 1000).rounded())
        var trafficQuery = sql.select().column("kind").column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from("exchange_messages").where("accepted_ms", .greaterThanOrEqual, midnightMs)
        if let code { trafficQuery = trafficQuery.where(Self.messagesInvolving(code)) }
        var trafficCounts: [String: Int] = [:]
        for row in try await trafficQuery.groupBy("kind").all() {
            trafficCounts[try row.decode(column: "kind", as: String.self)] = try row.decode(column: "n", as: Int.self)
        }
        let kinds = ["document", "status"] + trafficCounts.keys.filter { !["document", "status"].contains($0) }.sorted()
        let traffic = kinds.map { CountRow(key: $0, label: kindLabel(req, $0), count: trafficCounts[$0] ?? 0) }

        // Deliveries by state.
        let stateCounts = try await req.hub.deliveryCounts(involving: code)
        let states = HubService.deliveryStates + stateCounts.keys.filter { !HubService.deliveryStates.contains($0) }.sorted()
        let deliveries = states.map { CountRow(key: $0, label: stateLabel(req, $0), count: stateCounts[$0] ?? 0) }

        // Status feedback: of the documents each agency received in the window, how many have a
        // status at all, and how many were registered (03) or went further.
        let since = HubService.nowMillis() - Int64(Self.feedbackDays) * 86_400_000
        let agencyFilter: SQLQueryString = code.map { "AND p.agency_code = \(bind: $0)" } ?? ""
        let feedbackRows = try await sql.raw("""
            SELECT p.agency_code AS agency_code, COUNT(*) AS received,
                   SUM(CASE WHEN p.latest_status IS NOT NULL THEN 1 ELSE 0 END) AS with_status,
                   SUM(CASE WHEN p.progress IN ('03', '04', '05', '06') THEN 1 ELSE 0 END) AS reached
            FROM exchange_parties p JOIN exchange_messages m ON m.id = p.root_id
            WHERE m.accepted_ms >= \(bind: since) \(agencyFilter)
            GROUP BY p.agency_code ORDER BY p.agency_code
            """).all()
        var feedback: [FeedbackRow] = []
        for row in feedbackRows {
            let received = try row.decode(column: "received", as: Int.self)
            let withStatus = try row.decode(column: "with_status", as: Int?.self) ?? 0
            let reached = try row.decode(column: "reached", as: Int?.self) ?? 0
            feedback.append(FeedbackRow(
                code: try row.decode(column: "agency_code", as: String.self), name: "", received: received,
                withStatus: withStatus, withStatusShare: Self.percent(withStatus, of: received),
                reached: reached, reachedShare: Self.percent(reached, of: received)))
        }
        let names = try await agencyNames(req, Set(feedback.map(\.code)))
        for index in feedback.indices { feedback[index].name = names[feedback[index].code] ?? "" }

        let body = OverviewBody(agencyCode: code, agencies: agencyRows, today: String(DisplayTime.format(midnight).prefix(10)),
                                traffic: traffic, trafficTotal: traffic.reduce(0) { $0 + $1.count },
                                deliveries: deliveries, feedbackDays: Self.feedbackDays, feedback: feedback)
        return try await req.renderPage("admin/hub", title: "hub.title", body)
    }

    private func agencyNames(_ req: Request, _ codes: Set<String>) async throws -> [String: String] {
        try await req.agencies.summaries(codes: codes).mapValues(\.name)
    }

    // MARK: Messages

    struct MessageRow: Encodable {
        var id: String
        var seq: Int64
        var time: String
        var kind: String
        var businessType: String?
        var statusCode: String?
        var sender: String
        var documentId: String
        var subject: String?
        var recipients: String
        var size: Int64
    }

    struct MessagesBody: Encodable {
        var agencyCode: String?
        var q: String?
        var sender: String?
        var rows: [MessageRow]
        var pager: Pager
    }

    private func messageRow(_ req: Request, _ message: HubService.Message) -> MessageRow {
        MessageRow(id: message.id.uuidString.lowercased(), seq: message.seq, time: Self.time(message.acceptedMs) ?? "",
                   kind: kindLabel(req, message.kind), businessType: businessLabel(req, message),
                   statusCode: message.statusCode, sender: message.senderCode, documentId: message.documentId,
                   subject: message.subject, recipients: message.recipientCodes.joined(separator: ", "), size: message.size)
    }

    @Sendable func messages(req: Request) async throws -> Response {
        let code = try await scope(req)?.code
        let text = try req.queryText("q", maxLength: 200)
        let sender = try req.queryText("sender", maxLength: 64)
        let page = try req.queryInt("page", default: 1, range: 1...1_000_000)
        func filtered(_ builder: SQLSelectBuilder) -> SQLSelectBuilder {
            var builder = builder
            if let text {
                builder = builder.where(SQLBinaryExpression(
                    left: SQLFunction("LOWER", args: SQLColumn("document_id")), op: SQLRaw("LIKE"),
                    right: SQLQueryString("\(bind: SearchText.likePattern(containing: text)) ESCAPE '\(unsafeRaw: SearchText.likeEscape)'")))
            }
            if let sender { builder = builder.where("sender_code", .equal, sender) }
            if let code { builder = builder.where(Self.messagesInvolving(code)) }
            return builder
        }
        let sql = req.db.sql
        let total = try await filtered(sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
            .from("exchange_messages")).first()?.decode(column: "n", as: Int.self) ?? 0
        let found = try await filtered(sql.select().columns(HubService.Message.columns.map { SQLIdentifier($0) })
            .from("exchange_messages"))
            .orderBy("seq", .descending).limit(Self.perPage).offset((page - 1) * Self.perPage)
            .all(decoding: HubService.Message.self, keyDecodingStrategy: HubService.decodeKeys)
        let pager = Pager(path: "/admin/hub/messages", page: page, perPage: Self.perPage, total: total,
                          params: ["q": text, "sender": sender])
        return try await req.renderPage("admin/hub_messages", title: "hub.messages.title",
                                        MessagesBody(agencyCode: code, q: text, sender: sender,
                                                     rows: found.map { messageRow(req, $0) }, pager: pager))
    }

    // MARK: Trace

    struct DeliveryRow: Encodable {
        var id: String
        var recipient: String
        var state: String
        var stateLabel: String
        var attempts: Int
        var lastError: String?
        var ackReason: String?
        var created: String?
        var delivered: String?
        var acknowledged: String?
        var dead: String?
        var canRedeliver: Bool
    }

    struct StatusCell: Encodable {
        var id: String
        var code: String?
        var description: String?
        var time: String
    }

    struct MatrixRow: Encodable {
        var agency: String
        var deliveryState: String
        var progress: String?
        var latestStatus: String?
        var latestStatusTime: String?
        var pendingRequest: String?
        var active: Bool
        var revoked: Bool
        var statuses: [StatusCell]
    }

    /// One codec warning kept with the message: its stable code, a label in the page's language,
    /// where it is and what the codec said.
    struct WarningRow: Encodable {
        var code: String
        var label: String
        var path: String
        var message: String
    }

    struct TraceBody: Encodable {
        var id: String
        var seq: Int64
        var kind: String
        var businessType: String?
        var statusCode: String?
        var statusDescription: String?
        var sender: String
        var senderName: String?
        var system: String
        var documentId: String
        var subject: String?
        var recipients: String
        var sha256: String
        var size: Int64
        var accepted: String
        var settled: String?
        var purged: String?
        var rootId: String?
        var receipt: String
        var warnings: [WarningRow]
        var deliveries: [DeliveryRow]
        var matrixDocumentId: String
        var matrix: [MatrixRow]
        var related: [MessageRow]
    }

    private func uuidParameter(_ req: Request, notFound: GovError) throws -> UUID {
        guard let raw = req.parameters.get("id"), let id = UUID(uuidString: raw) else { throw notFound }
        return id
    }

    @Sendable func trace(req: Request) async throws -> Response {
        let code = try await scope(req)?.code
        let id = try uuidParameter(req, notFound: HubError.notFound)
        let hub = req.hub
        let message: HubService.Message
        if let code {
            message = try await hub.visibleMessage(id: id, agency: code)
        } else {
            guard let found = try await hub.message(id: id) else { throw HubError.notFound }
            message = found
        }
        let rootID = message.rootId ?? message.id
        let root = message.rootId == nil ? message : (try await hub.message(id: rootID) ?? message)
        // An agency that is not the document's sender sees only its own lines.
        let seesAll = code == nil || root.senderCode == code

        let mayAct = mayAct(req)
        var deliveries = try await hub.deliveries(of: message.id)
        if let code, message.senderCode != code { deliveries = deliveries.filter { $0.recipientCode == code } }
        let deliveryRows = deliveries.map { delivery in
            DeliveryRow(id: delivery.id.uuidString.lowercased(), recipient: delivery.recipientCode, state: delivery.state,
                        stateLabel: stateLabel(req, delivery.state), attempts: delivery.attempts, lastError: delivery.lastError,
                        ackReason: delivery.ackReason, created: Self.time(delivery.createdMs),
                        delivered: Self.time(delivery.deliveredMs), acknowledged: Self.time(delivery.acknowledgedMs),
                        dead: Self.time(delivery.deadMs),
                        canRedeliver: mayAct && delivery.state == "dead" && (code == nil || message.senderCode == code))
        }

        // The document's matrix (none if its root is gone under retention).
        let lines: [HubService.RecipientHistory]
        do {
            lines = try await hub.history(id: rootID, agency: nil).1
        } catch let error as GovError where error.code == HubError.notFound.code {
            lines = []
        }
        let matrix = lines.filter { seesAll || $0.agency == code }.map { line in
            let state = line.delivery?.state ?? (line.party?.active == false ? "removed" : "pending")
            return MatrixRow(
                agency: line.agency, deliveryState: stateLabel(req, state), progress: line.party?.progress,
                latestStatus: line.party?.latestStatus, latestStatusTime: Self.time(line.party?.latestStatusMs),
                pendingRequest: line.party?.pendingRequest, active: line.party?.active ?? true,
                revoked: line.party?.revoked ?? false,
                statuses: line.statuses.map {
                    StatusCell(id: $0.id.uuidString.lowercased(), code: $0.statusCode,
                               description: statusDescription(req, $0.statusCode), time: Self.time($0.acceptedMs) ?? "")
                })
        }

        var related = try await req.db.sql.select().columns(HubService.Message.columns.map { SQLIdentifier($0) })
            .from("exchange_messages")
            .where("root_id", .equal, rootID).orWhere("id", .equal, rootID)
            .orderBy("seq").limit(500)
            .all(decoding: HubService.Message.self, keyDecodingStrategy: HubService.decodeKeys)
        related.removeAll { $0.id == message.id }
        if let code { related = related.filter { $0.senderCode == code || $0.recipientCodes.contains(code) } }

        let receipt = try await hub.receipt(id: message.id, agency: nil).json
        let names = try await agencyNames(req, [message.senderCode])
        let body = TraceBody(
            id: message.id.uuidString.lowercased(), seq: message.seq, kind: kindLabel(req, message.kind),
            businessType: businessLabel(req, message), statusCode: message.statusCode,
            statusDescription: statusDescription(req, message.statusCode), sender: message.senderCode,
            senderName: names[message.senderCode], system: message.senderSystem, documentId: message.documentId,
            subject: message.subject, recipients: message.recipientCodes.joined(separator: ", "), sha256: message.sha256,
            size: message.size, accepted: Self.time(message.acceptedMs) ?? "", settled: Self.time(message.settledMs),
            purged: Self.time(message.purgedMs),
            rootId: message.rootId.map { $0.uuidString.lowercased() }, receipt: Self.pretty(receipt),
            warnings: message.warningIssues.map { issue in
                let key = "edxml.warning.\(issue.code)"
                let label = req.t(key)
                return WarningRow(code: issue.code, label: label == key ? issue.code : label, path: issue.path,
                                  message: req.language == .vi ? issue.vi : issue.en)
            },
            deliveries: deliveryRows, matrixDocumentId: root.documentId, matrix: matrix,
            related: related.map { messageRow(req, $0) })
        return try await req.renderPage("admin/hub_message", title: "hub.trace.title", body)
    }

    /// The receipt with indentation, for reading; the signed bytes are the API's business.
    static func pretty(_ json: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)),
              let data = try? JSONSerialization.data(withJSONObject: object,
                                                     options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]),
              let text = String(data: data, encoding: .utf8) else { return json }
        return text
    }

    // MARK: Dead letters

    struct DeadRow: Encodable {
        var deliveryId: String
        var messageId: String
        var sender: String
        var recipient: String
        var documentId: String
        var attempts: Int
        var lastError: String?
        var dead: String?
    }

    struct DeadBody: Encodable {
        var agencyCode: String?
        var rows: [DeadRow]
        var canRedeliver: Bool
    }

    @Sendable func deadLetters(req: Request) async throws -> Response {
        let code = try await scope(req)?.code
        let letters = try await req.hub.deadLetters(sender: code)
        let rows = letters.map {
            DeadRow(deliveryId: $0.deliveryId.uuidString.lowercased(), messageId: $0.messageId.uuidString.lowercased(),
                    sender: $0.senderCode, recipient: $0.recipientCode, documentId: $0.documentId, attempts: $0.attempts,
                    lastError: $0.lastError, dead: Self.time($0.deadMs))
        }
        return try await req.renderPage("admin/hub_dead_letters", title: "hub.dead.title", DeadBody(agencyCode: code, rows: rows, canRedeliver: mayAct(req)))
    }

    struct RedeliverForm: Content {
        var returnTo: String?
        enum CodingKeys: String, CodingKey { case returnTo = "return_to" }
    }

    @Sendable func redeliver(req: Request) async throws -> Response {
        let code = try await scope(req, acting: true)?.code
        let deliveryID = try uuidParameter(req, notFound: HubError.deliveryNotFound)
        let form = try? req.content.decode(RedeliverForm.self)
        // The service refuses a delivery that is on its way or done, and another agency's.
        let delivery = try await req.hub.redeliver(deliveryID: deliveryID, sender: code, actor: req.auditActor)
        req.application.inboxSignal.notify([delivery.recipientCode])
        req.flash("success", "hub.flash.redelivered", ["recipient": delivery.recipientCode])
        if form?.returnTo == "trace" {
            return req.redirect(to: "/admin/hub/messages/\(delivery.messageId.uuidString.lowercased())")
        }
        return req.redirect(to: "/admin/hub/dead-letters")
    }
}
