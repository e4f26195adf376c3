import AsyncHTTPClient
import ExchangeClient
import Fluent
import Foundation
import GovCore
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SQLKit
import Vapor

/// Webhooks registered by agency systems: where the hub pushes their messages.
struct WebhookStore: Sendable {
    let db: any Database
    /// Seals the secrets: the table holds them sealed to their row, never in clear.
    let vault: SecretsVault

    struct Hook: Codable, Sendable {
        var id: UUID
        var agencyCode: String
        var systemId: String
        var url: String
        /// Sealed (`SecretsVault`); the dispatcher opens it for each push.
        var secret: String
        var createdMs: Int64
    }

    /// Registers (or replaces) the webhook of the calling system, if `addressGuard` accepts where its
    /// host resolves to now (checked again at every push).
    func register(url raw: String, secret: String, caller: SystemCredentials.Caller, actor: AuditActor,
                  addressGuard: WebhookAddressGuard) async throws -> Hook {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.count <= 2000, let url = URL(string: text), let scheme = url.scheme?.lowercased(),
              ["http", "https"].contains(scheme), let host = url.host, !host.isEmpty else {
            throw HubError.webhookInvalid(vi: "URL webhook phải là địa chỉ http(s) đầy đủ.",
                                          en: "The webhook URL must be a full http(s) address.")
        }
        guard (16...256).contains(secret.count) else {
            throw HubError.webhookInvalid(vi: "Khóa bí mật webhook phải dài 16–256 ký tự.",
                                          en: "The webhook secret must be 16–256 characters long.")
        }
        if case .failure(let refusal) = await addressGuard.check(url) { throw refusal.error }
        let id = UUID()
        let hook = Hook(id: id, agencyCode: caller.agency.code, systemId: caller.system.systemID, url: text,
                        secret: try await vault.seal(secret, .webhookSecret, id: id, on: db), createdMs: HubService.nowMillis())
        try await db.atomically { tx in
            try await tx.sql.delete(from: "exchange_webhooks").where("system_id", .equal, hook.systemId).run()
            try await tx.sql.insert(into: "exchange_webhooks")
                .columns("id", "agency_code", "system_id", "url", "secret", "created_ms")
                .values(SQLBind(hook.id), SQLBind(hook.agencyCode), SQLBind(hook.systemId), SQLBind(hook.url),
                        SQLBind(hook.secret), SQLBind(hook.createdMs))
                .run()
            try await AuditLog.append("exchange.webhook.register", entity: "exchange_webhook", id: hook.id.uuidString.lowercased(),
                                      details: ["url": hook.url], agencyCode: hook.agencyCode, by: actor, on: tx)
        }
        return hook
    }

    func list(agency: String?) async throws -> [Hook] {
        var query = db.sql.select().column("*").from("exchange_webhooks")
        if let agency { query = query.where("agency_code", .equal, agency) }
        return try await query.orderBy("created_ms").all(decoding: Hook.self, keyDecodingStrategy: HubService.decodeKeys)
    }

    func delete(id: UUID, agency: String, actor: AuditActor) async throws {
        try await db.atomically { tx in
            let found = try await tx.sql.select().column("id").from("exchange_webhooks")
                .where("id", .equal, id).where("agency_code", .equal, agency).first()
            guard found != nil else {
                throw GovError("webhook_not_found", .notFound, vi: "Không tìm thấy webhook.", en: "No such webhook.")
            }
            try await tx.sql.delete(from: "exchange_webhooks").where("id", .equal, id).run()
            try await AuditLog.append("exchange.webhook.delete", entity: "exchange_webhook", id: id.uuidString.lowercased(),
                                      agencyCode: agency, by: actor, on: tx)
        }
    }
}

extension Request {
    var webhooks: WebhookStore { WebhookStore(db: db, vault: application.secrets) }
}

