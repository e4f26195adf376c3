import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// The agency side of the document-exchange hub (trục liên thông văn bản): submit edXML messages,
/// read the inbox (with long-poll), download and acknowledge, follow deliveries, manage the push
/// webhook and dead letters.
///
/// Every call sends `X-SystemId`, `X-SecretKey`, `Accept` and `User-Agent`, and fails only with
/// `ExchangeClientError`. The client holds no mutable state and is safe to share between tasks.
///
/// An unreachable hub fails with `transport_failed` only when `timeout` expires: AsyncHTTPClient keeps
/// retrying a refused connection until the call's deadline.
///
/// Redirects follow the given `HTTPClient`'s configuration; AsyncHTTPClient keeps custom headers
/// (the secret) on cross-origin redirects, so pass a client with `redirectConfiguration: .disallow`
/// if the hub address is not fully trusted.
public final class ExchangeClient: Sendable {
    /// The hub's base URL (paths such as `/api/v1/exchange/inbox` are appended to it).
    public let hub: URL
    /// The time limit of each call; inbox long-polls add their `wait` to it.
    public let timeout: Duration
    /// The largest message `fetch` accepts, so a broken or hostile hub cannot exhaust memory.
    public let maxDownloadBytes: Int

    let credentials: HubCredentials
    let httpClient: HTTPClient
    private let base: String
    private let configurationError: ExchangeClientError?

    /// The `User-Agent` sent on every call, so hub operators can tell client versions apart.
    public static let userAgent = "GovOffice-ExchangeClient/1.0"

    /// JSON answers are small (500 inbox items at most); anything far larger is not the hub talking.
    static let maxJSONBytes = 16 * 1024 * 1024
    /// Error bodies are read only this far: enough for the hub's body or a proxy's page.
    static let maxErrorBytes = 64 * 1024
    /// Upload chunk size: small enough for smooth progress, large enough for throughput.
    static let uploadChunkBytes = 256 * 1024

    /// A client for the hub at `hub` (an `http` or `https` URL, optionally with a path prefix).
    /// An unusable URL is not a crash: every call then fails with `request_invalid`.
    public init(hub: URL, credentials: HubCredentials, httpClient: HTTPClient = .shared,
                timeout: Duration = .seconds(60), maxDownloadBytes: Int = 512 * 1024 * 1024) {
        self.hub = hub
        self.credentials = credentials
        self.httpClient = httpClient
        self.timeout = timeout > .zero ? timeout : .seconds(60)
        self.maxDownloadBytes = max(0, maxDownloadBytes)
        var text = hub.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        self.base = text
        let scheme = hub.scheme?.lowercased() ?? ""
        if (scheme == "http" || scheme == "https"), let host = hub.host, !host.isEmpty, hub.query == nil, hub.fragment == nil {
            configurationError = nil
        } else {
            configurationError = .requestInvalid(
                vi: "Địa chỉ trục liên thông phải là URL http(s) tuyệt đối, không có truy vấn: \(hub.absoluteString.prefix(200))",
                en: "The hub URL must be an absolute http(s) URL without a query: \(hub.absoluteString.prefix(200))")
        }
    }

