import Foundation

/// The XML namespace of QCVN 102:2016 messages.
public let edXMLNamespace = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
/// The W3C XML-DSig namespace some producers put on `Signature`.
public let xmlDSigNamespace = "http://www.w3.org/2000/09/xmldsig#"

// The model keeps every value as the text that was sent: a message must round-trip exactly, and
// real producers send values that do not parse (the SDK's own sample has the date 2014/02/30).
// Typed accessors read those texts; `EdXMLValidator` judges them.

/// An agency as edXML describes it (`From`, `To`).
public struct Organization: Sendable, Equatable, Codable {
    /// The agency's electronic code (mã định danh, e.g. `000.00.00.G22`).
    public var organId: String
    /// The managing unit: samples put a name here, the standard's notes a code; kept as text.
    public var organizationInCharge: String?
    /// The agency's name.
    public var organName: String?
    /// Postal address.
    public var organAdd: String?
    /// E-mail address.
    public var email: String?
    /// Telephone.
    public var telephone: String?
    /// Fax.
    public var fax: String?
    /// Website.
    public var website: String?

    /// An organisation with the given code and optional details.
    public init(organId: String, organizationInCharge: String? = nil, organName: String? = nil,
                organAdd: String? = nil, email: String? = nil, telephone: String? = nil, fax: String? = nil,
                website: String? = nil) {
        self.organId = organId
        self.organizationInCharge = organizationInCharge
        self.organName = organName
        self.organAdd = organAdd
        self.email = email
        self.telephone = telephone
        self.fax = fax
        self.website = website
    }
}

/// The document's number and notation ("Số, ký hiệu"), e.g. `7816` and `VPCP-TTĐT`.
public struct DocumentCode: Sendable, Equatable, Codable {
    /// The number (số).
    public var codeNumber: String?
    /// The notation (ký hiệu).
    public var codeNotation: String?

    /// A code of the given number and notation.
    public init(codeNumber: String? = nil, codeNotation: String? = nil) {
        self.codeNumber = codeNumber
        self.codeNotation = codeNotation
    }

    /// `number/notation`, as documents print it.
    public var display: String? {
        guard let number = codeNumber, let notation = codeNotation else { return nil }
        return "\(number)/\(notation)"
    }
}

/// Where and when the document was issued.
public struct PromulgationInfo: Sendable, Equatable, Codable {
    /// Place name (địa danh), e.g. `Hà Nội`.
    public var place: String?
    /// `yyyy/MM/dd`.
    public var promulgationDate: String?

    /// Place and date as sent.
    public init(place: String? = nil, promulgationDate: String? = nil) {
        self.place = place
        self.promulgationDate = promulgationDate
    }
}

/// The administrative document type (`Type` is an opaque code; `TypeName` the readable name).
public struct DocumentType: Sendable, Equatable, Codable {
    /// The type code (its list is not published; kept opaque).
    public var type: String?
    /// The detail code.
    public var typeDetail: String?
    /// The type's name, e.g. `Công văn`.
    public var typeName: String?

    /// A type as sent.
    public init(type: String? = nil, typeDetail: String? = nil, typeName: String? = nil) {
        self.type = type
        self.typeDetail = typeDetail
        self.typeName = typeName
    }
}

/// Who signed: authority prefix and title (`KT. BỘ TRƯỞNG`), position, full name.
public struct SignerInfo: Sendable, Equatable, Codable {
    /// Competence, e.g. `TL. BỘ TRƯỞNG`.
    public var competence: String?
    /// Position.
    public var position: String?
    /// Full name.
    public var fullName: String?

    /// A signer as sent.
    public init(competence: String? = nil, position: String? = nil, fullName: String? = nil) {
        self.competence = competence
        self.position = position
        self.fullName = fullName
    }
}

/// `OtherInfo`: urgency, circulation, typist, copies, pages, direction, appendices.
public struct OtherInfo: Sendable, Equatable, Codable {
    /// `0` normal … `4` timed flash (see `Priority`).
    public var priority: String?
    /// Circulation, e.g. `Liên thông văn bản quốc gia`.
    public var sphereOfPromulgation: String?
    /// Typist or drafting unit initials.
    public var typerNotation: String?
    /// Number of copies.
    public var promulgationAmount: String?
    /// Number of pages.
    public var pageAmount: String?
    /// `true`/`false` (optional).
    public var direction: String?
    /// Appendix titles; nil when the `Appendixes` element is absent.
    public var appendixes: [String]?