/// Pushes waiting deliveries to the recipients' webhooks. Each round claims, per recipient, the
/// oldest waiting delivery that is due (so a recipient gets its messages in acceptance order),
/// leases it for a minute by moving its next attempt, and POSTs it. A 2xx acknowledges it; a
/// failure schedules the next attempt with exponential back-off and jitter, until the configured
/// age, after which the delivery is dead. On PostgreSQL the claim uses `FOR UPDATE SKIP LOCKED`, so
/// several nodes share the work without pushing one delivery twice at the same time.
final class WebhookDispatcher: LifecycleHandler, Sendable {
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)
    static let lease: Int64 = 60_000

    func didBoot(_ application: Application) throws {
        guard application.govConfig.hub.workers else { return }
        let work = Task {
            while !Task.isCancelled {
                let pushed = await Self.round(application)
                if pushed == 0 {
                    await application.inboxSignal.wait(for: InboxSignal.anyAgency, timeout: .milliseconds(500))
                }
            }
        }
        task.withLockedValue { $0 = work }
    }

    func shutdown(_ application: Application) {
        task.withLockedValue { $0?.cancel(); $0 = nil }
    }

    /// Waits for the round in flight, so that nothing touches the application after it is gone.
    func shutdownAsync(_ application: Application) async {
        let running = task.withLockedValue { task -> Task<Void, Never>? in
            defer { task = nil }
            return task
        }
        running?.cancel()
        await running?.value
    }

    struct Claimed: Decodable, Sendable {
        var id: UUID
        var messageId: UUID
        var recipientCode: String
        var seq: Int64
        var kind: String
        var attempts: Int
        var createdMs: Int64
        var webhookId: UUID
        var url: String
        /// Sealed; opened just before the push.
        var secret: String
    }

    /// One pass: returns how many deliveries were attempted.
    @discardableResult
    static func round(_ app: Application, limit: Int = 16) async -> Int {
        let claimed: [Claimed]
        do {
            claimed = try await claim(app, limit: limit)
        } catch {
            app.logger.warning("webhook claim failed: \(String(reflecting: error))")
            return 0
        }
        await withTaskGroup(of: Void.self) { group in
            for delivery in claimed {
                group.addTask { await push(delivery, app: app) }
            }
        }
        return claimed.count
    }

    private static func claim(_ app: Application, limit: Int) async throws -> [Claimed] {
        let now = HubService.nowMillis()
        let postgres = app.govConfig.database.isPostgres
        return try await app.db.atomically { tx -> [Claimed] in
            // The oldest waiting delivery of each recipient that has a webhook; later ones wait
            // behind it so the order holds.
            let rows = try await tx.sql.raw("""
                SELECT d.id, d.message_id, d.recipient_code, d.seq, d.kind, d.attempts, d.created_ms, w.id AS webhook_id, w.url, w.secret
                FROM exchange_deliveries d
                JOIN exchange_webhooks w ON w.agency_code = d.recipient_code
                WHERE d.state IN ('pending', 'delivered') AND d.next_attempt_ms <= \(bind: now)
                AND NOT EXISTS (SELECT 1 FROM exchange_deliveries e WHERE e.recipient_code = d.recipient_code
                                AND e.state IN ('pending', 'delivered') AND e.seq < d.seq)
                ORDER BY d.seq LIMIT \(bind: limit)
                \(unsafeRaw: postgres ? "FOR UPDATE OF d SKIP LOCKED" : "")
                """).all(decoding: Claimed.self, keyDecodingStrategy: HubService.decodeKeys)
            var seen = Set<String>()
            let unique = rows.filter { seen.insert($0.recipientCode).inserted }
            for row in unique {
                try await tx.sql.update("exchange_deliveries").set("next_attempt_ms", to: now + lease)
                    .where("id", .equal, row.id).run()
            }
            return unique
        }
    }

    private static func push(_ delivery: Claimed, app: Application) async {
        let hub = HubService(app: app)
        let settings = app.govConfig.hub
        var outcome: String?
        do {
            guard let payload = try await hub.payload(of: delivery.messageId) else {
                outcome = "payload purged"
                try await finish(delivery, error: outcome, dead: true, app: app)
                return
            }
            let secret = try await app.secrets.open(delivery.secret, .webhookSecret, id: delivery.webhookId, on: app.db)
            outcome = await send(payload, of: delivery, secret: secret, app: app)
        } catch {
            app.logger.warning("webhook push of \(delivery.id) failed: \(String(reflecting: error))")
            outcome = "webhook_push_failed"
        }
        do {
            let age = HubService.nowMillis() - delivery.createdMs
            let dead = outcome != nil && age >= Int64(settings.webhookMaxAgeSeconds) * 1000
            try await finish(delivery, error: outcome, dead: dead, app: app)
            if outcome == nil, let message = try? await hub.message(id: delivery.messageId) {
                app.hubMetrics.deliveryLatency(Double(HubService.nowMillis() - message.acceptedMs) / 1000)
            }
        } catch {
            app.logger.warning("webhook outcome not recorded: \(String(reflecting: error))")
        }
    }

    /// POSTs `payload` to the delivery's webhook; nil when it answered 2xx, else what the sender and
    /// the recipient see as the delivery's last error: a stable category (`webhook_address_private`,
    /// `webhook_timeout`, `HTTP 503`, …), never the raw connection error, which goes to the log.
    ///
    /// The host is resolved and checked again now (it may point elsewhere than at registration), and
    /// the connection goes to the checked address while the Host header and TLS name stay the URL's
    /// host; redirects are not followed, so a receiver cannot send the hub on to a refused address.
    private static func send(_ payload: Data, of delivery: Claimed, secret: String, app: Application) async -> String? {
        guard let url = URL(string: delivery.url) else { return "webhook_invalid" }
        let target: WebhookAddressGuard.Target
        switch await app.webhookGuard.check(url) {
        case .success(let checked): target = checked
        case .failure(let refusal): return refusal.code
        }
        let timestamp = Int(Date().timeIntervalSince1970)
        let envelope = WebhookSignature.Envelope(messageID: delivery.messageId.uuidString.lowercased(), kind: delivery.kind,
                                                 sequence: String(delivery.seq))
        var request = HTTPClientRequest(url: delivery.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/xml")
        request.headers.add(name: "User-Agent", value: "GovOffice-Hub/1.0")
        request.headers.add(name: WebhookSignature.messageIDHeader, value: envelope.messageID)
        request.headers.add(name: WebhookSignature.sequenceHeader, value: envelope.sequence)
        request.headers.add(name: WebhookSignature.kindHeader, value: envelope.kind)
        request.headers.add(name: WebhookSignature.timestampHeader, value: String(timestamp))
        request.headers.add(name: WebhookSignature.signatureHeader,
                            value: WebhookSignature.sign(body: payload, secret: secret, timestamp: timestamp, envelope: envelope))
        request.body = .bytes(ByteBuffer(data: payload))

        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: pushTimeout)
        if !target.isLiteral { configuration.dnsOverride = [target.host: target.address.description] }
        // One client per push: the pinned address is part of the client's configuration.
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let outcome: String?
        do {
            let deadline = NIODeadline.now() + pushTimeout
            let response = try await client.execute(request, deadline: deadline)
            await drain(response, before: deadline)
            switch Int(response.status.code) {
            case 200..<300: outcome = nil
            case 300..<400: outcome = WebhookAddressGuard.refusal("redirect").code
            default: outcome = "HTTP \(response.status.code)"
            }
        } catch {
            app.logger.info("webhook push to \(target.host) (\(target.address)) failed: \(String(reflecting: error))")
            outcome = category(of: error)
        }
        try? await client.shutdown()
        return outcome
    }

    /// The stable name of a failed connection.
    static func category(of error: any Error) -> String {
        if let client = error as? HTTPClientError,
           [HTTPClientError.deadlineExceeded, .connectTimeout, .readTimeout].contains(client) {
            return "webhook_timeout"
        }
        if String(reflecting: type(of: error)).contains("SSL") { return "webhook_tls_failed" }
        return "webhook_connection_failed"
    }

    /// How long one push may take, answer body included; well under `lease`.
    static let pushTimeout: TimeAmount = .seconds(10)

    /// Reads (and drops) the answer's body, giving up at `deadline`. `execute`'s deadline covers only
    /// the answer's head, and the client's read timeout is 90 s: a receiver that sends its head and
    /// then stalls would otherwise keep the push going past its lease, and another node would claim
    /// the delivery and push it again while the first push is still open.
    private static func drain(_ response: HTTPClientResponse, before deadline: NIODeadline) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = try? await response.body.collect(upTo: 64 * 1024) }
            group.addTask {
                let left = (deadline - NIODeadline.now()).nanoseconds
                if left > 0 { try? await Task.sleep(nanoseconds: UInt64(left)) }
            }
            await group.next()
            group.cancelAll()  // cancelling the read closes the connection
        }
    }

    /// The delay before attempt `attempts + 1`: base × 2^attempts, capped at an hour, with ±25 % jitter
    /// so that many failing deliveries do not retry in step.
    static func backoff(attempts: Int, baseMillis: Int) -> Int64 {
        let exponent = min(attempts, 20)
        let raw = min(Double(baseMillis) * pow(2, Double(exponent)), 3_600_000)
        return Int64(raw * Double.random(in: 0.75...1.25))
    }

    private static func finish(_ delivery: Claimed, error: String?, dead: Bool, app: Application) async throws {
        let now = HubService.nowMillis()
        try await app.db.atomically { tx in
            var update = tx.sql.update("exchange_deliveries").set("attempts", to: delivery.attempts + 1)
            if let error {
                update = update.set("last_error", to: error)
                if dead {
                    update = update.set("state", to: "dead").set("dead_ms", to: now)
                } else {
                    update = update.set("next_attempt_ms",
                                        to: now + backoff(attempts: delivery.attempts, baseMillis: app.govConfig.hub.webhookBaseDelayMillis))
                }
            } else {
                update = update.set("state", to: "acknowledged").set("acknowledged_ms", to: now).set("delivered_ms", to: now)
                    .set("last_error", to: SQLLiteral.null)
            }
            // Only a delivery still waiting is changed: an acknowledgement by pull wins.
            try await update.where("id", .equal, delivery.id).where("state", .in, ["pending", "delivered"]).run()
            if error == nil || dead {
                try await HubService(app: app, db: tx).settleIfDone(message: delivery.messageId, now: now, on: tx)
            }
        }
    }
}