    /// A client configured from `GOVOFFICE_HUB_URL`, `GOVOFFICE_SYSTEM_ID` and
    /// `GOVOFFICE_SECRET_KEY`; nil when any of them is missing or the URL is not http(s).
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment,
                                       httpClient: HTTPClient = .shared) -> ExchangeClient? {
        guard let hub = HubCredentials.hubURL(fromEnvironment: env),
              let credentials = HubCredentials.fromEnvironment(env) else { return nil }
        return ExchangeClient(hub: hub, credentials: credentials, httpClient: httpClient)
    }

    // MARK: - Submitting

    /// Submits an edXML message held in memory (`POST /api/v1/exchange/messages`). With a
    /// `progress` callback the body is streamed in chunks and `progress(sent, total)` is called as
    /// the connection takes them (from a background task; keep it quick). Refusals come back as the
    /// hub's codes: `edxml_invalid`, `signature_*`, `sender_mismatch`, `recipient_unknown`,
    /// `document_conflict`, `original_not_found`, `status_not_allowed`, `message_too_large`, …
    public func submit(_ edxml: Data, progress: (@Sendable (Int64, Int64) -> Void)? = nil) async throws(ExchangeClientError) -> SubmitResult {
        let body: HTTPClientRequest.Body
        if let progress {
            let chunks = UploadChunks(source: .memory(edxml), total: Int64(edxml.count),
                                      chunkSize: Self.uploadChunkBytes, progress: progress)
            body = .stream(chunks, length: .known(Int64(edxml.count)))
        } else {
            body = .bytes(edxml)
        }
        let reply = try await send(.POST, "/api/v1/exchange/messages", body: body, contentType: "application/xml")
        return try decode(SubmitResult.self, reply)
    }

    /// Submits the edXML file at `fileAt`, streamed from disk in chunks (never loaded whole), with
    /// the same answers as `submit(_:progress:)`. A file that cannot be read, or that changes size
    /// while being sent, fails with `file_unreadable`.
    public func submit(fileAt file: URL, progress: (@Sendable (Int64, Int64) -> Void)? = nil) async throws(ExchangeClientError) -> SubmitResult {
        guard file.isFileURL else {
            throw .fileUnreadable(path: file.absoluteString, reason: "not a file URL")
        }
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        } catch {
            throw .fileUnreadable(path: file.path, reason: error.localizedDescription)
        }
        guard (attributes[.type] as? FileAttributeType) == .typeRegular else {
            throw .fileUnreadable(path: file.path, reason: "not a regular file")
        }
        guard let size = (attributes[.size] as? NSNumber)?.int64Value else {
            throw .fileUnreadable(path: file.path, reason: "its size is unknown")
        }
        guard FileManager.default.isReadableFile(atPath: file.path) else {
            throw .fileUnreadable(path: file.path, reason: "permission denied")
        }
        let chunks = UploadChunks(source: .file(file), total: size, chunkSize: Self.uploadChunkBytes, progress: progress)
        let reply = try await send(.POST, "/api/v1/exchange/messages", body: .stream(chunks, length: .known(size)),
                                   contentType: "application/xml")
        return try decode(SubmitResult.self, reply)
    }

    // MARK: - Receiving

    /// What waits for the caller's agency (`GET /api/v1/exchange/inbox`), oldest first. `limit` is
    /// clamped to the hub's 1…500 and `wait` to 0…60 s (rounded up to whole seconds); with a
    /// positive `wait` the hub holds the call until something arrives or `wait` passes, and the
    /// request's own time limit is extended by `wait` so a long-poll is never cut short.
    public func inbox(type: MessageKind? = nil, limit: Int = 100, wait: Duration = .zero) async throws(ExchangeClientError) -> [InboxItem] {
        let seconds = Self.wholeSeconds(wait, max: 60)
        var query = [("limit", String(min(max(limit, 1), 500)))]
        if let type { query.insert(("type", type.rawValue), at: 0) }
        if seconds > 0 { query.append(("wait", String(seconds))) }
        let reply = try await send(.GET, "/api/v1/exchange/inbox", query: query,
                                   timeout: timeout + .seconds(seconds))
        return try decode(ItemList<InboxItem>.self, reply).items
    }

    /// Downloads a message's exact bytes (`GET /api/v1/exchange/messages/{id}`) and checks their
    /// SHA-256 against `X-Message-Sha256`: a mismatch, or a missing header, fails with
    /// `integrity_mismatch` rather than handing over bytes nobody vouched for. Unknown ids and
    /// messages the caller may not see: 404 `message_not_found`; purged payloads: 410 `message_purged`.
    public func fetch(_ id: UUID) async throws(ExchangeClientError) -> FetchedMessage {
        let reply = try await send(.GET, "/api/v1/exchange/messages/\(Self.pathID(id))",
                                   accept: "application/xml, application/json;q=0.9", limit: maxDownloadBytes)
        let actual = Self.hex(SHA256.hash(data: reply.body))
        let header = reply.headers.first(name: "X-Message-Sha256")?.trimmingCharacters(in: .whitespaces).lowercased()
        guard let header, header == actual else {
            throw .integrityMismatch(status: reply.status, expected: header, actual: actual)
        }
        if let echoed = reply.headers.first(name: "X-Message-Id"), UUID(uuidString: echoed) != id {
            throw .responseInvalid(status: reply.status, DecodingError.dataCorrupted(.init(
                codingPath: [], debugDescription: "X-Message-Id \(echoed.prefix(40)) is not the requested id")))
        }
        return FetchedMessage(id: id, bytes: reply.body, sha256: actual)
    }

    /// Acknowledges a received message (`POST /api/v1/exchange/messages/{id}/ack`) so it leaves
    /// the inbox and the sender sees the outcome. Repeating it is harmless: the hub returns the first
    /// ack. Not a recipient: 404 `message_not_found`; an empty failure reason: 400 `ack_invalid`.
    public func acknowledge(_ id: UUID, outcome: AckOutcome) async throws(ExchangeClientError) -> AckResult {
        struct Body: Encodable {
            var outcome: String
            var reason: String?
        }
        let payload: Body
        switch outcome {
        case .done: payload = Body(outcome: "done", reason: nil)
        case .failed(let reason): payload = Body(outcome: "failed", reason: reason)
        }
        let reply = try await send(.POST, "/api/v1/exchange/messages/\(Self.pathID(id))/ack", json: payload)
        return try decode(AckResult.self, reply)
    }

    // MARK: - Following sent messages

    /// The deliveries and reported statuses of a message the caller sent
    /// (`GET /api/v1/exchange/messages/{id}/history`); anyone else gets 404 `message_not_found`.
    public func history(_ id: UUID) async throws(ExchangeClientError) -> DeliveryHistory {
        let reply = try await send(.GET, "/api/v1/exchange/messages/\(Self.pathID(id))/history")
        return try decode(DeliveryHistory.self, reply)
    }

    /// The hub's signed receipt for a message (`GET /api/v1/exchange/messages/{id}/receipt`), for
    /// its sender or recipients. The CMS signature is returned, not verified (see `Receipt`).
    public func receipt(_ id: UUID) async throws(ExchangeClientError) -> Receipt {
        let reply = try await send(.GET, "/api/v1/exchange/messages/\(Self.pathID(id))/receipt")
        return try decode(Receipt.self, reply)
    }

    /// Deliveries of the caller's sent messages that the hub gave up on
    /// (`GET /api/v1/exchange/dead-letters`).
    public func deadLetters() async throws(ExchangeClientError) -> [DeadLetter] {
        let reply = try await send(.GET, "/api/v1/exchange/dead-letters")
        return try decode(ItemList<DeadLetter>.self, reply).items
    }

    /// Puts a dead delivery back to pending (`POST /api/v1/exchange/deliveries/{id}/redeliver`);
    /// only the message's sender may, others get 404.
    public func redeliver(deliveryID: UUID) async throws(ExchangeClientError) -> RedeliverResult {
        let reply = try await send(.POST, "/api/v1/exchange/deliveries/\(Self.pathID(deliveryID))/redeliver")
        return try decode(RedeliverResult.self, reply)
    }

    // MARK: - Webhooks

    /// Registers the URL the hub pushes messages to (`POST /api/v1/exchange/webhooks`), replacing
    /// this system's previous one. Pushes are signed with `secret` (at least 16 characters); check
    /// them with `WebhookSignature.verify`. A bad URL or short secret: 400 `webhook_invalid`.
    public func registerWebhook(url: URL, secret: String) async throws(ExchangeClientError) -> Webhook {
        struct Body: Encodable {
            var url: String
            var secret: String
        }
        let reply = try await send(.POST, "/api/v1/exchange/webhooks", json: Body(url: url.absoluteString, secret: secret))
        return try decode(Webhook.self, reply)
    }

    /// The webhooks registered for this system (`GET /api/v1/exchange/webhooks`).
    public func webhooks() async throws(ExchangeClientError) -> [Webhook] {
        let reply = try await send(.GET, "/api/v1/exchange/webhooks")
        return try decode(ItemList<Webhook>.self, reply).items
    }

    /// Removes a webhook (`DELETE /api/v1/exchange/webhooks/{id}`); messages then wait in the inbox.
    public func deleteWebhook(_ id: UUID) async throws(ExchangeClientError) {
        _ = try await send(.DELETE, "/api/v1/exchange/webhooks/\(Self.pathID(id))")
    }

    // MARK: - Identity

    /// Who the hub takes the caller to be (`GET /api/v1/system/whoami`): the cheapest way to check
    /// the URL and the credentials at start-up.
    public func whoami() async throws(ExchangeClientError) -> Identity {
        let reply = try await send(.GET, "/api/v1/system/whoami")
        return try decode(Identity.self, reply)
    }

    // MARK: - Plumbing

    /// A 2xx answer, its body read whole.
    struct Reply {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
    }

    private func send(_ method: HTTPMethod, _ path: String, json: some Encodable) async throws(ExchangeClientError) -> Reply {
        let data: Data
        do {
            data = try HubJSON.encoder().encode(json)
        } catch {
            throw .requestInvalid(vi: "Không mã hóa được nội dung yêu cầu: \(error)", en: "Cannot encode the request body: \(error)")
        }
        return try await send(method, path, body: .bytes(data), contentType: "application/json")
    }

    /// One call: builds the request with the credentials, runs it with a deadline, reads the body
    /// (bounded), and turns anything but a 2xx into an `ExchangeClientError`.
    private func send(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [],
                      body: HTTPClientRequest.Body? = nil, contentType: String? = nil,
                      accept: String = "application/json", timeout: Duration? = nil,
                      limit: Int = ExchangeClient.maxJSONBytes) async throws(ExchangeClientError) -> Reply {
        if let configurationError { throw configurationError }
        var url = base + path
        if !query.isEmpty {
            url += "?" + query.map { "\(Self.formEncode($0.0))=\(Self.formEncode($0.1))" }.joined(separator: "&")
        }
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "X-SystemId", value: credentials.systemID)
        request.headers.add(name: "X-SecretKey", value: credentials.secret)
        request.headers.add(name: "Accept", value: accept)
        request.headers.add(name: "User-Agent", value: Self.userAgent)
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        request.body = body

        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(request, timeout: Self.timeAmount(timeout ?? self.timeout))
        } catch {
            throw .transportFailed(error)
        }
        let status = Int(response.status.code)
        guard (200...299).contains(status) else {
            let data = try await Self.read(response.body, upTo: Self.maxErrorBytes, truncate: true, status: status)
            throw ExchangeClientError(status: status, body: data)
        }
        let data = try await Self.read(response.body, upTo: limit, truncate: false, status: status)
        return Reply(status: status, headers: response.headers, body: data)
    }

    /// Reads a body up to `limit` bytes: an error body is cut there (only its start matters), a
    /// success body over the limit is refused.
    private static func read(_ body: HTTPClientResponse.Body, upTo limit: Int, truncate: Bool,
                             status: Int) async throws(ExchangeClientError) -> Data {
        var data = Data()
        do {
            for try await var buffer in body {
                let room = limit - data.count
                if buffer.readableBytes > room {
                    if truncate {
                        if let bytes = buffer.readBytes(length: room) { data.append(contentsOf: bytes) }
                        break
                    }
                    throw ExchangeClientError.responseTooLarge(status: status, limit: limit)
                }
                if let bytes = buffer.readBytes(length: buffer.readableBytes) { data.append(contentsOf: bytes) }
            }
        } catch let error as ExchangeClientError {
            throw error
        } catch {
            throw .transportFailed(error)
        }
        return data
    }

    private func decode<T: Decodable>(_ type: T.Type, _ reply: Reply) throws(ExchangeClientError) -> T {
        do {
            return try HubJSON.decoder().decode(T.self, from: reply.body)
        } catch {
            throw .responseInvalid(status: reply.status, error)
        }
    }

    /// Ids go into paths in the hub's lower-case form.
    static func pathID(_ id: UUID) -> String { id.uuidString.lowercased() }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Percent-encodes a query component (RFC 3986 unreserved characters pass through).
    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// A duration as whole seconds rounded up, clamped to `0...max`.
    static func wholeSeconds(_ duration: Duration, max upper: Int) -> Int {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, !(seconds == 0 && attoseconds <= 0) else { return 0 }
        let rounded = seconds + (attoseconds > 0 ? 1 : 0)
        return Int(min(rounded, Int64(upper)))
    }

    /// Converts to NIO's `TimeAmount`, saturating instead of overflowing on absurd durations.
    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        let capped = min(max(seconds, 0), 365 * 24 * 3600)
        return .nanoseconds(capped * 1_000_000_000 + (seconds >= 0 ? attoseconds / 1_000_000_000 : 0))
    }
}
