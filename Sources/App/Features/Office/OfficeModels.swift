import Fluent
import Foundation
import Vapor

/// How one agency's office reaches the hub: its address, the system credentials the hub issued,
/// and the organisation's key and certificate that sign what the office sends.
final class OfficeConnection: Model, @unchecked Sendable {
    static let schema = "office_connections"

    /// `hub_url` of an office that runs beside the hub in the same server: the worker calls this
    /// server's own listening address, whatever port it was started on.
    static let localHub = "local"

    @ID(key: .id) var id: UUID?
    @Field(key: "agency_code") var agencyCode: String
    @Field(key: "hub_url") var hubURL: String
    @Field(key: "system_id") var systemID: String
    @Field(key: "secret") var secret: String
    @Field(key: "key_path") var keyPath: String
    @Field(key: "cert_path") var certPath: String
    /// A PKCS#11 module (e.g. the token vendor's library): the key is on the token, not in a file.
    @OptionalField(key: "pkcs11_module") var pkcs11Module: String?
    @OptionalField(key: "token_label") var tokenLabel: String?
    @OptionalField(key: "key_label") var keyLabel: String?
    @Field(key: "enabled") var enabled: Bool
    @OptionalField(key: "last_error") var lastError: String?
    @OptionalField(key: "last_contact_at") var lastContactAt: Date?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?

    init() {}
}

/// Which way a document goes.
enum OfficeDirection: String, Codable, Sendable {
    /// Văn bản đến.
    case incoming = "in"
    /// Văn bản đi.
    case outgoing = "out"
}

/// Where an outgoing document stands.
enum OutgoingState: String, Codable, Sendable, CaseIterable {
    /// Being drafted.
    case draft
    /// Approved by a leader; waits for its number.
    case approved
    /// Numbered and registered by the clerk; waits to be signed and sent.
    case numbered
    /// Signed with the organisation's key and handed to the hub (or printed, for paper recipients).
    case sent
    /// Taken back after sending (every recipient agreed, or the clerk revoked it).
    case revoked
}

/// One document of the office, incoming or outgoing.
final class OfficeDocument: Model, @unchecked Sendable {
    static let schema = "office_documents"
    /// The full-text index over number, subject, content and sender.
    static let search = FullTextSearch(table: schema)

    @ID(key: .id) var id: UUID?
    @Field(key: "agency_code") var agencyCode: String
    @Field(key: "direction") var direction: OfficeDirection
    @Field(key: "state") var state: String
    @OptionalField(key: "revocation") var revocation: String?
    @Field(key: "register_code") var registerCode: String
    @Field(key: "year") var year: Int
    @OptionalField(key: "reg_number") var regNumber: Int?
    @Field(key: "secret") var secret: Bool
    @OptionalField(key: "code_number") var codeNumber: String?
    @OptionalField(key: "code_notation") var codeNotation: String?
    @OptionalField(key: "arrival_date") var arrivalDate: String?
    @Field(key: "type_code") var typeCode: String
    @Field(key: "type_name") var typeName: String
    @Field(key: "subject") var subject: String
    @Field(key: "content") var content: String
    @OptionalField(key: "sender_code") var senderCode: String?
    @OptionalField(key: "sender_name") var senderName: String?
    @OptionalField(key: "signer_name") var signerName: String?
    @OptionalField(key: "signer_position") var signerPosition: String?
    @OptionalField(key: "competence") var competence: String?
    @OptionalField(key: "promulgation_date") var promulgationDate: String?
    @Field(key: "urgency") var urgency: Int
    @OptionalField(key: "places") var places: String?
    @Field(key: "recipients") var recipients: String
    @Field(key: "paper") var paper: Bool
    @OptionalField(key: "hub_message_id") var hubMessageID: String?
    @OptionalField(key: "edxml_document_id") var edxmlDocumentID: String?
    @OptionalField(key: "edxml") var edxml: Data?
    @OptionalField(key: "check_note") var checkNote: String?
    @OptionalField(key: "rejection_reason") var rejectionReason: String?
    @OptionalField(key: "lead_unit") var leadUnit: String?
    @OptionalField(key: "coordinating_units") var coordinatingUnits: String?
    @OptionalField(key: "deadline") var deadline: String?
    @OptionalField(key: "opinion") var opinion: String?
    @OptionalField(key: "specialist") var specialist: String?
    @OptionalField(key: "created_by") var createdBy: String?
    @OptionalField(key: "approved_by") var approvedBy: String?
    @OptionalField(key: "numbered_by") var numberedBy: String?
    @OptionalField(key: "sent_at") var sentAt: Date?
    @OptionalField(key: "done_at") var doneAt: Date?
    @Field(key: "search_text") var searchText: String
    /// The earlier outgoing document this one replaces, if any.
    @OptionalField(key: "replaces_id") var replacesID: UUID?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {}