    /// Other information as sent.
    public init(priority: String? = nil, sphereOfPromulgation: String? = nil, typerNotation: String? = nil,
                promulgationAmount: String? = nil, pageAmount: String? = nil, direction: String? = nil,
                appendixes: [String]? = nil) {
        self.priority = priority
        self.sphereOfPromulgation = sphereOfPromulgation
        self.typerNotation = typerNotation
        self.promulgationAmount = promulgationAmount
        self.pageAmount = pageAmount
        self.direction = direction
        self.appendixes = appendixes
    }
}

/// Urgency (mức độ khẩn) of a document.
public enum Priority: Int, Sendable, CaseIterable, Codable {
    /// Thường.
    case normal = 0
    /// Khẩn.
    case urgent = 1
    /// Thượng khẩn.
    case veryUrgent = 2
    /// Hỏa tốc.
    case flash = 3
    /// Hỏa tốc hẹn giờ (legacy).
    case timedFlash = 4
}

/// The document a message answers or refers to.
public struct ResponseFor: Sendable, Equatable, Codable {
    /// The agency concerned (for a status: the original sender; for 13: the receiver).
    public var organId: String?
    /// `number/notation` of the document.
    public var code: String?
    /// `yyyy/MM/dd`.
    public var promulgationDate: String?
    /// The document's id `OrganId,yyyy/MM/dd,number/notation`.
    public var documentId: String?

    /// A reference as sent.
    public init(organId: String? = nil, code: String? = nil, promulgationDate: String? = nil, documentId: String? = nil) {
        self.organId = organId
        self.code = code
        self.promulgationDate = promulgationDate
        self.documentId = documentId
    }
}

/// The header of a document message (QCVN 102 §1.3).
public struct MessageHeader: Sendable, Equatable, Codable {
    /// The sending agency.
    public var from: Organization
    /// The receiving agencies (one `To` each).
    public var to: [Organization]
    /// `OrganId,yyyy/MM/dd,number/notation`.
    public var documentId: String?
    /// Number and notation.
    public var code: DocumentCode?
    /// Place and date of issue.
    public var promulgationInfo: PromulgationInfo?
    /// Document type.
    public var documentType: DocumentType?
    /// Summary (trích yếu).
    public var subject: String?
    /// Content summary.
    public var content: String?
    /// Signer.
    public var signerInfo: SignerInfo?
    /// Processing deadline `yyyy/MM/dd`.
    public var dueDate: String?
    /// "Nơi nhận" printed on the document (not necessarily connected recipients); nil when absent.
    public var toPlaces: [String]?
    /// Other information.
    public var otherInfo: OtherInfo?
    /// Documents this one answers.
    public var responseFor: [ResponseFor]
    /// Steering type (small integer, meaning not settled by the sources).
    public var steeringType: String?

    /// A header; `from` and at least one `to` are what every document needs.
    public init(from: Organization, to: [Organization], documentId: String? = nil, code: DocumentCode? = nil,
                promulgationInfo: PromulgationInfo? = nil, documentType: DocumentType? = nil, subject: String? = nil,
                content: String? = nil, signerInfo: SignerInfo? = nil, dueDate: String? = nil,
                toPlaces: [String]? = nil, otherInfo: OtherInfo? = nil, responseFor: [ResponseFor] = [],
                steeringType: String? = nil) {
        self.from = from
        self.to = to
        self.documentId = documentId
        self.code = code
        self.promulgationInfo = promulgationInfo
        self.documentType = documentType
        self.subject = subject
        self.content = content
        self.signerInfo = signerInfo
        self.dueDate = dueDate
        self.toPlaces = toPlaces
        self.otherInfo = otherInfo
        self.responseFor = responseFor
        self.steeringType = steeringType
    }
}

/// One system that handled the message.
public struct TraceHeader: Sendable, Equatable, Codable {
    /// The agency's code.
    public var organId: String?
    /// `yyyy/MM/dd HH:mm:ss`, Vietnam time.
    public var timestamp: String?

    /// A trace entry as sent.
    public init(organId: String? = nil, timestamp: String? = nil) {
        self.organId = organId
        self.timestamp = timestamp
    }
}

/// The clerk who sent a message.
public struct StaffInfo: Sendable, Equatable, Codable {
    /// Unit.
    public var department: String?
    /// Name.
    public var staff: String?
    /// Mobile phone.
    public var mobile: String?
    /// E-mail.
    public var email: String?

    /// Staff details as sent.
    public init(department: String? = nil, staff: String? = nil, mobile: String? = nil, email: String? = nil) {
        self.department = department
        self.staff = staff
        self.mobile = mobile
        self.email = email
    }
}

