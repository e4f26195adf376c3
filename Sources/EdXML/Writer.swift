import Foundation
import XMLKit

/// Writes messages in the Government Office SDK's layout: `edXML:` prefixes inside the envelope,
/// the element order of QCVN 102 §1.3 as the SDK emits it, UTF-8, two-space indentation. The
/// same message always gives the same bytes.
public enum EdXMLWriter {
    /// The message as bytes.
    public static func write(_ message: EdXMLMessage) throws(XMLError) -> Data {
        let writer = try XMLStreamWriter(options: .init(indent: "  "))
        let w = Emitter(writer: writer)
        try w.open()
        switch message {
        case .document(let document): try w.document(document)
        case .status(let status): try w.status(status)
        }
        return Data(try writer.finish())
    }
}

private struct Emitter {
    let writer: XMLStreamWriter
    let p = "edXML"

    func open() throws(XMLError) {
        try writer.startElement("edXML", namespaceURI: edXMLNamespace)
        try writer.startElement("edXMLEnvelope", prefix: p, namespaceURI: edXMLNamespace)
        try writer.startElement("edXMLHeader", prefix: p)
    }

    func start(_ name: String) throws(XMLError) { try writer.startElement(name, prefix: p) }
    func end() throws(XMLError) { try writer.endElement() }

    /// An optional leaf: absent stays absent, an empty value stays an empty element.
    func leaf(_ name: String, _ value: String?) throws(XMLError) {
        guard let value else { return }
        try writer.element(name, prefix: p, text: value)
    }

    func organization(_ name: String, _ o: Organization) throws(XMLError) {
        try start(name)
        try leaf("OrganId", o.organId)
        try leaf("OrganizationInCharge", o.organizationInCharge)
        try leaf("OrganName", o.organName)
        try leaf("OrganAdd", o.organAdd)
        try leaf("Email", o.email)
        try leaf("Telephone", o.telephone)
        try leaf("Fax", o.fax)
        try leaf("Website", o.website)
        try end()
    }

    func responseFor(_ r: ResponseFor) throws(XMLError) {
        try start("ResponseFor")
        try leaf("OrganId", r.organId)
        try leaf("Code", r.code)
        try leaf("PromulgationDate", r.promulgationDate)
        try leaf("DocumentId", r.documentId)
        try end()
    }

    func staffInfo(_ s: StaffInfo) throws(XMLError) {
        try start("StaffInfo")
        try leaf("Department", s.department)
        try leaf("Staff", s.staff)
        try leaf("Mobile", s.mobile)
        try leaf("Email", s.email)
        try end()
    }

    func status(_ s: StatusMessage) throws(XMLError) {
        try start("MessageHeader")
        try organization("From", s.from)
        try responseFor(s.responseFor)
        if let staff = s.staffInfo { try staffInfo(staff) }
        try leaf("StatusCode", s.statusCode)
        try leaf("Description", s.description)
        try leaf("Timestamp", s.timestamp)
        try end()  // MessageHeader
        try end()  // edXMLHeader
        try end()  // edXMLEnvelope
    }