    /// The document's own number and notation as printed ("12/QĐ-UBND"), if it has one.
    var displayNumber: String? {
        guard let codeNumber, !codeNumber.isEmpty else { return codeNotation }
        guard let codeNotation, !codeNotation.isEmpty else { return codeNumber }
        return "\(codeNumber)/\(codeNotation)"
    }

    /// The recipients' agency codes (outgoing) as stored.
    var recipientCodes: [String] { recipients.split(separator: ",").map(String.init) }
}

/// A file attached to a document (the scan of a paper document, annexes).
final class OfficeAttachment: Model, @unchecked Sendable {
    static let schema = "office_attachments"
    @ID(key: .id) var id: UUID?
    @Parent(key: "document_id") var document: OfficeDocument
    @Field(key: "name") var name: String
    @Field(key: "content_type") var contentType: String
    @Field(key: "size") var size: Int
    @Field(key: "data") var data: Data
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    init() {}
}

/// A unit's part in handling an incoming document: lead (chủ trì) or co-ordinating (phối hợp).
final class OfficeAssignment: Model, @unchecked Sendable {
    static let schema = "office_assignments"
    @ID(key: .id) var id: UUID?
    @Parent(key: "document_id") var document: OfficeDocument
    @Field(key: "unit") var unit: String
    @Field(key: "role") var role: String
    @OptionalField(key: "deadline") var deadline: String?
    init() {}
}

/// A status a recipient sent back about an outgoing document (the recipient status matrix).
final class OfficeStatus: Model, @unchecked Sendable {
    static let schema = "office_statuses"
    @ID(key: .id) var id: UUID?
    @Parent(key: "document_id") var document: OfficeDocument
    @Field(key: "agency_code") var agencyCode: String
    @Field(key: "code") var code: String
    @OptionalField(key: "description") var statusDescription: String?
    @Field(key: "hub_message_id") var hubMessageID: String
    @Field(key: "at") var at: Date
    init() {}
}

/// One line of a document's history: who did what, when.
final class OfficeHistory: Model, @unchecked Sendable {
    static let schema = "office_history"
    @ID(key: .id) var id: UUID?
    @Parent(key: "document_id") var document: OfficeDocument
    @Field(key: "at") var at: Date
    @Field(key: "actor") var actor: String
    @Field(key: "action") var action: String
    @OptionalField(key: "note") var note: String?
    init() {}
}

/// A message waiting to go to the hub: written in the same transaction as the step that causes
/// it, so a step is never done without its status, and a crash loses neither.
final class OfficeOutboxItem: Model, @unchecked Sendable {
    static let schema = "office_outbox"
    @ID(key: .id) var id: UUID?
    @Field(key: "agency_code") var agencyCode: String
    @OptionalField(key: "document_id") var documentID: UUID?
    @Field(key: "kind") var kind: String
    @Field(key: "payload") var payload: Data
    @Field(key: "state") var state: String
    @Field(key: "attempts") var attempts: Int
    @OptionalField(key: "last_error") var lastError: String?
    @Field(key: "next_at") var nextAt: Date
    @OptionalField(key: "lease_until") var leaseUntil: Date?
    @OptionalField(key: "hub_message_id") var hubMessageID: String?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    init() {}
}

/// A revocation, update or status the office did not apply because its signature did not verify
/// against the sender's seal: the bytes as fetched and the reason, for audit. (A refused new or
/// replacement document is kept as a rejected `OfficeDocument` instead.)
final class OfficeRefusedMessage: Model, @unchecked Sendable {
    static let schema = "office_refused_messages"

    @ID(key: .id) var id: UUID?
    @Field(key: "agency_code") var agencyCode: String
    @Field(key: "hub_message_id") var hubMessageID: String
    /// `document` (revocation or update) or `status`.
    @Field(key: "kind") var kind: String
    /// `BussinessDocType` of a document, as sent.
    @OptionalField(key: "business_type") var businessType: String?
    @OptionalField(key: "status_code") var statusCode: String?
    /// The agency the message claims to come from.
    @Field(key: "sender_code") var senderCode: String
    /// The document it is about.
    @OptionalField(key: "document_id") var documentID: String?
    @Field(key: "reason") var reason: String
    @Field(key: "edxml") var edxml: Data
    @Timestamp(key: "refused_at", on: .create) var refusedAt: Date?

    init() {}
}
