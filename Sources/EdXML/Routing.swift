import Foundation

/// What a document-exchange hub needs to route a message, read off a parsed edXML message: who
/// sends, to whom, which document it is about and what kind of business it carries. The hub
/// stores and forwards the bytes; this is its metadata.
public struct RoutingInfo: Sendable, Equatable {
    /// Whether the message is a document or a status.
    public enum Kind: String, Sendable, Codable {
        /// A document: new, revocation, update or replacement.
        case document
        /// A processing status going back along a document's path.
        case status
    }

    /// Document or status.
    public var kind: Kind
    /// The sending agency (`From/OrganId`).
    public var sender: String
    /// The addressed agencies (`To/OrganId`, in order, without repeats); empty for a status, whose
    /// recipient the hub derives from the document it answers.
    public var recipients: [String]
    /// The document's own `DocumentId` (for a status: the answered document's, from `ResponseFor`).
    public var documentId: String
    /// New (0), revocation (1), update (2) or replacement (3); `new` for a status.
    public var businessType: BusinessDocType
    /// For a revocation or update: the `DocumentId` of the document it changes (`Bussiness/DocumentId`,
    /// falling back to the message's own).
    public var targetDocumentId: String?
    /// For an update: receivers the update adds (`ReceiverType` 1).
    public var addedReceivers: [String]
    /// For an update: receivers the update removes (`ReceiverType` 0).
    public var removedReceivers: [String]
    /// For a replacement: the `DocumentId`s of the documents it replaces.
    public var replacedDocumentIds: [String]
    /// The status code of a status message.
    public var statusCode: StatusCode?
    /// For a status: the agency named in `ResponseFor/OrganId` (the original sender, or for 13 the
    /// receiver asked to give the document back).
    public var responseOrganId: String?
    /// The subject (trích yếu) or, for a status, its description; for lists and traces only.
    public var subject: String?

    /// Reads the routing facts of `message`. The message must already have passed the codec's
    /// validation; anything the hub cannot route on is reported as a ``RoutingError``.
    public init(_ message: EdXMLMessage) throws(RoutingError) {
        switch message {
        case .document(let document):
            let header = document.header
            kind = .document
            sender = header.from.organId.trimmed
            var seen = Set<String>()
            recipients = header.to.map { $0.organId.trimmed }.filter { !$0.isEmpty && seen.insert($0).inserted }
            guard let id = header.documentId?.trimmed, !id.isEmpty else {
                throw RoutingError("document_id_missing", vi: "Gói tin thiếu DocumentId.", en: "The message has no DocumentId.")
            }
            documentId = id
            let business = document.business
            if let raw = business?.businessDocType?.trimmed, !raw.isEmpty {
                guard let type = BusinessDocType(rawValue: raw) else {
                    throw RoutingError("business_type_invalid", vi: "BussinessDocType \(raw) không hợp lệ (0–3).",
                                       en: "BussinessDocType \(raw) is not valid (0–3).")
                }
                businessType = type
            } else {
                businessType = .new
            }
            let businessDocumentId = business?.documentId?.trimmed
            switch businessType {
            case .revocation, .update:
                targetDocumentId = (businessDocumentId?.isEmpty == false) ? businessDocumentId : id
            case .new, .replacement:
                targetDocumentId = nil
            }
            let receivers = business?.businessDocumentInfo?.receivers ?? []
            func codes(_ type: String) -> [String] {
                var seen = Set<String>()
                return receivers.filter { $0.receiverType?.trimmed == type }
                    .compactMap { $0.organId?.trimmed }.filter { !$0.isEmpty && seen.insert($0).inserted }
            }
            addedReceivers = businessType == .update ? codes("1") : []
            removedReceivers = businessType == .update ? codes("0") : []
            replacedDocumentIds = businessType == .replacement
                ? (business?.replacementInfoList ?? []).compactMap { $0.documentId?.trimmed }.filter { !$0.isEmpty }
                : []
            if businessType == .replacement, replacedDocumentIds.isEmpty {
                throw RoutingError("replacement_target_missing",
                                   vi: "Văn bản thay thế phải nêu văn bản bị thay thế (ReplacementInfo/DocumentId).",
                                   en: "A replacement must name the document it replaces (ReplacementInfo/DocumentId).")
            }
            guard !recipients.isEmpty else {
                throw RoutingError("recipient_missing", vi: "Gói tin không có nơi nhận (To).", en: "The message has no recipient (To).")
            }
            statusCode = nil
            responseOrganId = nil
            subject = header.subject
        case .status(let status):
            kind = .status
            sender = status.from.organId.trimmed
            recipients = []
            guard let id = status.responseFor.documentId?.trimmed, !id.isEmpty else {
                throw RoutingError("document_id_missing", vi: "Gói tin trạng thái thiếu ResponseFor/DocumentId.",
                                   en: "The status message has no ResponseFor/DocumentId.")
            }
            documentId = id
            businessType = .new
            targetDocumentId = nil
            addedReceivers = []
            removedReceivers = []
            replacedDocumentIds = []
            guard let code = status.status else {
                throw RoutingError("status_code_invalid", vi: "Mã trạng thái \(status.statusCode) không hợp lệ.",
                                   en: "The status code \(status.statusCode) is not valid.")
            }
            statusCode = code
            responseOrganId = status.responseFor.organId?.trimmed
            subject = status.description
        }
        guard !sender.isEmpty else {
            throw RoutingError("sender_missing", vi: "Gói tin thiếu From/OrganId.", en: "The message has no From/OrganId.")
        }
    }
}

