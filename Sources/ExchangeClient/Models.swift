import Foundation

/// What an edXML message is: a document (văn bản: new, revocation, update, replacement) or a
/// status message (trạng thái xử lý) about a document.
public enum MessageKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A document message (gói tin văn bản).
    case document
    /// A status message (gói tin trạng thái).
    case status
}

/// The hub's answer to a submission: 201 for a new message, 200 when the same sender already
/// submitted the same bytes or the same DocumentId with the same content (`duplicate` is then true
/// and `messageID` is the first submission's, so retrying a submit is safe).
public struct SubmitResult: Sendable, Hashable, Codable {
    /// The hub's id of the message (lower-case UUID in JSON).
    public var messageID: UUID
    /// Whether the hub already had this message from this sender.
    public var duplicate: Bool
    /// Document or status message.
    public var kind: MessageKind
    /// The edXML business type (0 new, 1 revocation, 2 update, 3 replacement for documents).
    public var businessType: Int
    /// The edXML DocumentId the message is about (mã định danh văn bản), when the hub reports one.
    public var documentID: String?
    /// The status code (mã trạng thái, for example `03`) of a status message; nil for documents.
    public var statusCode: String?
    /// The agency codes the hub will deliver to.
    public var recipients: [String]
    /// Lower-case hex SHA-256 of the submitted bytes, as the hub computed it.
    public var sha256: String
    /// The submitted size in bytes.
    public var size: Int64
    /// When the hub accepted the message (thời điểm tiếp nhận).
    public var acceptedAt: Date
    /// The hub path of the signed receipt (`/api/v1/exchange/messages/{id}/receipt`).
    public var receiptURL: String

    /// A result with every field given (for tests and for hubs that build the answer).
    public init(messageID: UUID, duplicate: Bool, kind: MessageKind, businessType: Int, documentID: String?,
                statusCode: String?, recipients: [String], sha256: String, size: Int64, acceptedAt: Date,
                receiptURL: String) {
        self.messageID = messageID
        self.duplicate = duplicate
        self.kind = kind
        self.businessType = businessType
        self.documentID = documentID
        self.statusCode = statusCode
        self.recipients = recipients
        self.sha256 = sha256
        self.size = size
        self.acceptedAt = acceptedAt
        self.receiptURL = receiptURL
    }

    enum CodingKeys: String, CodingKey {
        case duplicate, kind, recipients, sha256, size
        case messageID = "message_id", businessType = "business_type", documentID = "document_id"
        case statusCode = "status_code", acceptedAt = "accepted_at", receiptURL = "receipt_url"
    }
}

/// One message waiting for the caller's agency (văn bản/trạng thái đến). It stays in the inbox
/// until acknowledged, so the same item can be listed many times.
public struct InboxItem: Sendable, Hashable, Codable {
    /// The hub's id of the message; pass it to `fetch` and `acknowledge`.
    public var messageID: UUID
    /// Document or status message.
    public var kind: MessageKind
    /// The edXML business type.
    public var businessType: Int
    /// The sending agency's code (mã định danh cơ quan gửi).
    public var sender: String
    /// The edXML DocumentId, when known.
    public var documentID: String?
    /// The status code of a status message; nil for documents.
    public var statusCode: String?
    /// The document's subject (trích yếu), when the hub extracted one.
    public var subject: String?
    /// The message size in bytes.
    public var size: Int64
    /// When the hub accepted the message.
    public var acceptedAt: Date
    /// The hub's acceptance order; items are listed by ascending sequence.
    public var sequence: Int64
    /// How many times the hub has already offered this delivery.
    public var attempts: Int

    /// An item with every field given.
    public init(messageID: UUID, kind: MessageKind, businessType: Int, sender: String, documentID: String?,
                statusCode: String?, subject: String?, size: Int64, acceptedAt: Date, sequence: Int64, attempts: Int) {
        self.messageID = messageID
        self.kind = kind
        self.businessType = businessType
        self.sender = sender
        self.documentID = documentID
        self.statusCode = statusCode
        self.subject = subject
        self.size = size
        self.acceptedAt = acceptedAt
        self.sequence = sequence
        self.attempts = attempts
    }

