import Foundation
import GovCore
import NIOCore
import Vapor

/// The hub's HTTP API for agency systems (`docs/openapi.yaml`): submit, inbox with long-poll,
/// fetch, acknowledge, history, receipt, webhooks, dead letters. Every call is authenticated with
/// the agency system's machine credentials.
struct HubAPIController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let exchange = routes.grouped("exchange").grouped(SystemAuthMiddleware())
        // The body is streamed so the hub's own limit (not the global one) decides, with its own code.
        exchange.on(.POST, "messages", body: .stream, use: submit)
        exchange.get("inbox", use: inbox)
        exchange.get("messages", ":id", use: fetch)
        exchange.post("messages", ":id", "ack", use: acknowledge)
        exchange.get("messages", ":id", "history", use: history)
        exchange.get("messages", ":id", "receipt", use: receipt)
        exchange.post("webhooks", use: registerWebhook)
        exchange.get("webhooks", use: webhooks)
        exchange.delete("webhooks", ":id", use: deleteWebhook)
        exchange.get("dead-letters", use: deadLetters)
        exchange.post("deliveries", ":id", "redeliver", use: redeliver)
    }

    private static let xmlTypes: Set<String> = ["application/xml", "text/xml", "application/octet-stream"]

    private func caller(_ req: Request) throws -> SystemCredentials.Caller {
        guard let caller = req.systemCaller else { throw SystemCredentials.missing }
        return caller
    }

    private func id(_ req: Request, _ name: String = "id", notFound: GovError = HubError.notFound) throws -> UUID {
        guard let raw = req.parameters.get(name), let id = UUID(uuidString: raw) else { throw notFound }
        return id
    }

    // MARK: Submit

    struct SubmitResponse: Content {
        var message_id: String
        var duplicate: Bool
        var kind: String
        var business_type: Int
        var document_id: String
        var status_code: String?
        var recipients: [String]
        var sha256: String
        var size: Int64
        var accepted_at: String
        var receipt_url: String
    }

    @Sendable func submit(req: Request) async throws -> Response {
        let metrics = req.application.hubMetrics
        do {
            let caller = try caller(req)
            if let type = req.headers.contentType, !Self.xmlTypes.contains("\(type.type)/\(type.subType)".lowercased()) {
                throw HubError.unsupportedMediaType
            }
            let limit = req.application.govConfig.hub.maxMessageBytes
            if let length = req.headers.first(name: .contentLength).flatMap(Int.init), length > limit {
                throw HubError.tooLarge(limit: limit)
            }
            let body: ByteBuffer
            do {
                body = try await req.body.collect(upTo: limit)
            } catch let error as NIOTooManyBytesError {
                _ = error
                throw HubError.tooLarge(limit: limit)
            }
            let accepted = try await req.hub.submit(Data(buffer: body), caller: caller, requestID: req.id)
            let message = accepted.message
            let response = SubmitResponse(
                message_id: message.id.apiString, duplicate: accepted.duplicate, kind: message.kind, business_type: message.businessType,
                document_id: message.documentId, status_code: message.statusCode, recipients: message.recipientCodes,
                sha256: message.sha256, size: message.size, accepted_at: HubTime.iso(message.acceptedMs),
                receipt_url: "/api/v1/exchange/messages/\(message.id.apiString)/receipt")
            return try await response.encodeResponse(status: accepted.duplicate ? .ok : .created, for: req)
        } catch let error as GovError {
            metrics.refused(reason: error.code)
            throw error
        }
    }

    // MARK: Inbox

    struct InboxQuery: Content {
        var type: String?
        var limit: Int?
        var wait: Int?
    }

    struct InboxEntry: Content {
        var message_id: String
        var kind: String
        var business_type: Int
        var sender: String
        var document_id: String
        var status_code: String?
        var subject: String?
        var size: Int64
        var accepted_at: String
        var sequence: Int64
        var attempts: Int
    }

    struct Items<T: Content>: Content {
        var items: [T]
    }

    @Sendable func inbox(req: Request) async throws -> Items<InboxEntry> {
        let caller = try caller(req)
        let query: InboxQuery
        do {
            query = try req.query.decode(InboxQuery.self)
        } catch {
            throw GovError("inbox_query_invalid", .invalid, vi: "Tham số type/limit/wait không hợp lệ.",
                           en: "The type, limit or wait parameter is not valid.")
        }
        if let type = query.type, !["document", "status"].contains(type) {
            throw GovError("inbox_query_invalid", .invalid, vi: "type phải là document hoặc status.",
                           en: "type must be document or status.")
        }
        let limit = query.limit ?? 100
        let wait = query.wait ?? 0
        guard (1...500).contains(limit), (0...60).contains(wait) else {
            throw GovError("inbox_query_invalid", .invalid, vi: "limit phải trong 1–500 và wait trong 0–60 giây.",
                           en: "limit must be 1–500 and wait 0–60 seconds.")
        }
        let items = try await req.hub.inbox(agency: caller.agency.code, kind: query.type, limit: limit, wait: .seconds(wait))
        return Items(items: items.map {
            InboxEntry(message_id: $0.messageId.apiString, kind: $0.kind, business_type: $0.businessType, sender: $0.senderCode,
                       document_id: $0.documentId, status_code: $0.statusCode, subject: $0.subject, size: $0.size,
                       accepted_at: HubTime.iso($0.acceptedMs), sequence: $0.seq, attempts: $0.attempts)
        })
    }

    // MARK: Fetch and acknowledge

    @Sendable func fetch(req: Request) async throws -> Response {
        let caller = try caller(req)
        let (message, payload) = try await req.hub.fetch(id: try id(req), agency: caller.agency.code)
        var headers = HTTPHeaders()
        headers.contentType = .xml
        headers.add(name: "X-Message-Id", value: message.id.apiString)
        headers.add(name: "X-Message-Sha256", value: message.sha256)
        headers.add(name: "X-Message-Sequence", value: String(message.seq))
        return Response(status: .ok, headers: headers, body: .init(data: payload))
    }

    struct AckRequest: Content {
        var outcome: String
        var reason: String?
    }

    struct AckResponse: Content {
        var message_id: String
        var state: String
        var acknowledged_at: String?
    }

    @Sendable func acknowledge(req: Request) async throws -> AckResponse {
        let caller = try caller(req)
        let messageID = try id(req)
        let body: AckRequest
        do {
            body = try req.content.decode(AckRequest.self)
        } catch {
            throw HubError.ackInvalid(vi: "Cần JSON {\"outcome\": \"done\"} hoặc {\"outcome\": \"failed\", \"reason\": \"…\"}.",
                                      en: "Send JSON {\"outcome\": \"done\"} or {\"outcome\": \"failed\", \"reason\": \"…\"}.")
        }
        // The documented limit (maxLength 2000, counted in code points as JSON Schema counts) holds
        // for every outcome: a `done` with an oversized reason is as malformed as a `failed` one.
        if let raw = body.reason, raw.unicodeScalars.count > 2000 {
            throw HubError.ackInvalid(vi: "Lý do tối đa 2000 ký tự.", en: "The reason is at most 2000 characters.")
        }
        let reason = body.reason?.trimmingCharacters(in: .whitespacesAndNewlines)
        switch body.outcome {
        case "done":
            break
        case "failed":
            guard let reason, !reason.isEmpty else {
                throw HubError.ackInvalid(vi: "Báo lỗi (failed) phải kèm lý do (tối đa 2000 ký tự).",
                                          en: "A failed acknowledgement needs a reason (at most 2000 characters).")
            }
        default:
            throw HubError.ackInvalid(vi: "outcome phải là done hoặc failed.", en: "outcome must be done or failed.")
        }
        let delivery = try await req.hub.acknowledge(id: messageID, agency: caller.agency.code,
                                                     failed: body.outcome == "failed" ? reason : nil)
        return AckResponse(message_id: messageID.apiString, state: delivery.state, acknowledged_at: HubTime.iso(delivery.acknowledgedMs))
    }

    // MARK: History and receipt

    struct StatusEntry: Content {
        var code: String?
        var at: String
        var description: String?
        var message_id: String
    }

    struct RecipientEntry: Content {
        var agency: String
        var delivery_state: String
        var delivered_at: String?
        var acknowledged_at: String?
        var attempts: Int
        var last_error: String?
        var latest_status: String?
        var latest_status_at: String?
        var statuses: [StatusEntry]
    }

    struct HistoryResponse: Content {
        var message_id: String
        var document_id: String
        var accepted_at: String
        var business_type: Int
        var recipients: [RecipientEntry]
    }

    @Sendable func history(req: Request) async throws -> HistoryResponse {
        let caller = try caller(req)
        let (message, lines) = try await req.hub.history(id: try id(req), agency: caller.agency.code)
        return Self.historyResponse(message, lines)
    }

    static func historyResponse(_ message: HubService.Message, _ lines: [HubService.RecipientHistory]) -> HistoryResponse {
        HistoryResponse(
            message_id: message.id.apiString, document_id: message.documentId, accepted_at: HubTime.iso(message.acceptedMs),
            business_type: message.businessType,
            recipients: lines.map { line in
                RecipientEntry(
                    agency: line.agency,
                    delivery_state: line.delivery?.state ?? (line.party?.active == false ? "removed" : "pending"),
                    delivered_at: HubTime.iso(line.delivery?.deliveredMs), acknowledged_at: HubTime.iso(line.delivery?.acknowledgedMs),
                    attempts: line.delivery?.attempts ?? 0, last_error: line.delivery?.lastError,
                    latest_status: line.party?.latestStatus, latest_status_at: HubTime.iso(line.party?.latestStatusMs),
                    statuses: line.statuses.map {
                        StatusEntry(code: $0.statusCode, at: HubTime.iso($0.acceptedMs), description: $0.subject, message_id: $0.id.apiString)
                    })
            })
    }

    struct ReceiptResponse: Content {
        var receipt: HubService.Receipt
        var receipt_json: String
        var signature_cms: String
        var certificate_pem: String
    }

    @Sendable func receipt(req: Request) async throws -> ReceiptResponse {
        let caller = try caller(req)
        let (json, cms) = try await req.hub.receipt(id: try id(req), agency: caller.agency.code)
        let parsed = try JSONDecoder().decode(HubService.Receipt.self, from: Data(json.utf8))
        return ReceiptResponse(receipt: parsed, receipt_json: json, signature_cms: cms.base64EncodedString(),
                               certificate_pem: try req.application.hubSeal().chainPEM)
    }

    // MARK: Webhooks

    struct WebhookRequest: Content {
        var url: String
        var secret: String
    }

    struct WebhookResponse: Content {
        var id: String
        var url: String
        var created_at: String
    }

    @Sendable func registerWebhook(req: Request) async throws -> Response {
        let caller = try caller(req)
        let body: WebhookRequest
        do {
            body = try req.content.decode(WebhookRequest.self)
        } catch {
            throw HubError.webhookInvalid(vi: "Cần JSON {\"url\": \"https://…\", \"secret\": \"…\"}.",
                                          en: "Send JSON {\"url\": \"https://…\", \"secret\": \"…\"}.")
        }
        let hook = try await req.webhooks.register(url: body.url, secret: body.secret, caller: caller, actor: req.systemActor,
                                                   addressGuard: req.application.webhookGuard)
        return try await WebhookResponse(id: hook.id.apiString, url: hook.url, created_at: HubTime.iso(hook.createdMs))
            .encodeResponse(status: .created, for: req)
    }

    @Sendable func webhooks(req: Request) async throws -> Items<WebhookResponse> {
        let caller = try caller(req)
        let hooks = try await req.webhooks.list(agency: caller.agency.code)
        return Items(items: hooks.map { WebhookResponse(id: $0.id.apiString, url: $0.url, created_at: HubTime.iso($0.createdMs)) })
    }

    @Sendable func deleteWebhook(req: Request) async throws -> HTTPStatus {
        let caller = try caller(req)
        let notFound = GovError("webhook_not_found", .notFound, vi: "Không tìm thấy webhook.", en: "No such webhook.")
        try await req.webhooks.delete(id: try id(req, notFound: notFound), agency: caller.agency.code, actor: req.systemActor)
        return .noContent
    }

    // MARK: Dead letters

    struct DeadLetterEntry: Content {
        var delivery_id: String
        var message_id: String
        var recipient: String
        var attempts: Int
        var last_error: String?
        var dead_at: String?
    }

    @Sendable func deadLetters(req: Request) async throws -> Items<DeadLetterEntry> {
        let caller = try caller(req)
        let letters = try await req.hub.deadLetters(sender: caller.agency.code)
        return Items(items: letters.map {
            DeadLetterEntry(delivery_id: $0.deliveryId.apiString, message_id: $0.messageId.apiString, recipient: $0.recipientCode,
                            attempts: $0.attempts, last_error: $0.lastError, dead_at: HubTime.iso($0.deadMs))
        })
    }

    struct RedeliverResponse: Content {
        var delivery_id: String
        var state: String
    }

    @Sendable func redeliver(req: Request) async throws -> RedeliverResponse {
        let caller = try caller(req)
        let deliveryID = try id(req, notFound: HubError.deliveryNotFound)
        let delivery = try await req.hub.redeliver(deliveryID: deliveryID, sender: caller.agency.code, actor: req.systemActor)
        req.application.inboxSignal.notify([delivery.recipientCode])
        return RedeliverResponse(delivery_id: delivery.id.apiString, state: delivery.state)
    }
}

extension UUID {
    /// An id as the API spells it, in JSON bodies and headers alike: lower case (docs/openapi.yaml).
    /// Foundation's `Codable` would write `uuidString`, which is upper case.
    var apiString: String { uuidString.lowercased() }
}

extension Request {
    /// The audit actor of a machine-to-machine call.
    var systemActor: AuditActor {
        guard let caller = systemCaller else { return auditActor }
        return AuditActor(label: "system:\(caller.system.systemID)", agencyCode: caller.agency.code, ip: clientIP, requestID: id)
    }
}
