import Foundation
import XMLKit

/// Limits of the edXML reader, on top of the XML parser's.
public struct EdXMLLimits: Sendable, Equatable {
    /// XML-level limits (size default 100 MB, depth, elements).
    public var xml: XMLLimits
    /// Most attachments in one message.
    public var maxAttachments: Int
    /// Most recipients (`To`) in one message.
    public var maxRecipients: Int

    /// Limits; the defaults suit the national hub (95 agencies, 100 MB packages).
    public init(xml: XMLLimits = .default, maxAttachments: Int = 500, maxRecipients: Int = 5000) {
        self.xml = xml
        self.maxAttachments = maxAttachments
        self.maxRecipients = maxRecipients
    }

    /// The defaults.
    public static let `default` = EdXMLLimits()
}

/// Why bytes could not be read as an edXML message at all.
public struct EdXMLReadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable code, e.g. `xml_malformed`, `xml_doctype_forbidden`, `too_large`, `wrong_namespace`.
    public let code: String
    /// Where, when known.
    public let path: String?
    /// Line, when known.
    public let line: Int?
    /// Vietnamese message.
    public let vi: String
    /// English message.
    public let en: String

    /// An error.
    public init(_ code: String, path: String? = nil, line: Int? = nil, vi: String, en: String) {
        self.code = code
        self.path = path
        self.line = line
        self.vi = vi
        self.en = en
    }

    public var description: String { "\(code)\(line.map { " (line \($0))" } ?? ""): \(en)" }
}

/// A message as read: the model, what the reader noticed, and the exact bytes it came from
/// (signatures are checked over those, never over a re-serialisation).
public struct ParsedEdXML: Sendable {
    /// The message.
    public var message: EdXMLMessage
    /// Problems met while reading (unknown elements, bad base64); validation merges them.
    public var readIssues: [EdXMLIssue]
    /// The original bytes.
    public var original: Data

    /// The validation report of this message.
    public func validate() -> EdXMLReport { EdXMLValidator.validate(message, readIssues: readIssues) }
}

/// Reads edXML safely: namespace-aware, any child order, prefixed or not, CRLF or LF; no DTD,
/// no entities, no network; bounded size, depth and counts.
public enum EdXMLReader {
    /// Parses `data` as an edXML document or status message.
    public static func read(_ data: Data, limits: EdXMLLimits = .default) throws(EdXMLReadError) -> ParsedEdXML {
        // withUnsafeBytes rethrows untyped errors: carry the typed one out in a Result.
        let built: Result<Node, XMLError> = data.withUnsafeBytes { raw in
            do throws(XMLError) {
                return .success(try TreeBuilder.build(raw, limits: limits.xml))
            } catch {
                return .failure(error)
            }
        }
        let root: Node
        switch built {
        case .success(let node): root = node
        case .failure(let error): throw Self.translate(error)
        }
        var mapper = Mapper(limits: limits)
        let message = try mapper.message(root)
        return ParsedEdXML(message: message, readIssues: mapper.issues, original: data)
    }

    static func translate(_ error: XMLError) -> EdXMLReadError {
        switch error.code {
        case .doctypeForbidden:
            return EdXMLReadError("xml_doctype_forbidden", line: error.line,
                                  vi: "Gói tin có khai báo DOCTYPE; không được phép (chống tấn công XXE).",
                                  en: "The message has a DOCTYPE declaration, which is refused (XXE protection).")
        case .tooLarge:
            return EdXMLReadError("too_large", line: error.line, vi: "Gói tin vượt quá kích thước cho phép.",
                                  en: "The message is larger than allowed.")
        case .tooDeep:
            return EdXMLReadError("too_deep", line: error.line, vi: "Gói tin lồng quá nhiều cấp.",
                                  en: "The message is nested too deeply.")
        case .tooManyElements, .tooManyAttributes:
            return EdXMLReadError("too_many_elements", line: error.line, vi: "Gói tin có quá nhiều phần tử.",
                                  en: "The message has too many elements or attributes.")
        case .encodingUnsupported:
            return EdXMLReadError("encoding_unsupported", line: error.line, vi: "Gói tin phải mã hóa UTF-8.",
                                  en: "The message must be UTF-8 encoded.")
        case .empty:
            return EdXMLReadError("xml_empty", vi: "Gói tin rỗng.", en: "The message is empty.")
        case .malformed, .writeFailed:
            return EdXMLReadError("xml_malformed", line: error.line,
                                  vi: "Gói tin không phải XML hợp lệ: \(error.message)",
                                  en: "The message is not well-formed XML: \(error.message)")
        }
    }
}