/// What a document message does (`BussinessDocType`).
public enum BusinessDocType: String, Sendable, CaseIterable, Codable {
    /// A new document.
    case new = "0"
    /// Revocation (thu hồi) of a sent document.
    case revocation = "1"
    /// Update (cập nhật) of a sent document, possibly of its receivers.
    case update = "2"
    /// Replacement (thay thế) of sent documents.
    case replacement = "3"

    /// The reason text the Government Office SDK uses.
    public var defaultReason: String {
        switch self {
        case .new: "Văn bản điện tử mới"
        case .revocation: "Thu hồi văn bản điện tử"
        case .update: "Cập nhật văn bản điện tử"
        case .replacement: "Văn bản thay thế"
        }
    }
}

/// A receiver added to or removed from a document by an update.
public struct Receiver: Sendable, Equatable, Codable {
    /// The agency's code.
    public var organId: String?
    /// `0` removed, `1` added.
    public var receiverType: String?

    /// A receiver change as sent.
    public init(organId: String? = nil, receiverType: String? = nil) {
        self.organId = organId
        self.receiverType = receiverType
    }
}

/// What an update changes (`BussinessDocumentInfo`).
public struct BusinessDocumentInfo: Sendable, Equatable, Codable {
    /// `1` when the document's information changed.
    public var documentInfo: String?
    /// `1` when the receiver list changed.
    public var documentReceiver: String?
    /// The receiver changes; nil when `ReceiverList` is absent.
    public var receivers: [Receiver]?

    /// Update information as sent.
    public init(documentInfo: String? = nil, documentReceiver: String? = nil, receivers: [Receiver]? = nil) {
        self.documentInfo = documentInfo
        self.documentReceiver = documentReceiver
        self.receivers = receivers
    }
}

/// A document replaced by this one, and the agencies concerned.
public struct ReplacementInfo: Sendable, Equatable, Codable {
    /// The replaced document's id.
    public var documentId: String?
    /// Agencies concerned.
    public var organIds: [String]

    /// A replacement entry as sent.
    public init(documentId: String? = nil, organIds: [String] = []) {
        self.documentId = documentId
        self.organIds = organIds
    }
}

/// The `Bussiness` block of the trace list (the normative spelling is kept in the XML).
public struct Business: Sendable, Equatable, Codable {
    /// The document concerned (for revocation/update: the one being changed).
    public var documentId: String?
    /// What the message does, as sent (`0`–`3`).
    public var businessDocType: String?
    /// Free-text reason.
    public var businessDocReason: String?
    /// `0`/`1` (meaning unverified).
    public var paper: String?
    /// The clerk who sent it.
    public var staffInfo: StaffInfo?
    /// Update only.
    public var businessDocumentInfo: BusinessDocumentInfo?
    /// Replacement only; nil when `ReplacementInfoList` is absent.
    public var replacementInfoList: [ReplacementInfo]?

    /// A business block as sent.
    public init(documentId: String? = nil, businessDocType: String? = nil, businessDocReason: String? = nil,
                paper: String? = nil, staffInfo: StaffInfo? = nil, businessDocumentInfo: BusinessDocumentInfo? = nil,
                replacementInfoList: [ReplacementInfo]? = nil) {
        self.documentId = documentId
        self.businessDocType = businessDocType
        self.businessDocReason = businessDocReason
        self.paper = paper
        self.staffInfo = staffInfo
        self.businessDocumentInfo = businessDocumentInfo
        self.replacementInfoList = replacementInfoList
    }

    /// The document type, when it is one of the four the standard knows.
    public var docType: BusinessDocType? { businessDocType.flatMap { BusinessDocType(rawValue: $0.trimmed) } }
}

/// One manifest entry of the body.
public struct ManifestReference: Sendable, Equatable, Codable {
    /// `cid:…`, links the entry to its attachment.
    public var contentId: String?
    /// MIME type as declared.
    public var contentType: String?
    /// Description.
    public var description: String?
    /// File name.
    public var attachmentName: String?

    /// A manifest entry as sent.
    public init(contentId: String? = nil, contentType: String? = nil, description: String? = nil,
                attachmentName: String? = nil) {
        self.contentId = contentId
        self.contentType = contentType
        self.description = description
        self.attachmentName = attachmentName
    }
}

