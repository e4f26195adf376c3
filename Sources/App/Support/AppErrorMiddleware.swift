import AsyncKit
import Fluent
import Foundation
import GovCore
import Leaf
import Vapor

/// The one place where errors become responses: `{"error":{"code","message"}}` for API clients,
/// an HTML page for browsers, never a stack trace. Unknown errors are logged with the request id
/// and answered with a generic message.
struct AppErrorMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            let failure = Self.describe(error, request)
            if failure.status.code >= 500, failure.status != .serviceUnavailable {
                request.logger.error("unhandled error: \(String(reflecting: error))")
            } else {
                request.logger.debug("refused \(failure.status.code) \(failure.code)")
            }
            return await Self.response(for: failure, request)
        }
    }

    /// What a client is told about an error.
    struct Failure: Sendable {
        var status: HTTPResponseStatus
        var code: String
        var vi: String
        var en: String
        var headers: HTTPHeaders = [:]
    }

    static func describe(_ error: any Error, _ req: Request) -> Failure {
        switch error {
        case let gov as GovError:
            return Failure(status: status(of: gov.kind), code: gov.code, vi: gov.vi, en: gov.en)
        case let decoding as DecodingError:
            return describe(decoding)
        case let db as any DatabaseError where db.isConstraintFailure:
            return Failure(status: .conflict, code: "conflict",
                           vi: "Dữ liệu trùng hoặc vi phạm ràng buộc.", en: "The data conflicts with existing records.")
        case let pool as ConnectionPoolError where pool == .shutdown:
            // The node is stopping: a balancer should retry elsewhere.
            return Failure(status: .serviceUnavailable, code: "unavailable",
                           vi: "Máy chủ đang dừng, vui lòng thử lại.", en: "The server is stopping; please retry.")
        case let abort as any AbortError:
            var failure = describe(status: abort.status)
            failure.headers = abort.headers
            return failure
        default:
            return Failure(status: .internalServerError, code: "internal_error",
                           vi: "Lỗi hệ thống. Vui lòng thử lại sau.", en: "Internal error. Please try again later.")
        }
    }

    static func status(of kind: GovError.Kind) -> HTTPResponseStatus {
        switch kind {
        case .invalid: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .tooLarge: .payloadTooLarge
        case .locked: .locked
        case .tooManyRequests: .tooManyRequests
        case .gone: .gone
        case .unprocessable: .unprocessableEntity
        case .unsupportedMediaType: .unsupportedMediaType
        }
    }

    private static func describe(_ error: DecodingError) -> Failure {
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return Failure(status: .badRequest, code: "malformed_body",
                           vi: "Nội dung yêu cầu không đúng định dạng (JSON/form hỏng).",
                           en: "The request body is malformed (invalid JSON or form data).")
        case .keyNotFound(let key, let context):
            let path = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            return Failure(status: .badRequest, code: "missing_field",
                           vi: "Thiếu trường bắt buộc: \(path).", en: "Missing required field: \(path).")
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return Failure(status: .badRequest, code: "invalid_field",
                           vi: "Giá trị không hợp lệ ở trường: \(path).", en: "Invalid value in field: \(path).")
        @unknown default:
            return Failure(status: .badRequest, code: "malformed_body",
                           vi: "Nội dung yêu cầu không đúng định dạng.", en: "The request body is malformed.")
        }
    }

    private static func describe(status: HTTPResponseStatus) -> Failure {
        switch status.code {
        case 400: Failure(status: status, code: "bad_request", vi: "Yêu cầu không hợp lệ.", en: "Bad request.")
        case 401: Failure(status: status, code: "unauthenticated", vi: "Cần đăng nhập hoặc thông tin xác thực.", en: "Authentication required.")
        case 403: Failure(status: status, code: "forbidden", vi: "Bạn không có quyền thực hiện thao tác này.", en: "You are not allowed to do this.")
        case 404: Failure(status: status, code: "not_found", vi: "Không tìm thấy trang hoặc dữ liệu.", en: "Not found.")
        case 405: Failure(status: status, code: "method_not_allowed", vi: "Phương thức không được hỗ trợ.", en: "Method not allowed.")
        case 413: Failure(status: status, code: "payload_too_large", vi: "Dữ liệu gửi lên vượt quá giới hạn cho phép.", en: "The request body is larger than allowed.")
        case 415: Failure(status: status, code: "unsupported_media_type", vi: "Kiểu nội dung không được hỗ trợ.", en: "Unsupported content type.")
        case 422: Failure(status: status, code: "unprocessable", vi: "Dữ liệu không xử lý được.", en: "Unprocessable data.")
        case 429: Failure(status: status, code: "too_many_requests", vi: "Quá nhiều yêu cầu, vui lòng thử lại sau.", en: "Too many requests, try again later.")
        case 400..<500: Failure(status: status, code: "client_error", vi: "Yêu cầu không hợp lệ.", en: "The request was refused.")
        case 503: Failure(status: status, code: "unavailable", vi: "Dịch vụ tạm thời không sẵn sàng.", en: "Service temporarily unavailable.")
        default: Failure(status: .internalServerError, code: "internal_error", vi: "Lỗi hệ thống. Vui lòng thử lại sau.", en: "Internal error. Please try again later.")
        }
    }

    /// Whether the client wants JSON rather than a page.
    static func wantsJSON(_ req: Request) -> Bool {
        if req.url.path.hasPrefix("/api/") || req.url.path == "/readyz" || req.url.path == "/healthz" { return true }
        let accept = req.headers.first(name: .accept) ?? ""
        if accept.contains("text/html") { return false }
        return accept.contains("application/json") || req.headers.contentType == .json
    }

    static func response(for failure: Failure, _ req: Request) async -> Response {
        let language = req.language
        let message = language == .vi ? failure.vi : failure.en
        var headers = failure.headers
        headers.remove(name: .contentType)
        if wantsJSON(req) {
            let body = ErrorBody(error: .init(code: failure.code, message: message, messageVi: failure.vi, messageEn: failure.en))
            let response = Response(status: failure.status, headers: headers)
            do {
                try response.content.encode(body, as: .json)
            } catch {
                response.body = .init(string: #"{"error":{"code":"internal_error","message":"internal error"}}"#)
            }
            return response
        }
        let page = ErrorPage(status: Int(failure.status.code), code: failure.code, message: message, requestID: req.id)
        do {
            let response = try await req.renderPage("errors/error", title: "error.title", page, status: failure.status)
            for (name, value) in headers where name.lowercased() != "content-length" {
                response.headers.replaceOrAdd(name: name, value: value)
            }
            return response
        } catch {
            // The template itself failed: still answer with the right status and a readable page.
            let html = "<!doctype html><html lang=\"\(language.rawValue)\"><meta charset=\"utf-8\"><title>\(failure.status.code)</title><h1>\(failure.status.code)</h1><p>\(message.htmlEscaped)</p><p><code>\(failure.code)</code></p></html>"
            headers.contentType = .html
            return Response(status: failure.status, headers: headers, body: .init(string: html))
        }
    }
}

/// The project's API error body.
struct ErrorBody: Content {
    struct Detail: Content {
        var code: String
        var message: String
        var messageVi: String
        var messageEn: String
        enum CodingKeys: String, CodingKey {
            case code, message
            case messageVi = "message_vi"
            case messageEn = "message_en"
        }
    }
    var error: Detail
}

struct ErrorPage: Encodable {
    var status: Int
    var code: String
    var message: String
    var requestID: String
}

extension String {
    /// The text escaped for an HTML text node or attribute.
    var htmlEscaped: String {
        var out = ""
        out.reserveCapacity(count)
        for ch in self {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }
}
