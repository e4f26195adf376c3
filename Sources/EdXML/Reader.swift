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

/// A parsed element, with text kept as String except attachment payloads, decoded on the fly.
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
    /// base64-decoded piece by piece into `payload`, so a large attachment is never held as text.
    static func build(_ bytes: UnsafeRawBufferPointer, limits: XMLLimits) throws(XMLError) -> Node {
        var stack: [Node] = []
        var decoders: [Base64Stream] = []
        var root: Node?
        try XMLPushParser.parse(bytes, limits: limits) { event in
            switch event {
            case .startElement(let name, let attributes, _):
                stack.append(Node(name: name, attributes: attributes))
                if name.localName == "ContentTransferEncoded" { decoders.append(Base64Stream()) }
            case .text(let chunk):
                guard !stack.isEmpty else { return }
                if stack[stack.count - 1].local == "ContentTransferEncoded", !decoders.isEmpty {
                    decoders[decoders.count - 1].feed(chunk.bytes)
                } else if stack[stack.count - 1].children.isEmpty {
                    // edXML has no mixed content: text after a child element is layout.
                    stack[stack.count - 1].text += chunk.string
                }
            case .endElement:
                guard var node = stack.popLast() else { return }
                if node.local == "ContentTransferEncoded", var decoder = decoders.popLast() {
                    node.payload = decoder.finish()
                    node.payloadInvalid = node.payload == nil
                }
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

/// Decodes base64 text that arrives in pieces, skipping white space, with Foundation's decoder
/// on blocks of whole quanta (so a large attachment is never held as text).
struct Base64Stream {
    private var pending: [UInt8] = []
    private var output = Data()
    private var invalid = false
    private static let block = 1 << 20

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }

    mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        guard !invalid, !bytes.isEmpty else { return }
        let input = bytes.assumingMemoryBound(to: UInt8.self)
        var start = 0
        while start < input.count {
            // Copy runs between white space in bulk: producers rarely wrap lines.
            var end = start
            while end < input.count, !Self.isSpace(input[end]) { end += 1 }
            // libxml2 may hand over a whole attachment in one call: take it a block at a time so
            // no more than one block of text is ever copied.
            var position = start
            while position < end {
                let take = min(end - position, Self.block - pending.count)
                pending.append(contentsOf: UnsafeBufferPointer(rebasing: input[position..<(position + take)]))
                position += take
                if pending.count >= Self.block { flush(final: false) }
            }
            start = end
            while start < input.count, Self.isSpace(input[start]) { start += 1 }
        }
    }

    private mutating func flush(final: Bool) {
        let usable = final ? pending.count : pending.count - pending.count % 4
        guard usable > 0 else { return }
        let decoded = pending.withUnsafeMutableBytes { raw in
            Data(base64Encoded: Data(bytesNoCopy: raw.baseAddress!, count: usable, deallocator: .none))
        }
        guard let decoded else {
            invalid = true
            return
        }
        output.append(decoded)
        // What stays is shorter than one quantum.
        pending = Array(pending[usable...])
    }

    mutating func finish() -> Data? {
        flush(final: true)
        return invalid || !pending.isEmpty ? nil : output
    }
}

/// Maps the element tree onto the model, collecting what it does not understand.
struct Mapper {
    let limits: EdXMLLimits
    var issues: [EdXMLIssue] = []

    init(limits: EdXMLLimits) { self.limits = limits }

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
        let known: Set<String> = ["From", "ResponseFor", "StaffInfo", "StatusCode", "Description", "Timestamp"]
        for node in h.children where !known.contains(node.local) { unknown(node, in: "MessageHeader") }
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
        let knownHeader: Set<String> = [
            "From", "To", "DocumentId", "Code", "PromulgationInfo", "DocumentType", "Subject", "Content", "SignerInfo",
            "DueDate", "ToPlaces", "OtherInfo", "ResponseFor", "SteeringType",
        ]
        for node in h.children where !knownHeader.contains(node.local) { unknown(node, in: "MessageHeader") }
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
                content: transfer == nil ? Data() : transfer?.payload))
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