    enum CodingKeys: String, CodingKey {
        case kind, sender, subject, size, sequence, attempts
        case messageID = "message_id", businessType = "business_type", documentID = "document_id"
        case statusCode = "status_code", acceptedAt = "accepted_at"
    }
}

/// A downloaded message: the exact bytes the sender submitted, checked against the hub's
/// `X-Message-Sha256` before being returned.
public struct FetchedMessage: Sendable, Hashable {
    /// The message id that was fetched.
    public var id: UUID
    /// The edXML bytes, byte for byte as submitted (signatures stay verifiable).
    public var bytes: Data
    /// Lower-case hex SHA-256 of `bytes` (equal to the hub's header, or the fetch would have failed).
    public var sha256: String

    /// A fetched message with every field given.
    public init(id: UUID, bytes: Data, sha256: String) {
        self.id = id
        self.bytes = bytes
        self.sha256 = sha256
    }
}

/// How the recipient system handled a message: processed (`done`) or refused with a reason the
/// sender will see (`failed`).
public enum AckOutcome: Sendable, Hashable {
    /// The message was received and processed.
    case done
    /// The message could not be processed; `reason` is required by the hub and shown to the sender.
    case failed(reason: String)
}

/// The state an acknowledgement recorded. A raw-value struct rather than an enum so a state added
/// by a later hub version decodes instead of failing every call.
public struct AckState: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The state as the hub spells it.
    public var rawValue: String
    /// Wraps a state string.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// The message was acknowledged as processed.
    public static let acknowledged = AckState(rawValue: "acknowledged")
    /// The message was acknowledged as failed.
    public static let failed = AckState(rawValue: "failed")
    /// The raw state.
    public var description: String { rawValue }
}

/// The hub's answer to an acknowledgement. Repeating an ack returns the first ack's state and time.
public struct AckResult: Sendable, Hashable, Codable {
    /// The acknowledged message.
    public var messageID: UUID
    /// `acknowledged` or `failed`.
    public var state: AckState
    /// When the (first) acknowledgement was recorded.
    public var acknowledgedAt: Date

    /// A result with every field given.
    public init(messageID: UUID, state: AckState, acknowledgedAt: Date) {
        self.messageID = messageID
        self.state = state
        self.acknowledgedAt = acknowledgedAt
    }

    enum CodingKeys: String, CodingKey {
        case state
        case messageID = "message_id", acknowledgedAt = "acknowledged_at"
    }
}

/// Where one delivery stands (trạng thái chuyển phát). Extensible for the same reason as `AckState`.
public struct DeliveryState: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The state as the hub spells it.
    public var rawValue: String
    /// Wraps a state string.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Waiting for the recipient to take it.
    public static let pending = DeliveryState(rawValue: "pending")
    /// Taken by the recipient (fetched or pushed), not yet acknowledged.
    public static let delivered = DeliveryState(rawValue: "delivered")
    /// Acknowledged as processed.
    public static let acknowledged = DeliveryState(rawValue: "acknowledged")
    /// Acknowledged as failed by the recipient.
    public static let failed = DeliveryState(rawValue: "failed")
    /// Given up after retries; listed in dead letters and can be redelivered.
    public static let dead = DeliveryState(rawValue: "dead")
    /// The agency is no longer a party of the document, so nothing more is delivered to it.
    public static let removed = DeliveryState(rawValue: "removed")
    /// The raw state.
    public var description: String { rawValue }
}

/// One status a recipient reported about a sent document (for example `01` received, `03` assigned).
public struct StatusEntry: Sendable, Hashable, Codable {
    /// The status code (mã trạng thái).
    public var code: String
    /// When the status was reported.
    public var at: Date
    /// The status description from the status message, when there was one.
    public var description: String?
    /// The id of the status message that carried it.
    public var messageID: UUID

    /// An entry with every field given.
    public init(code: String, at: Date, description: String?, messageID: UUID) {
        self.code = code
        self.at = at
        self.description = description
        self.messageID = messageID
    }

    enum CodingKeys: String, CodingKey {
        case code, at, description
        case messageID = "message_id"
    }
}

