import GovCore

/// The hub's refusals. Each has its own stable code so an agency system can act on it.
enum HubError {
    static func edxml(_ code: String, vi: String, en: String) -> GovError {
        GovError(code, .invalid, vi: "Gói tin edXML không hợp lệ: \(vi)", en: "The edXML message is not valid: \(en)")
    }

    static func signature(_ code: String, vi: String, en: String) -> GovError {
        GovError(code, .invalid, vi: "Chữ ký số không hợp lệ: \(vi)", en: "The digital signature is not acceptable: \(en)")
    }

    static func senderMismatch(claimed: String, caller: String) -> GovError {
        GovError("sender_mismatch", .forbidden,
                 vi: "Gói tin ghi nơi gửi \(claimed) nhưng hệ thống gửi thuộc cơ quan \(caller).",
                 en: "The message says it is from \(claimed) but the sending system belongs to \(caller).")
    }

    static func recipientsUnknown(_ codes: [String]) -> GovError {
        GovError("recipient_unknown", .unprocessable,
                 vi: "Nơi nhận không có trong danh bạ: \(codes.joined(separator: ", ")). Gói tin không được nhận.",
                 en: "Unknown recipients: \(codes.joined(separator: ", ")). The message was not accepted.")
    }

    static func recipientsLocked(_ codes: [String]) -> GovError {
        GovError("recipient_locked", .unprocessable,
                 vi: "Nơi nhận đang bị khóa: \(codes.joined(separator: ", ")). Gói tin không được nhận.",
                 en: "Locked recipients: \(codes.joined(separator: ", ")). The message was not accepted.")
    }

    static func documentConflict(_ documentId: String) -> GovError {
        GovError("document_conflict", .conflict,
                 vi: "Văn bản \(documentId) đã được gửi với nội dung khác; dùng gói tin cập nhật hoặc thay thế.",
                 en: "Document \(documentId) was already sent with other content; send an update or a replacement.")
    }

    static func originalNotFound(_ documentId: String) -> GovError {
        GovError("original_not_found", .notFound,
                 vi: "Trục không có văn bản \(documentId) liên quan đến cơ quan của bạn.",
                 en: "The hub has no document \(documentId) involving your agency.")
    }

    static func notARecipient(_ documentId: String) -> GovError {
        GovError("not_a_recipient", .forbidden,
                 vi: "Cơ quan của bạn không phải nơi nhận văn bản \(documentId).",
                 en: "Your agency is not a recipient of document \(documentId).")
    }

    static func statusNotAllowed(vi: String, en: String) -> GovError {
        GovError("status_not_allowed", .conflict, vi: vi, en: en)
    }

    static func tooLarge(limit: Int) -> GovError {
        GovError("message_too_large", .tooLarge,
                 vi: "Gói tin vượt quá giới hạn \(limit) byte.", en: "The message exceeds the limit of \(limit) bytes.")
    }

    static let unsupportedMediaType = GovError(
        "unsupported_media_type", .unsupportedMediaType,
        vi: "Gửi gói tin edXML với Content-Type application/xml.", en: "Send the edXML message as application/xml.")

    static let emptyBody = GovError("edxml_empty", .invalid, vi: "Nội dung yêu cầu trống.", en: "The request body is empty.")

    static let notFound = GovError("message_not_found", .notFound,
                                   vi: "Không tìm thấy gói tin.", en: "No such message.")

    static let purged = GovError("message_purged", .gone,
                                 vi: "Nội dung gói tin đã được xóa theo thời hạn lưu trữ; chỉ còn siêu dữ liệu.",
                                 en: "The message content was purged under the retention policy; only its metadata remains.")

    static func ackInvalid(vi: String, en: String) -> GovError { GovError("ack_invalid", .invalid, vi: vi, en: en) }

    static func webhookInvalid(vi: String, en: String) -> GovError { GovError("webhook_invalid", .invalid, vi: vi, en: en) }

    static let deliveryNotFound = GovError("delivery_not_found", .notFound,
                                           vi: "Không tìm thấy lượt chuyển phát.", en: "No such delivery.")
}