/// A parsed element, with text kept as String except attachment payloads, kept as checked
/// base64 text.
struct Node {
    var name: XMLName
    var attributes: [XMLAttribute] = []
    var children: [Node] = []
    var text = ""
    var payload: Data?
    var payloadInvalid = false

    var local: String { name.localName }

    func child(_ local: String) -> Node? { children.first { $0.local == local } }
    func all(_ local: String) -> [Node] { children.filter { $0.local == local } }
    func value(_ local: String) -> String? { child(local).map(\.text) }
}

enum TreeBuilder {
    /// Builds the element tree from libxml2's SAX events; `ContentTransferEncoded` text is
    /// checked as base64 and kept as bytes, never as a String.
    static func build(_ bytes: UnsafeRawBufferPointer, limits: XMLLimits) throws(XMLError) -> Node {
        var stack: [Node] = []
        // The open ContentTransferEncoded element (its depth) and its text; such an element has
        // no element children worth reading, so one collector at a time is enough.
        var collecting: (depth: Int, collector: Base64Collector)?
        var root: Node?
        stack.reserveCapacity(8)
        try XMLPushParser.parse(bytes, limits: limits) { event in
            switch event {
            case .startElement(let name, let attributes):
                stack.append(Node(name: name, attributes: attributes))
                if collecting == nil, name.localName == "ContentTransferEncoded" {
                    collecting = (stack.count, Base64Collector())
                }
            case .text(let chunk):
                guard !stack.isEmpty else { return }
                if collecting?.depth == stack.count {
                    collecting?.collector.feed(chunk.bytes)
                } else if stack[stack.count - 1].children.isEmpty {
                    // edXML has no mixed content: text after a child element is layout.
                    stack[stack.count - 1].text += chunk.string
                }
            case .endElement:
                if let open = collecting, open.depth == stack.count {
                    collecting = nil
                    stack[stack.count - 1].payload = open.collector.finish()
                    stack[stack.count - 1].payloadInvalid = stack[stack.count - 1].payload == nil
                }
                guard let node = stack.popLast() else { return }
                if stack.isEmpty {
                    root = node
                } else {
                    stack[stack.count - 1].children.append(node)
                }
            case .comment:
                return
            }
        }
        guard let root else { throw XMLError(code: .empty, message: "no root element", line: nil) }
        return root
    }
}

/// Collects base64 text that arrives in pieces, dropping white space (producers may wrap lines)
/// and checking the alphabet, the length and the padding as it goes; the text is decoded only when
/// the attachment's content is asked for.
struct Base64Collector {
    private var text = Data()
    private var invalid = false
    /// Offset in `text` of the first `=`, which may only be followed by one more `=`.
    private var firstPad: Int?

    private enum Class: UInt8 { case invalid = 0, letter, space, pad }

    private static let classes: [UInt8] = (0...255).map { (byte: Int) -> UInt8 in
        switch UInt8(byte) {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"):
            return Class.letter.rawValue
        case 0x20, 0x09, 0x0A, 0x0D: return Class.space.rawValue
        case UInt8(ascii: "="): return Class.pad.rawValue
        default: return Class.invalid.rawValue
        }
    }

