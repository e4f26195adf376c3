import Foundation

/// What a new document needs, in typed form (also the JSON of `govoffice edxml build --from`).
public struct DocumentSpec: Sendable, Equatable, Codable {
    /// A file to attach.
    public struct File: Sendable, Equatable, Codable {
        /// File name.
        public var name: String
        /// MIME type.
        public var contentType: String
        /// Description (defaults to the name).
        public var description: String?
        /// The bytes (base64 in JSON).
        public var data: Data

        /// A file to attach.
        public init(name: String, contentType: String, description: String? = nil, data: Data) {
            self.name = name
            self.contentType = contentType
            self.description = description
            self.data = data
        }
    }

    /// Sender.
    public var from: Organization
    /// Recipients.
    public var to: [Organization]
    /// Number (số).
    public var codeNumber: String
    /// Notation (ký hiệu).
    public var codeNotation: String
    /// Place of issue.
    public var place: String?
    /// `yyyy/MM/dd`; today in Vietnam when nil.
    public var promulgationDate: String?
    /// Type code (opaque).
    public var type: String?
    /// Type detail code.
    public var typeDetail: String?
    /// Type name, e.g. `Công văn`.
    public var typeName: String
    /// Summary (trích yếu).
    public var subject: String
    /// Content summary (defaults to the subject, as the SDK does).
    public var content: String?
    /// Signer.
    public var signer: SignerInfo?
    /// `yyyy/MM/dd`.
    public var dueDate: String?
    /// "Nơi nhận" lines.
    public var toPlaces: [String]?
    /// Urgency.
    public var priority: Priority?
    /// Circulation.
    public var sphereOfPromulgation: String?
    /// Typist initials.
    public var typerNotation: String?
    /// Copies.
    public var promulgationAmount: Int?
    /// Pages.
    public var pageAmount: Int?
    /// Appendix titles.
    public var appendixes: [String]?
    /// Steering type.
    public var steeringType: Int?
    /// The clerk sending it.
    public var staff: StaffInfo?
    /// Files.
    public var files: [File]?

    /// A spec with the required fields; set the optional ones as needed.
    public init(from: Organization, to: [Organization], codeNumber: String, codeNotation: String,
                typeName: String, subject: String) {
        self.from = from
        self.to = to
        self.codeNumber = codeNumber
        self.codeNotation = codeNotation
        self.typeName = typeName
        self.subject = subject
    }
}

/// Builds messages in the Government Office SDK's shape.
public enum EdXMLBuilder {
    /// A new document (BussinessDocType 0).
    public static func document(_ spec: DocumentSpec, at now: Date = Date()) -> DocumentMessage {
        let date = spec.promulgationDate ?? EdXMLTime.date(now)
        let id = DocumentIdParts.make(organId: spec.from.organId, date: date, codeNumber: spec.codeNumber,
                                      codeNotation: spec.codeNotation)
        let header = MessageHeader(
            from: spec.from, to: spec.to, documentId: id,
            code: DocumentCode(codeNumber: spec.codeNumber, codeNotation: spec.codeNotation),
            promulgationInfo: PromulgationInfo(place: spec.place, promulgationDate: date),
            documentType: DocumentType(type: spec.type, typeDetail: spec.typeDetail, typeName: spec.typeName),
            subject: spec.subject, content: spec.content ?? spec.subject, signerInfo: spec.signer,
            dueDate: spec.dueDate, toPlaces: spec.toPlaces,
            otherInfo: OtherInfo(
                priority: String((spec.priority ?? .normal).rawValue), sphereOfPromulgation: spec.sphereOfPromulgation,
                typerNotation: spec.typerNotation, promulgationAmount: spec.promulgationAmount.map(String.init),
                pageAmount: spec.pageAmount.map(String.init), appendixes: spec.appendixes),
            steeringType: spec.steeringType.map(String.init))
        var manifest: [ManifestReference] = []
        var attachments: [Attachment] = []
        for (index, file) in (spec.files ?? []).enumerated() {
            let cid = "cid:\(index + 1)"
            manifest.append(ManifestReference(contentId: cid, contentType: file.contentType,
                                              description: file.description ?? file.name, attachmentName: file.name))
            attachments.append(Attachment(contentId: cid, attachmentName: file.name,
                                          description: file.description ?? file.name, contentType: file.contentType,
                                          content: file.data))
        }
        return DocumentMessage(
            header: header, traces: [TraceHeader(organId: spec.from.organId, timestamp: EdXMLTime.timestamp(now))],
            business: Business(documentId: id, businessDocType: BusinessDocType.new.rawValue,
                               businessDocReason: BusinessDocType.new.defaultReason, paper: "0", staffInfo: spec.staff),
            manifest: manifest, attachments: attachments)
    }