    func document(_ d: DocumentMessage) throws(XMLError) {
        let h = d.header
        try start("MessageHeader")
        try organization("From", h.from)
        for to in h.to { try organization("To", to) }
        try leaf("DocumentId", h.documentId)
        if let code = h.code {
            try start("Code")
            try leaf("CodeNumber", code.codeNumber)
            try leaf("CodeNotation", code.codeNotation)
            try end()
        }
        if let info = h.promulgationInfo {
            try start("PromulgationInfo")
            try leaf("Place", info.place)
            try leaf("PromulgationDate", info.promulgationDate)
            try end()
        }
        if let type = h.documentType {
            try start("DocumentType")
            try leaf("Type", type.type)
            try leaf("TypeDetail", type.typeDetail)
            try leaf("TypeName", type.typeName)
            try end()
        }
        try leaf("Subject", h.subject)
        try leaf("Content", h.content)
        if let signer = h.signerInfo {
            try start("SignerInfo")
            try leaf("Competence", signer.competence)
            try leaf("Position", signer.position)
            try leaf("FullName", signer.fullName)
            try end()
        }
        try leaf("DueDate", h.dueDate)
        if let other = h.otherInfo {
            try start("OtherInfo")
            try leaf("Priority", other.priority)
            try leaf("SphereOfPromulgation", other.sphereOfPromulgation)
            try leaf("TyperNotation", other.typerNotation)
            try leaf("PromulgationAmount", other.promulgationAmount)
            try leaf("PageAmount", other.pageAmount)
            try leaf("Direction", other.direction)
            if let appendixes = other.appendixes {
                try start("Appendixes")
                for appendix in appendixes { try leaf("Appendix", appendix) }
                try end()
            }
            try end()
        }
        for response in h.responseFor { try responseFor(response) }
        try leaf("SteeringType", h.steeringType)
        if let places = h.toPlaces {
            try start("ToPlaces")
            for place in places { try leaf("Place", place) }
            try end()
        }
        try end()  // MessageHeader

        if d.business != nil || !d.traces.isEmpty {
            try start("TraceHeaderList")
            if let b = d.business { try business(b) }
            for trace in d.traces {
                try start("TraceHeader")
                try leaf("OrganId", trace.organId)
                try leaf("Timestamp", trace.timestamp)
                try end()
            }
            try end()
        }
        if d.hasDigitalSignaturePlaceholder { try writer.element("DigitalSignature", prefix: p, text: "") }
        if let signature = d.signature { try fragment(signature, parentNamespace: edXMLNamespace) }
        try end()  // edXMLHeader

        try start("edXMLBody")
        try start("edXMLManifest")
        if let version = d.manifestVersion { try writer.attribute("version", version) }
        for reference in d.manifest {
            try start("Reference")
            try leaf("ContentId", reference.contentId)
            try leaf("ContentType", reference.contentType)
            try leaf("Description", reference.description)
            try leaf("AttachmentName", reference.attachmentName)
            try end()
        }
        try end()  // edXMLManifest
        try end()  // edXMLBody
        try end()  // edXMLEnvelope

        if !d.attachments.isEmpty {
            // The SDK writes this block unprefixed, in the root's default namespace.
            try writer.startElement("AttachmentEncoded")
            for attachment in d.attachments {
                try writer.startElement("Attachment")
                for (name, value) in [("ContentId", attachment.contentId), ("AttachmentName", attachment.attachmentName),
                                      ("Description", attachment.description), ("ContentType", attachment.contentType)] {
                    if let value { try writer.element(name, text: value) }
                }
                // Content that did not decode is not silently written as an empty file.
                guard let base64 = attachment.base64Text else {
                    throw XMLError(code: .writeFailed,
                                   message: "attachment \(attachment.contentId ?? "?") has no valid content to write")
                }
                try writer.startElement("ContentTransferEncoded", prefix: p, namespaceURI: edXMLNamespace)
                // withUnsafeBytes rethrows untyped errors: carry the typed one out.
                let written: XMLError? = base64.withUnsafeBytes { raw in
                    do throws(XMLError) { try writer.asciiText(raw) } catch { return error }
                    return nil
                }
                if let written { throw written }
                try writer.endElement()
                try writer.endElement()
            }
            try writer.endElement()
        }
    }

    func business(_ b: Business) throws(XMLError) {
        try start("Bussiness")
        try leaf("DocumentId", b.documentId)
        try leaf("BussinessDocType", b.businessDocType)
        try leaf("BussinessDocReason", b.businessDocReason)
        try leaf("Paper", b.paper)
        if let staff = b.staffInfo { try staffInfo(staff) }
        if let info = b.businessDocumentInfo {
            try start("BussinessDocumentInfo")
            try leaf("DocumentInfo", info.documentInfo)
            try leaf("DocumentReceiver", info.documentReceiver)
            if let receivers = info.receivers {
                try start("ReceiverList")
                for receiver in receivers {
                    try start("Receiver")
                    try leaf("OrganId", receiver.organId)
                    try leaf("ReceiverType", receiver.receiverType)
                    try end()
                }
                try end()
            }
            try end()
        }
        if let list = b.replacementInfoList {
            try start("ReplacementInfoList")
            for item in list {
                try start("ReplacementInfo")
                try leaf("DocumentId", item.documentId)
                try start("OrganIdList")
                for organ in item.organIds { try leaf("OrganId", organ) }
                try end()
                try end()
            }
            try end()
        }
        try end()
    }

    /// Writes a kept fragment unprefixed, declaring its default namespace where it changes.
    func fragment(_ fragment: XMLFragment, parentNamespace: String?) throws(XMLError) {
        switch fragment {
        case .text(let text):
            try writer.text(text)
        case .element(let name, let namespace, let attributes, let children):
            // A change of default namespace is declared; leaving one (nil under a namespaced parent) is xmlns="".
            let declared: String? = namespace == parentNamespace ? nil : (namespace ?? "")
            try writer.startElement(name, namespaceURI: declared)
            for pair in attributes where pair.count == 2 { try writer.attribute(pair[0], pair[1]) }
            for child in children { try self.fragment(child, parentNamespace: namespace) }
            try writer.endElement()
        }
    }
}