    /// Whether all eight bytes of `word` are base64 letters (no padding, no space), by SWAR range
    /// tests: a run of unwrapped base64 is checked a word at a time.
    @inline(__always)
    private static func allLetters(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        // Any byte ≥ 0x80 fails; the range tests below assume seven-bit bytes.
        guard word & high == 0 else { return false }
        @inline(__always) func inRange(_ low: UInt64, _ top: UInt64) -> UInt64 {
            // High bit set where byte ≥ low, and where byte > top.
            let atLeast = word &+ ones &* (0x80 - low)
            let above = word &+ ones &* (0x7F - top)
            return atLeast & ~above & high
        }
        let letters = inRange(0x41, 0x5A) | inRange(0x61, 0x7A) | inRange(0x30, 0x39)
            | inRange(0x2B, 0x2B) | inRange(0x2F, 0x2F)
        return letters == high
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        guard !invalid, let base = bytes.baseAddress, !bytes.isEmpty else { return }
        let count = bytes.count
        if text.isEmpty { text.reserveCapacity(count) }
        Self.classes.withUnsafeBufferPointer { classes in
            var start = 0
            while start < count {
                var end = start
                while end + 8 <= count, Self.allLetters(base.loadUnaligned(fromByteOffset: end, as: UInt64.self)) { end += 8 }
                while end < count, classes[Int(base.load(fromByteOffset: end, as: UInt8.self))] == Class.letter.rawValue { end += 1 }
                if end > start {
                    if firstPad != nil {
                        invalid = true
                        return
                    }
                    text.append(base.assumingMemoryBound(to: UInt8.self) + start, count: end - start)
                }
                guard end < count else { return }
                switch classes[Int(base.load(fromByteOffset: end, as: UInt8.self))] {
                case Class.space.rawValue:
                    break
                case Class.pad.rawValue:
                    if firstPad == nil { firstPad = text.count }
                    text.append(UInt8(ascii: "="))
                default:
                    invalid = true
                    return
                }
                start = end + 1
            }
        }
    }

    /// The checked text without white space, or nil when it is not base64.
    func finish() -> Data? {
        guard !invalid, text.count % 4 == 0 else { return nil }
        if let firstPad, text.count - firstPad > 2 { return nil }
        return text
    }
}

/// Maps the element tree onto the model, collecting what it does not understand.
struct Mapper {
    let limits: EdXMLLimits
    var issues: [EdXMLIssue] = []

    init(limits: EdXMLLimits) { self.limits = limits }

    // Arrays, not sets: a dozen short names compare faster than they hash.
    static let statusHeaderElements = ["From", "ResponseFor", "StaffInfo", "StatusCode", "Description", "Timestamp"]
    static let documentHeaderElements = [
        "From", "To", "DocumentId", "Code", "PromulgationInfo", "DocumentType", "Subject", "Content", "SignerInfo",
        "DueDate", "ToPlaces", "OtherInfo", "ResponseFor", "SteeringType",
    ]

    mutating func unknown(_ node: Node, in path: String) {
        issues.append(EdXMLIssue(.warning, "\(path)/\(node.local)", "element_unknown",
                                 vi: "Phần tử \(node.local) không có trong quy chuẩn; đã bỏ qua.",
                                 en: "The element \(node.local) is not part of the standard; it was ignored."))
    }

    func structure(_ path: String, _ vi: String, _ en: String) -> EdXMLReadError {
        EdXMLReadError("structure_invalid", path: path, vi: vi, en: en)
    }

    mutating func message(_ root: Node) throws(EdXMLReadError) -> EdXMLMessage {
        guard root.name.namespaceURI == edXMLNamespace else {
            throw EdXMLReadError("wrong_namespace", path: root.local,
                                 vi: "Phần tử gốc không thuộc không gian tên QCVN 102:2016 (\(edXMLNamespace)).",
                                 en: "The root element is not in the QCVN 102:2016 namespace (\(edXMLNamespace)).")
        }
        guard root.local == "edXML" else {
            throw structure(root.local, "Phần tử gốc phải là edXML.", "The root element must be edXML.")
        }
        for node in root.children where node.name.namespaceURI != edXMLNamespace {
            throw EdXMLReadError("wrong_namespace", path: "edXML/\(node.local)",
                                 vi: "Phần tử \(node.local) không thuộc không gian tên QCVN 102:2016.",
                                 en: "The element \(node.local) is not in the QCVN 102:2016 namespace.")
        }
        guard let envelope = root.child("edXMLEnvelope") else {
            throw structure("edXML/edXMLEnvelope", "Thiếu edXMLEnvelope.", "edXMLEnvelope is missing.")
        }
        guard let header = envelope.child("edXMLHeader") else {
            throw structure("edXMLEnvelope/edXMLHeader", "Thiếu edXMLHeader.", "edXMLHeader is missing.")
        }
        guard let messageHeader = header.child("MessageHeader") else {
            throw structure("edXMLHeader/MessageHeader", "Thiếu MessageHeader.", "MessageHeader is missing.")
        }
        if messageHeader.child("StatusCode") != nil {
            return .status(try status(messageHeader))
        }
        return .document(try document(root: root, envelope: envelope, header: header, messageHeader))
    }