/// How one recipient agency is doing with a sent document.
public struct RecipientDelivery: Sendable, Hashable, Codable {
    /// The recipient agency's code.
    public var agency: String
    /// Where the delivery stands.
    public var deliveryState: DeliveryState
    /// When the recipient took the message; nil while pending.
    public var deliveredAt: Date?
    /// When the recipient acknowledged it; nil until then.
    public var acknowledgedAt: Date?
    /// Delivery attempts so far.
    public var attempts: Int
    /// The last delivery error (push failures), nil when none.
    public var lastError: String?
    /// The latest status code the recipient reported, nil when none yet.
    public var latestStatus: String?
    /// When the latest status was reported.
    public var latestStatusAt: Date?
    /// Every status the recipient reported, oldest first.
    public var statuses: [StatusEntry]

    /// A delivery with every field given.
    public init(agency: String, deliveryState: DeliveryState, deliveredAt: Date?, acknowledgedAt: Date?, attempts: Int,
                lastError: String?, latestStatus: String?, latestStatusAt: Date?, statuses: [StatusEntry]) {
        self.agency = agency
        self.deliveryState = deliveryState
        self.deliveredAt = deliveredAt
        self.acknowledgedAt = acknowledgedAt
        self.attempts = attempts
        self.lastError = lastError
        self.latestStatus = latestStatus
        self.latestStatusAt = latestStatusAt
        self.statuses = statuses
    }

    enum CodingKeys: String, CodingKey {
        case agency, attempts, statuses
        case deliveryState = "delivery_state", deliveredAt = "delivered_at", acknowledgedAt = "acknowledged_at"
        case lastError = "last_error", latestStatus = "latest_status", latestStatusAt = "latest_status_at"
    }
}

/// A sent document's deliveries and the statuses its recipients reported (only its sender may ask).
public struct DeliveryHistory: Sendable, Hashable, Codable {
    /// The sent message.
    public var messageID: UUID
    /// Its edXML DocumentId, when known.
    public var documentID: String?
    /// When the hub accepted it.
    public var acceptedAt: Date
    /// Its edXML business type.
    public var businessType: Int
    /// One entry per recipient agency.
    public var recipients: [RecipientDelivery]

    /// A history with every field given.
    public init(messageID: UUID, documentID: String?, acceptedAt: Date, businessType: Int, recipients: [RecipientDelivery]) {
        self.messageID = messageID
        self.documentID = documentID
        self.acceptedAt = acceptedAt
        self.businessType = businessType
        self.recipients = recipients
    }

    enum CodingKeys: String, CodingKey {
        case recipients
        case messageID = "message_id", documentID = "document_id", acceptedAt = "accepted_at"
        case businessType = "business_type"
    }
}

/// The hub's signed proof that it accepted a message (biên nhận): the parsed content, the exact
/// signed JSON, a detached CMS signature over it and the hub's certificate. Verifying the signature
/// needs a PKI library and the hub's trust anchor, which this module deliberately does not carry.
public struct Receipt: Sendable, Hashable, Codable {
    /// What the receipt attests.
    public struct Content: Sendable, Hashable, Codable {
        /// The accepted message.
        public var messageID: UUID
        /// Lower-case hex SHA-256 of the accepted bytes.
        public var sha256: String
        /// The sending agency's code.
        public var sender: String
        /// The recipient agencies' codes.
        public var recipients: [String]
        /// When the hub accepted the message.
        public var acceptedAt: Date
        /// The sequence number of the hub's evidence log entry for the acceptance.
        public var evidenceSeq: Int64

        /// Content with every field given.
        public init(messageID: UUID, sha256: String, sender: String, recipients: [String], acceptedAt: Date, evidenceSeq: Int64) {
            self.messageID = messageID
            self.sha256 = sha256
            self.sender = sender
            self.recipients = recipients
            self.acceptedAt = acceptedAt
            self.evidenceSeq = evidenceSeq
        }

        enum CodingKeys: String, CodingKey {
            case sha256, sender, recipients
            case messageID = "message_id", acceptedAt = "accepted_at", evidenceSeq = "evidence_seq"
        }
    }