/// An attached file. `content` holds the bytes that were base64-encoded in the message — a ZIP
/// archive (VPCP SDK style) or the file itself; `isZip` tells which by the magic bytes.
///
/// An attachment read from a message keeps its (already checked) base64 text and decodes it only
/// when `content` is asked for: the hub stores and forwards packages without ever needing the
/// bytes, and the writer emits the text as it came.
public struct Attachment: Sendable, Equatable, Codable {
    /// `cid:…`.
    public var contentId: String?
    /// File name.
    public var attachmentName: String?
    /// Description.
    public var description: String?
    /// MIME type as declared (not trusted: see `isZip`).
    public var contentType: String?
    private var body: Body

    private enum Body: Sendable {
        case bytes(Data)
        /// Base64 text without white space whose alphabet, length and padding have been checked.
        case base64(Data)
        case invalid
    }

    /// An attachment as sent.
    public init(contentId: String? = nil, attachmentName: String? = nil, description: String? = nil,
                contentType: String? = nil, content: Data? = Data()) {
        self.contentId = contentId
        self.attachmentName = attachmentName
        self.description = description
        self.contentType = contentType
        self.body = content.map { .bytes($0) } ?? .invalid
    }

    /// An attachment whose content is still the base64 text of the message (checked by the
    /// reader), or invalid when that text was not base64.
    init(contentId: String?, attachmentName: String?, description: String?, contentType: String?, base64: Data?) {
        self.init(contentId: contentId, attachmentName: attachmentName, description: description,
                  contentType: contentType, content: nil)
        self.body = base64.map { .base64($0) } ?? .invalid
    }

    /// The transferred bytes (base64-decoded); nil when the base64 text was invalid. Decoding
    /// happens on each read of an attachment that came from a message: keep the result.
    public var content: Data? {
        get {
            switch body {
            case .bytes(let bytes): return bytes
            case .base64(let text): return Data(base64Encoded: text)
            case .invalid: return nil
            }
        }
        set { body = newValue.map { .bytes($0) } ?? .invalid }
    }

    /// The number of content bytes, known without decoding; nil when the content is invalid.
    public var contentLength: Int? {
        switch body {
        case .bytes(let bytes): return bytes.count
        case .base64(let text):
            let padding = text.suffix(2).filter { $0 == UInt8(ascii: "=") }.count
            return text.count / 4 * 3 - padding
        case .invalid: return nil
        }
    }

    /// The content as base64 text (what the writer emits), nil when invalid.
    var base64Text: Data? {
        switch body {
        case .bytes(let bytes): return bytes.base64EncodedData()
        case .base64(let text): return text
        case .invalid: return nil
        }
    }

    /// Whether the bytes are a ZIP archive (`PK\u{3}\u{4}` or an empty archive's `PK\u{5}\u{6}`).
    public var isZip: Bool {
        let head: Data?
        switch body {
        case .bytes(let bytes): head = bytes.prefix(4)
        // Eight base64 characters are six bytes, whatever follows.
        case .base64(let text): head = text.count >= 8 ? Data(base64Encoded: text.prefix(8)) : Data(base64Encoded: text)
        case .invalid: head = nil
        }
        guard let head, head.count >= 4 else { return false }
        let magic = Array(head.prefix(4))
        return magic == [0x50, 0x4B, 0x03, 0x04] || magic == [0x50, 0x4B, 0x05, 0x06]
    }

    public static func == (lhs: Attachment, rhs: Attachment) -> Bool {
        guard lhs.contentId == rhs.contentId, lhs.attachmentName == rhs.attachmentName,
              lhs.description == rhs.description, lhs.contentType == rhs.contentType else { return false }
        if case .base64(let left) = lhs.body, case .base64(let right) = rhs.body, left == right { return true }
        return lhs.contentLength == rhs.contentLength && lhs.content == rhs.content
    }

    private enum CodingKeys: String, CodingKey { case contentId, attachmentName, description, contentType, content }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(contentId: try container.decodeIfPresent(String.self, forKey: .contentId),
                  attachmentName: try container.decodeIfPresent(String.self, forKey: .attachmentName),
                  description: try container.decodeIfPresent(String.self, forKey: .description),
                  contentType: try container.decodeIfPresent(String.self, forKey: .contentType),
                  content: try container.decodeIfPresent(Data.self, forKey: .content))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(contentId, forKey: .contentId)
        try container.encodeIfPresent(attachmentName, forKey: .attachmentName)
        try container.encodeIfPresent(description, forKey: .description)
        try container.encodeIfPresent(contentType, forKey: .contentType)
        try container.encodeIfPresent(content, forKey: .content)
    }
}