    // MARK: Status

    mutating func status(_ h: Node) throws(EdXMLReadError) -> StatusMessage {
        guard let from = h.child("From") else {
            throw structure("MessageHeader/From", "Thiếu From.", "From is missing.")
        }
        for node in h.children where !Self.statusHeaderElements.contains(node.local) { unknown(node, in: "MessageHeader") }
        return StatusMessage(
            from: organization(from), responseFor: responseFor(h.child("ResponseFor") ?? Node(name: h.name)),
            staffInfo: h.child("StaffInfo").map(staffInfo), statusCode: h.value("StatusCode") ?? "",
            description: h.value("Description"), timestamp: h.value("Timestamp"))
    }

    // MARK: Document

    mutating func document(root: Node, envelope: Node, header: Node, _ h: Node) throws(EdXMLReadError) -> DocumentMessage {
        guard let from = h.child("From") else {
            throw structure("MessageHeader/From", "Thiếu From.", "From is missing.")
        }
        let toNodes = h.all("To")
        guard toNodes.count <= limits.maxRecipients else {
            throw EdXMLReadError("too_many_recipients", path: "MessageHeader/To",
                                 vi: "Quá nhiều nơi nhận (tối đa \(limits.maxRecipients)).",
                                 en: "Too many recipients (at most \(limits.maxRecipients)).")
        }
        for node in h.children where !Self.documentHeaderElements.contains(node.local) { unknown(node, in: "MessageHeader") }
        let messageHeader = MessageHeader(
            from: organization(from), to: toNodes.map(organization), documentId: h.value("DocumentId"),
            code: h.child("Code").map { DocumentCode(codeNumber: $0.value("CodeNumber"), codeNotation: $0.value("CodeNotation")) },
            promulgationInfo: h.child("PromulgationInfo").map {
                PromulgationInfo(place: $0.value("Place"), promulgationDate: $0.value("PromulgationDate"))
            },
            documentType: h.child("DocumentType").map {
                DocumentType(type: $0.value("Type"), typeDetail: $0.value("TypeDetail"), typeName: $0.value("TypeName"))
            },
            subject: h.value("Subject"), content: h.value("Content"),
            signerInfo: h.child("SignerInfo").map {
                SignerInfo(competence: $0.value("Competence"), position: $0.value("Position"), fullName: $0.value("FullName"))
            },
            dueDate: h.value("DueDate"), toPlaces: h.child("ToPlaces").map { $0.all("Place").map(\.text) },
            otherInfo: h.child("OtherInfo").map(otherInfo), responseFor: h.all("ResponseFor").map(responseFor),
            steeringType: h.value("SteeringType"))

        var traces: [TraceHeader] = []
        var business: Business?
        if let list = header.child("TraceHeaderList") {
            traces = list.all("TraceHeader").map { TraceHeader(organId: $0.value("OrganId"), timestamp: $0.value("Timestamp")) }
            business = list.child("Bussiness").map(self.business)
        }
        let signatureNode = header.child("Signature")
        let manifestNode = envelope.child("edXMLBody")?.child("edXMLManifest")
        let manifest = (manifestNode?.all("Reference") ?? []).map {
            ManifestReference(contentId: $0.value("ContentId"), contentType: $0.value("ContentType"),
                              description: $0.value("Description"), attachmentName: $0.value("AttachmentName"))
        }
        let attachmentNodes = root.child("AttachmentEncoded")?.all("Attachment") ?? []
        guard attachmentNodes.count <= limits.maxAttachments else {
            throw EdXMLReadError("too_many_attachments", path: "AttachmentEncoded",
                                 vi: "Quá nhiều tệp đính kèm (tối đa \(limits.maxAttachments)).",
                                 en: "Too many attachments (at most \(limits.maxAttachments)).")
        }
        var attachments: [Attachment] = []
        for (index, node) in attachmentNodes.enumerated() {
            let transfer = node.child("ContentTransferEncoded")
            if transfer?.payloadInvalid == true {
                issues.append(EdXMLIssue(.error, "AttachmentEncoded/Attachment[\(index + 1)]/ContentTransferEncoded",
                                         "attachment_base64_invalid",
                                         vi: "Nội dung tệp đính kèm không phải base64 hợp lệ.",
                                         en: "The attachment content is not valid base64."))
            }
            attachments.append(Attachment(
                contentId: node.value("ContentId"), attachmentName: node.value("AttachmentName"),
                description: node.value("Description"), contentType: node.value("ContentType"),
                base64: transfer == nil ? Data() : transfer?.payload))
        }
        return DocumentMessage(
            header: messageHeader, traces: traces, business: business,
            signature: signatureNode.map(fragment), hasDigitalSignaturePlaceholder: header.child("DigitalSignature") != nil,
            manifestVersion: manifestNode?.attributes.first { $0.name.localName == "version" }?.value,
            manifest: manifest, attachments: attachments)
    }