    /// Revocation (BussinessDocType 1) of a sent document, addressed to `recipients` (all of the
    /// original's by default). It carries the original's header and no files.
    public static func revocation(of original: DocumentMessage, recipients: [Organization]? = nil,
                                  reason: String? = nil, staff: StaffInfo? = nil, at now: Date = Date()) -> DocumentMessage {
        derived(from: original, type: .revocation, recipients: recipients, reason: reason, staff: staff, at: now)
    }

    /// Update (BussinessDocType 2): the original with `change` applied, and the receiver changes.
    /// Added receivers are also addressed, removed ones are told too, so every side learns.
    public static func update(of original: DocumentMessage, addReceivers: [Organization] = [],
                              removeReceivers: [String] = [], infoChanged: Bool = true, reason: String? = nil,
                              staff: StaffInfo? = nil, at now: Date = Date(),
                              change: (inout DocumentMessage) -> Void = { _ in }) -> DocumentMessage {
        var updated = original
        change(&updated)
        var recipients = original.header.to
        for added in addReceivers where !recipients.contains(where: { $0.organId == added.organId }) {
            recipients.append(added)
        }
        var message = derived(from: updated, type: .update, recipients: recipients, reason: reason, staff: staff, at: now,
                              keepFiles: true)
        let receivers = addReceivers.map { Receiver(organId: $0.organId, receiverType: "1") }
            + removeReceivers.map { Receiver(organId: $0, receiverType: "0") }
        message.business?.businessDocumentInfo = BusinessDocumentInfo(
            documentInfo: infoChanged ? "1" : "0", documentReceiver: receivers.isEmpty ? "0" : "1",
            receivers: receivers.isEmpty ? nil : receivers)
        return message
    }

    /// Replacement (BussinessDocType 3): a new document `spec` that replaces `replaced` (document
    /// ids) at the given agencies (every recipient of the new document by default).
    public static func replacement(_ spec: DocumentSpec, replacing replaced: [String], organIds: [String]? = nil,
                                   reason: String? = nil, at now: Date = Date()) -> DocumentMessage {
        var message = document(spec, at: now)
        message.business?.businessDocType = BusinessDocType.replacement.rawValue
        message.business?.businessDocReason = reason ?? BusinessDocType.replacement.defaultReason
        let organs = organIds ?? spec.to.map(\.organId)
        message.business?.replacementInfoList = replaced.map { ReplacementInfo(documentId: $0, organIds: organs) }
        return message
    }

    private static func derived(from original: DocumentMessage, type: BusinessDocType, recipients: [Organization]?,
                                reason: String?, staff: StaffInfo?, at now: Date, keepFiles: Bool = false) -> DocumentMessage {
        var header = original.header
        header.to = recipients ?? original.header.to
        header.responseFor = []
        return DocumentMessage(
            header: header, traces: [TraceHeader(organId: header.from.organId, timestamp: EdXMLTime.timestamp(now))],
            business: Business(documentId: original.header.documentId, businessDocType: type.rawValue,
                               businessDocReason: reason ?? type.defaultReason, paper: "0",
                               staffInfo: staff ?? original.business?.staffInfo),
            manifest: keepFiles ? original.manifest : [], attachments: keepFiles ? original.attachments : [])
    }

    /// A status reply about `document`, from `from` (the receiver; for 13, the original sender,
    /// in which case `receiver` names whom the request goes to).
    public static func status(_ code: StatusCode, for document: DocumentMessage, from: Organization,
                              receiver: String? = nil, description: String? = nil, staff: StaffInfo? = nil,
                              at now: Date = Date()) -> StatusMessage {
        let header = document.header
        let organ = code == .revokeRequest ? (receiver ?? header.to.first?.organId) : header.from.organId
        return StatusMessage(
            from: from,
            responseFor: ResponseFor(organId: organ, code: header.code?.display,
                                     promulgationDate: header.promulgationInfo?.promulgationDate,
                                     documentId: header.documentId),
            staffInfo: staff, statusCode: code.rawValue, description: description ?? code.officialDescription,
            timestamp: EdXMLTime.timestamp(now))
    }
}