/// Why a message cannot be routed: a stable code and the reason in Vietnamese and English.
public struct RoutingError: Error, Sendable, Equatable {
    /// Stable code, e.g. `document_id_missing`.
    public var code: String
    /// The reason in Vietnamese.
    public var vi: String
    /// The reason in English.
    public var en: String

    /// Creates an error.
    public init(_ code: String, vi: String, en: String) {
        self.code = code
        self.vi = vi
        self.en = en
    }
}

/// The order in which a receiver's statuses may follow each other on one document (QĐ 28/2018
/// workflow as the issue of the hub states it): 01 → 02 or 03; 03 → 04 → 05 → 06; 13 only from
/// the original sender; 15 and 16 only to answer an open revocation or update.
public enum StatusFlow {
    /// What a receiver has open on one document.
    public struct State: Sendable, Equatable {
        /// The receiver's last workflow status (01–06), nil before the first.
        public var progress: StatusCode?
        /// Whether a revocation (13 or a revocation document) or an update awaits its 15/16.
        public var pendingRequest: Bool
        /// Creates a state.
        public init(progress: StatusCode? = nil, pendingRequest: Bool = false) {
            self.progress = progress
            self.pendingRequest = pendingRequest
        }
    }

    /// Whether `next`, sent by the receiver (`byOriginalSender` false) or by the original sender
    /// (true), may follow `state`. Refusals carry the reason.
    public static func check(_ next: StatusCode, after state: State, byOriginalSender: Bool) -> RoutingError? {
        if next.sender == .originalSender {
            return byOriginalSender ? nil : RoutingError(
                "status_not_allowed", vi: "Chỉ cơ quan gửi văn bản mới được gửi trạng thái 13.",
                en: "Only the agency that sent the document may send status 13.")
        }
        if byOriginalSender {
            return RoutingError("status_not_allowed", vi: "Cơ quan gửi văn bản chỉ được gửi trạng thái 13.",
                                en: "The sending agency may only send status 13.")
        }
        switch next {
        case .revokeAccepted, .revokeRefused:
            return state.pendingRequest ? nil : RoutingError(
                "status_not_allowed", vi: "Trạng thái \(next.rawValue) chỉ dùng để trả lời yêu cầu thu hồi hoặc cập nhật.",
                en: "Status \(next.rawValue) only answers a revocation or update request.")
        default:
            let allowed = successors(of: state.progress)
            guard allowed.contains(next) else {
                let from = state.progress?.rawValue ?? "—"
                let list = allowed.map(\.rawValue).joined(separator: ", ")
                return RoutingError(
                    "status_not_allowed",
                    vi: "Không được chuyển trạng thái từ \(from) sang \(next.rawValue)\(list.isEmpty ? "" : " (được phép: \(list))").",
                    en: "Status \(next.rawValue) may not follow \(from)\(list.isEmpty ? "" : " (allowed: \(list))").")
            }
            return nil
        }
    }

    /// The workflow statuses that may follow `progress`.
    public static func successors(of progress: StatusCode?) -> [StatusCode] {
        switch progress {
        case nil: [.arrived]
        case .arrived?: [.refused, .accepted]
        case .accepted?: [.assigned]
        case .assigned?: [.processing]
        case .processing?: [.done]
        default: []
        }
    }
}