    func organization(_ node: Node) -> Organization {
        Organization(organId: node.value("OrganId") ?? "", organizationInCharge: node.value("OrganizationInCharge"),
                     organName: node.value("OrganName"), organAdd: node.value("OrganAdd"), email: node.value("Email"),
                     telephone: node.value("Telephone"), fax: node.value("Fax"), website: node.value("Website"))
    }

    func responseFor(_ node: Node) -> ResponseFor {
        ResponseFor(organId: node.value("OrganId"), code: node.value("Code"),
                    promulgationDate: node.value("PromulgationDate"), documentId: node.value("DocumentId"))
    }

    func staffInfo(_ node: Node) -> StaffInfo {
        StaffInfo(department: node.value("Department"), staff: node.value("Staff"), mobile: node.value("Mobile"),
                  email: node.value("Email"))
    }

    func otherInfo(_ node: Node) -> OtherInfo {
        OtherInfo(priority: node.value("Priority"), sphereOfPromulgation: node.value("SphereOfPromulgation"),
                  typerNotation: node.value("TyperNotation"), promulgationAmount: node.value("PromulgationAmount"),
                  pageAmount: node.value("PageAmount"), direction: node.value("Direction"),
                  appendixes: node.child("Appendixes").map { $0.all("Appendix").map(\.text) })
    }

    func business(_ node: Node) -> Business {
        Business(
            documentId: node.value("DocumentId"), businessDocType: node.value("BussinessDocType"),
            businessDocReason: node.value("BussinessDocReason"), paper: node.value("Paper"),
            staffInfo: node.child("StaffInfo").map(staffInfo),
            businessDocumentInfo: node.child("BussinessDocumentInfo").map { info in
                BusinessDocumentInfo(
                    documentInfo: info.value("DocumentInfo"), documentReceiver: info.value("DocumentReceiver"),
                    receivers: info.child("ReceiverList").map { list in
                        list.all("Receiver").map { Receiver(organId: $0.value("OrganId"), receiverType: $0.value("ReceiverType")) }
                    })
            },
            replacementInfoList: node.child("ReplacementInfoList").map { list in
                list.all("ReplacementInfo").map { item in
                    ReplacementInfo(documentId: item.value("DocumentId"),
                                    organIds: item.child("OrganIdList")?.all("OrganId").map(\.text) ?? [])
                }
            })
    }

    func fragment(_ node: Node) -> XMLFragment {
        // Only meaningful text is kept: indentation between elements is layout.
        var children: [XMLFragment] = node.children.map(fragment)
        let text = node.text
        if node.children.isEmpty, !text.isEmpty { children = [.text(text)] }
        return .element(name: node.local, namespace: node.name.namespaceURI,
                        attributes: node.attributes.map { [$0.name.localName, $0.value] }, children: children)
    }
}
