import AsyncHTTPClient
import Foundation

/// Every failure of an `ExchangeClient` call: either the hub's own refusal (its stable `code`, the
/// HTTP `status` and both messages from the error body) or a failure found on this side.
///
/// Codes produced by the client itself:
/// - `transport_failed` (status nil): the hub could not be reached or the connection broke;
/// - `cancelled` (status nil): the calling task was cancelled;
/// - `request_invalid` (status nil): the hub URL or an argument cannot make a request;
/// - `file_unreadable` (status nil): the file to submit could not be opened or read;
/// - `unexpected_response`: a status the contract does not describe, or an error without the hub's body;
/// - `response_invalid`: a 2xx whose JSON did not decode into the contract's shape;
/// - `response_too_large`: a 2xx body longer than the client accepts;
/// - `integrity_mismatch`: downloaded bytes whose SHA-256 is not the hub's `X-Message-Sha256`.
public struct ExchangeClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stable machine-readable code (the hub's, or one of the client's listed above).
    public var code: String
    /// The HTTP status of the response, nil when no response was received.
    public var status: Int?
    /// The message in Vietnamese.
    public var vi: String
    /// The message in English.
    public var en: String

    /// An error with the given parts; the client builds these, callers rarely need to.
    public init(code: String, status: Int?, vi: String, en: String) {
        self.code = code
        self.status = status
        self.vi = vi
        self.en = en
    }

    /// The error a hub response with a non-2xx `status` stands for: the hub's error body
    /// (`{"error": {"code", "message", "message_vi", "message_en"}}`) when the body is one, else
    /// `unexpected_response` quoting the start of the body, so a proxy's HTML page is still readable.
    public init(status: Int, body: Data) {
        if let hub = try? JSONDecoder().decode(HubErrorBody.self, from: body),
           !hub.error.code.isEmpty {
            let detail = hub.error
            let vi = detail.messageVi ?? detail.message ?? detail.messageEn ?? detail.code
            let en = detail.messageEn ?? detail.message ?? detail.messageVi ?? detail.code
            self.init(code: detail.code, status: status, vi: vi, en: en)
        } else {
            self = .unexpectedResponse(status: status, body: body)
        }
    }

    /// Whether the same call may succeed if simply repeated later: transport failures, 5xx
    /// (including 503 while a hub node stops) and 429. Refusals (4xx) and malformed answers will not
    /// change by retrying.
    public var isRetryable: Bool {
        guard let status else { return code == "transport_failed" }
        return status == 429 || (500...599).contains(status)
    }

    /// `code (HTTP status): English message`, for logs.
    public var description: String {
        if let status { return "\(code) (HTTP \(status)): \(en)" }
        return "\(code): \(en)"
    }
}

/// The hub's error body. The messages are optional because the hub's last-resort body (when even
/// encoding the error failed) carries only `code` and `message`.
struct HubErrorBody: Decodable {
    struct Detail: Decodable {
        var code: String
        var message: String?
        var messageVi: String?
        var messageEn: String?
        enum CodingKeys: String, CodingKey {
            case code, message
            case messageVi = "message_vi"
            case messageEn = "message_en"
        }
    }
    var error: Detail
}

/// A file body that could not be read while uploading; carried through AsyncHTTPClient so the
/// caller learns it was the file, not the network.
struct UploadReadError: Error {
    var path: String
    var reason: String
}