    /// The parsed receipt (convenience; the signature covers `receiptJSON`, not this re-parse).
    public var receipt: Content
    /// The exact signed JSON text.
    public var receiptJSON: String
    /// Base64 DER CMS SignedData, detached, over `receiptJSON`'s UTF-8 bytes.
    public var signatureCMS: String
    /// The hub's signing certificate, PEM.
    public var certificatePEM: String

    /// A receipt with every field given.
    public init(receipt: Content, receiptJSON: String, signatureCMS: String, certificatePEM: String) {
        self.receipt = receipt
        self.receiptJSON = receiptJSON
        self.signatureCMS = signatureCMS
        self.certificatePEM = certificatePEM
    }

    /// The bytes the CMS signature covers.
    public var signedBytes: Data { Data(receiptJSON.utf8) }

    /// The DER CMS signature, nil if `signatureCMS` is not valid base64.
    public var signatureDER: Data? { Data(base64Encoded: signatureCMS, options: .ignoreUnknownCharacters) }

    enum CodingKeys: String, CodingKey {
        case receipt
        case receiptJSON = "receipt_json", signatureCMS = "signature_cms", certificatePEM = "certificate_pem"
    }
}

/// The push endpoint registered for the calling agency system (one per system; registering again
/// replaces it).
public struct Webhook: Sendable, Hashable, Codable {
    /// The hub's id of the registration; pass it to `deleteWebhook`.
    public var id: UUID
    /// Where the hub POSTs messages.
    public var url: String
    /// When it was registered.
    public var createdAt: Date

    /// A webhook with every field given.
    public init(id: UUID, url: String, createdAt: Date) {
        self.id = id
        self.url = url
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, url
        case createdAt = "created_at"
    }
}

/// A delivery of one of the caller's sent messages that the hub gave up on (thư chết).
public struct DeadLetter: Sendable, Hashable, Codable {
    /// The delivery; pass it to `redeliver(deliveryID:)`.
    public var deliveryID: UUID
    /// The sent message.
    public var messageID: UUID
    /// The recipient agency's code.
    public var recipient: String
    /// Attempts made before giving up.
    public var attempts: Int
    /// The last error seen, nil when none was recorded.
    public var lastError: String?
    /// When the delivery was declared dead.
    public var deadAt: Date

    /// A dead letter with every field given.
    public init(deliveryID: UUID, messageID: UUID, recipient: String, attempts: Int, lastError: String?, deadAt: Date) {
        self.deliveryID = deliveryID
        self.messageID = messageID
        self.recipient = recipient
        self.attempts = attempts
        self.lastError = lastError
        self.deadAt = deadAt
    }

    enum CodingKeys: String, CodingKey {
        case recipient, attempts
        case deliveryID = "delivery_id", messageID = "message_id", lastError = "last_error", deadAt = "dead_at"
    }
}

/// The hub's answer to a redelivery: the delivery is pending again.
public struct RedeliverResult: Sendable, Hashable, Codable {
    /// The delivery that was reset.
    public var deliveryID: UUID
    /// Its new state (`pending`).
    public var state: DeliveryState

    /// A result with every field given.
    public init(deliveryID: UUID, state: DeliveryState) {
        self.deliveryID = deliveryID
        self.state = state
    }

    enum CodingKeys: String, CodingKey {
        case state
        case deliveryID = "delivery_id"
    }
}

/// Who the hub thinks the caller is (`GET /api/v1/system/whoami`): the first call an integrator
/// makes to check its credentials.
public struct Identity: Sendable, Hashable, Codable {
    /// The authenticated system id.
    public var systemID: String
    /// The system's display name.
    public var name: String
    /// The code of the agency the system belongs to.
    public var agencyCode: String
    /// The agency's name.
    public var agencyName: String

    /// An identity with every field given.
    public init(systemID: String, name: String, agencyCode: String, agencyName: String) {
        self.systemID = systemID
        self.name = name
        self.agencyCode = agencyCode
        self.agencyName = agencyName
    }

    enum CodingKeys: String, CodingKey {
        case name
        case systemID = "system_id", agencyCode = "agency_code", agencyName = "agency_name"
    }
}

/// `{"items": [...]}`, the hub's list envelope.
struct ItemList<Item: Decodable>: Decodable {
    var items: [Item]
}
