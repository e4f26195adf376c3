import Foundation
internal import CLibXML2
internal import CXMLSecShim
import XMLKit

/// Namespaces and algorithm URIs of XML-DSig as used here.
enum DSig {
    static let namespace = "http://www.w3.org/2000/09/xmldsig#"
    static let edXMLNamespace = "http://www.mic.gov.vn/TBT/QCVN_102_2016"

    static let rsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    static let ecdsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
    static let rsaSHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
    static let sha256 = "http://www.w3.org/2001/04/xmlenc#sha256"
    static let sha1 = "http://www.w3.org/2000/09/xmldsig#sha1"
    static let enveloped = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    static let excC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
    static let excC14NWithComments = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
    /// Canonicalisations accepted for SignedInfo (any of them serialises SignedInfo safely).
    static let signedInfoC14N: Set<String> = [
        excC14N, excC14NWithComments,
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
        "http://www.w3.org/2006/12/xml-c14n11",
        "http://www.w3.org/2006/12/xml-c14n11#WithComments",
    ]
}

/// A libxml2 document parsed from checked bytes; freed with the value.
final class ParsedDocument {
    let doc: xmlDocPtr
    /// The wanted parent element (the last one when several), how many there were, and the byte
    /// offset just past the `>` that closes it.
    let parent: xmlNodePtr?
    let parentCount: Int
    let parentEnd: Int

    private init(doc: xmlDocPtr, parent: xmlNodePtr?, parentCount: Int, parentEnd: Int) {
        self.doc = doc
        self.parent = parent
        self.parentCount = parentCount
        self.parentEnd = parentEnd
    }

    deinit {
        xmlFreeDoc(doc)
    }

    /// Runs XMLKit's pre-scan and full SAX read first (DOCTYPE/XXE, encoding and limits are refused
    /// before libxml2 builds a tree or xmlsec1 sees anything), then parses into a tree with
    /// `LibXML.parseOptions` (no entity substitution, no DTD loading, no blank removal), recording
    /// where the element `parentLocalName` in `parentNamespace` ends.
    static func parse(
        _ bytes: UnsafeRawBufferPointer, limits: XMLLimits, parentLocalName: String? = nil, parentNamespace: String? = nil
    ) throws(XMLSignatureError) -> ParsedDocument {
        do throws(XMLError) {
            try XMLPushParser.parse(bytes, limits: limits) { _ in }
        } catch {
            switch error.code {
            case .malformed, .empty:
                throw .make(.xmlMalformed, error.description)
            case .doctypeForbidden, .tooLarge, .tooDeep, .tooManyElements, .tooManyAttributes, .encodingUnsupported, .writeFailed:
                throw .make(.xmlRefused, error.description)
            }
        }
        guard let base = bytes.baseAddress, bytes.count > 0, bytes.count <= Int(Int32.max) else {
            throw .make(.xmlRefused, "empty or oversize input")
        }
        var result = govx_parse(
            base.assumingMemoryBound(to: CChar.self), Int32(bytes.count), LibXML.parseOptions, parentLocalName, parentNamespace
        )
        defer { govx_parse_result_free(&result) }
        guard let doc = result.doc else {
            let message = result.error.map { String(cString: $0) } ?? "not well-formed"
            throw .make(.xmlMalformed, message)
        }
        return ParsedDocument(
            doc: doc, parent: result.parent, parentCount: Int(result.parent_count), parentEnd: Int(result.parent_end)
        )
    }

    /// Every element named `localName` in `namespace`, in document order.
    func elements(named localName: String, namespace: String) -> [xmlNodePtr] {
        var found: [xmlNodePtr] = []
        var stack: [xmlNodePtr] = []
        if let root = xmlDocGetRootElement(doc) {
            stack.append(root)
        }
        while let node = stack.popLast() {
            if Node.isElement(node, localName, namespace) {
                found.append(node)
            }
            stack.append(contentsOf: Node.elementChildren(node).reversed())
        }
        return found
    }
}

/// Read-only helpers over libxml2 nodes.
enum Node {
    static func isElement(_ node: xmlNodePtr, _ localName: String, _ namespace: String?) -> Bool {
        guard node.pointee.type == XML_ELEMENT_NODE, let name = node.pointee.name,
            String(cString: name) == localName
        else { return false }
        let href = node.pointee.ns?.pointee.href.map { String(cString: $0) }
        return href == namespace
    }

    static func elementChildren(_ node: xmlNodePtr) -> [xmlNodePtr] {
        var children: [xmlNodePtr] = []
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_ELEMENT_NODE {
                children.append(current)
            }
            child = current.pointee.next
        }
        return children
    }

    static func children(_ node: xmlNodePtr, _ localName: String, _ namespace: String? = DSig.namespace) -> [xmlNodePtr] {
        elementChildren(node).filter { isElement($0, localName, namespace) }
    }

    /// The value of the un-namespaced attribute `name`; nil when absent (an empty value is "").
    static func attribute(_ node: xmlNodePtr, _ name: String) -> String? {
        guard xmlHasNsProp(node, name, nil) != nil else { return nil }
        guard let value = xmlGetNoNsProp(node, name) else { return "" }
        defer { xmlkit_free(value) }
        return String(cString: value)
    }

    static func text(_ node: xmlNodePtr) -> String {
        guard let content = xmlNodeGetContent(node) else { return "" }
        defer { xmlkit_free(content) }
        return String(cString: content)
    }
}