extension ExchangeClientError {
    static func transportFailed(_ error: any Error) -> ExchangeClientError {
        if error is CancellationError || (error as? HTTPClientError) == .cancelled {
            return ExchangeClientError(code: "cancelled", status: nil,
                                       vi: "Yêu cầu tới trục liên thông đã bị hủy.",
                                       en: "The request to the exchange hub was cancelled.")
        }
        if let read = error as? UploadReadError {
            return fileUnreadable(path: read.path, reason: read.reason)
        }
        if let client = error as? HTTPClientError,
           client == .invalidURL || client == .emptyHost || client == .emptyScheme
            || client.shortDescription.hasPrefix("Unsupported scheme") {
            return requestInvalid(vi: "Địa chỉ trục liên thông không hợp lệ (\(client)).",
                                  en: "The hub URL is invalid (\(client)).")
        }
        let detail = String(String(describing: error).prefix(300))
        return ExchangeClientError(code: "transport_failed", status: nil,
                                   vi: "Không kết nối được tới trục liên thông: \(detail)",
                                   en: "Could not reach the exchange hub: \(detail)")
    }

    static func unexpectedResponse(status: Int, body: Data) -> ExchangeClientError {
        let text = snippet(body)
        return ExchangeClientError(code: "unexpected_response", status: status,
                                   vi: "Trục liên thông trả lời bất thường (HTTP \(status)): \(text)",
                                   en: "Unexpected answer from the exchange hub (HTTP \(status)): \(text)")
    }

    static func responseInvalid(status: Int, _ error: any Error) -> ExchangeClientError {
        let detail = describe(decoding: error)
        return ExchangeClientError(code: "response_invalid", status: status,
                                   vi: "Phản hồi của trục liên thông không đúng định dạng: \(detail)",
                                   en: "The exchange hub's answer does not have the expected format: \(detail)")
    }

    static func responseTooLarge(status: Int, limit: Int) -> ExchangeClientError {
        ExchangeClientError(code: "response_too_large", status: status,
                            vi: "Phản hồi của trục liên thông vượt quá \(limit) byte.",
                            en: "The exchange hub's answer is larger than \(limit) bytes.")
    }

    static func integrityMismatch(status: Int, expected: String?, actual: String) -> ExchangeClientError {
        guard let expected else {
            return ExchangeClientError(code: "integrity_mismatch", status: status,
                                       vi: "Trục liên thông không gửi X-Message-Sha256 nên không kiểm tra được tính toàn vẹn của gói tin.",
                                       en: "The hub sent no X-Message-Sha256, so the message's integrity cannot be checked.")
        }
        let shown = String(expected.prefix(64))
        return ExchangeClientError(code: "integrity_mismatch", status: status,
                                   vi: "Mã băm SHA-256 của gói tin tải về (\(actual)) không khớp X-Message-Sha256 (\(shown)).",
                                   en: "The downloaded message's SHA-256 (\(actual)) does not match X-Message-Sha256 (\(shown)).")
    }

    static func fileUnreadable(path: String, reason: String) -> ExchangeClientError {
        ExchangeClientError(code: "file_unreadable", status: nil,
                            vi: "Không đọc được tệp \(path): \(reason)",
                            en: "Cannot read the file \(path): \(reason)")
    }

    static func requestInvalid(vi: String, en: String) -> ExchangeClientError {
        ExchangeClientError(code: "request_invalid", status: nil, vi: vi, en: en)
    }

    /// The start of a body as one printable line: enough to recognise a proxy's error page.
    private static func snippet(_ body: Data) -> String {
        if body.isEmpty { return "(không có nội dung / empty body)" }
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        let line = String(text.unicodeScalars.map { CharacterSet.controlCharacters.contains($0) ? " " : Character($0) })
        return body.count > 200 ? line + "…" : line
    }

    /// Where the JSON went wrong, without dumping Swift's whole context.
    private static func describe(decoding error: any Error) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let joined = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return joined.isEmpty ? "(root)" : joined
        }
        guard let decoding = error as? DecodingError else { return String(describing: error) }
        switch decoding {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "missing \(parent == "(root)" ? key.stringValue : parent + "." + key.stringValue)"
        case .valueNotFound(_, let context): return "null at \(path(context))"
        case .typeMismatch(let type, let context): return "not a \(type) at \(path(context))"
        case .dataCorrupted(let context): return "\(context.debugDescription) at \(path(context))"
        @unknown default: return String(describing: decoding)
        }
    }
}