/// A piece of XML kept as it was (the `Signature` element), so that it can be written back.
public indirect enum XMLFragment: Sendable, Equatable, Codable {
    /// An element with its namespace, attributes (name → value, in source order) and children.
    case element(name: String, namespace: String?, attributes: [[String]], children: [XMLFragment])
    /// Character data.
    case text(String)

    private enum CodingKeys: String, CodingKey { case name, namespace, attributes, children, text }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let text = try container.decodeIfPresent(String.self, forKey: .text) {
            self = .text(text)
            return
        }
        self = .element(
            name: try container.decode(String.self, forKey: .name),
            namespace: try container.decodeIfPresent(String.self, forKey: .namespace),
            attributes: try container.decodeIfPresent([[String]].self, forKey: .attributes) ?? [],
            children: try container.decodeIfPresent([XMLFragment].self, forKey: .children) ?? [])
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .text(let text):
            try container.encode(text, forKey: .text)
        case .element(let name, let namespace, let attributes, let children):
            try container.encode(name, forKey: .name)
            try container.encodeIfPresent(namespace, forKey: .namespace)
            if !attributes.isEmpty { try container.encode(attributes, forKey: .attributes) }
            if !children.isEmpty { try container.encode(children, forKey: .children) }
        }
    }
}

/// A document message (edoc): a new document, or a revocation, update or replacement of one.
public struct DocumentMessage: Sendable, Equatable, Codable {
    /// The message header.
    public var header: MessageHeader
    /// The systems the message passed through.
    public var traces: [TraceHeader]
    /// The business block.
    public var business: Business?
    /// The XML-DSig `Signature` element, as sent.
    public var signature: XMLFragment?
    /// Whether an (empty) `DigitalSignature` placeholder was present, as some producers send.
    public var hasDigitalSignaturePlaceholder: Bool
    /// `edXMLManifest/@version`.
    public var manifestVersion: String?
    /// The manifest entries.
    public var manifest: [ManifestReference]
    /// The attached files.
    public var attachments: [Attachment]

    /// A document message.
    public init(header: MessageHeader, traces: [TraceHeader] = [], business: Business? = nil,
                signature: XMLFragment? = nil, hasDigitalSignaturePlaceholder: Bool = false,
                manifestVersion: String? = "1.0", manifest: [ManifestReference] = [], attachments: [Attachment] = []) {
        self.header = header
        self.traces = traces
        self.business = business
        self.signature = signature
        self.hasDigitalSignaturePlaceholder = hasDigitalSignaturePlaceholder
        self.manifestVersion = manifestVersion
        self.manifest = manifest
        self.attachments = attachments
    }
}

/// A processing-status message (gói tin trạng thái, QCVN 102 §1.5).
public struct StatusMessage: Sendable, Equatable, Codable {
    /// The agency reporting.
    public var from: Organization
    /// The document the status is about.
    public var responseFor: ResponseFor
    /// The clerk reporting.
    public var staffInfo: StaffInfo?
    /// The two-digit code as sent (see `StatusCode`).
    public var statusCode: String
    /// Free text (the SDK's fixed descriptions by default).
    public var description: String?
    /// `yyyy/MM/dd HH:mm:ss`, Vietnam time.
    public var timestamp: String?

    /// A status message.
    public init(from: Organization, responseFor: ResponseFor, staffInfo: StaffInfo? = nil, statusCode: String,
                description: String? = nil, timestamp: String? = nil) {
        self.from = from
        self.responseFor = responseFor
        self.staffInfo = staffInfo
        self.statusCode = statusCode
        self.description = description
        self.timestamp = timestamp
    }

    /// The status, when the code is one of the nine the standard uses.
    public var status: StatusCode? { StatusCode(rawValue: statusCode.trimmed) }
}

/// Either kind of edXML message; in JSON `{"document": {…}}` or `{"status": {…}}`.
public enum EdXMLMessage: Sendable, Equatable, Codable {
    /// A document (new, revocation, update, replacement).
    case document(DocumentMessage)
    /// A processing status.
    case status(StatusMessage)

    private enum CodingKeys: String, CodingKey { case document, status }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let document = try container.decodeIfPresent(DocumentMessage.self, forKey: .document) {
            self = .document(document)
        } else {
            self = .status(try container.decode(StatusMessage.self, forKey: .status))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .document(let document): try container.encode(document, forKey: .document)
        case .status(let status): try container.encode(status, forKey: .status)
        }
    }
}

extension String {
    /// The text without surrounding white space (values are compared and validated trimmed,
    /// stored as sent).
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
