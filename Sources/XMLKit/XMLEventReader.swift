internal import CLibXML2

/// One step of a streaming read. Not `Sendable`: `.text` carries a buffer owned by the reader.
public enum XMLEvent {
    /// An element starts. `isEmpty` is true when it has no content (`<a/>` or `<a></a>`); a matching
    /// `.endElement` follows in every case, so consumers need no special handling of empty elements.
    case startElement(XMLName, attributes: [XMLAttribute], isEmpty: Bool)
    /// An element ends (also delivered, synthesised, for an empty element).
    case endElement(XMLName)
    /// Character data: text, CDATA and whitespace all arrive here, with references decoded and line ends
    /// normalised to LF. The buffer is valid only until the next call to `next()`: copy what you keep.
    /// Adjacent text and CDATA may arrive as several events.
    case text(XMLTextChunk)
    /// A comment inside the root element (comments before or after the root are delivered too).
    case comment(String)
}

/// A view of one text node's UTF-8 bytes, borrowed from libxml2.
public struct XMLTextChunk {
    /// The text as UTF-8, without a terminating NUL. Valid only until the next call to `next()`.
    public let bytes: UnsafeRawBufferPointer

    /// Wraps a borrowed buffer; the caller guarantees its lifetime.
    public init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// A copy of the text as a String (the bytes are valid UTF-8: the reader checked the whole input).
    public var string: String {
        String(decoding: bytes, as: UTF8.self)
    }
}

/// Pull-style reading of untrusted XML bytes with libxml2.
///
/// Before libxml2 sees the input, `init` refuses documents over `maxDocumentBytes`, any DOCTYPE,
/// encodings other than UTF-8, invalid UTF-8, and documents whose nesting, element count or attribute
/// count break `limits`. libxml2 then parses the bytes in place (`xmlCtxtReadMemory`, XML_PARSE_NONET |
/// XML_PARSE_HUGE only: no entity substitution, no DTD loading, no blank removal — input that may be
/// signed is never reformatted), and `next()` walks the resulting tree, checking the limits again and
/// text nodes against `maxTextBytes`.
///
/// Why a tree and not libxml2's xmlTextReader: the text reader feeds its push parser small chunks,
/// which made a document with a 1 MB base64 attachment ten times slower than libxml2's own parse of
/// the same bytes. The tree holds each text once (the same as the text reader's current node, at the
/// end of a large attachment), and the events lend its buffers without copying.
///
/// Namespace errors (an undeclared prefix, for instance) are fatal, unlike libxml2's default. The
/// whole document is parsed in `init`, so a malformed document throws there, before any event.
///
/// Not `Sendable`; single use. The caller keeps `bytes` alive and unchanged until the reader is released.
public final class XMLEventReader {
    private let document: xmlDocPtr
    private let limits: XMLLimits
    private var cursor: xmlNodePtr?
    private var open: [(node: xmlNodePtr, name: XMLName)] = []
    private var pendingEnd: XMLName?
    private var currentLine = 0
    private var elementCount = 0
    private var finished = false
    private var failure: XMLError?
    /// Names and namespace URIs point into libxml2's dictionary or the document's namespace nodes,
    /// both alive as long as the document: each is converted to a String once.
    private var internedStrings: [UnsafeRawPointer: String] = [:]

    /// Validates `bytes` (see the type's documentation) and parses them without copying. Throws the
    /// first violation or libxml2 error found.
    public init(bytes: UnsafeRawBufferPointer, limits: XMLLimits = .default) throws(XMLError) {
        LibXML.ensureInitialized()
        try InputScanner.validate(bytes, limits: limits)
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw XMLError(.empty, "empty input")
        }
        guard let context = xmlNewParserCtxt() else {
            throw XMLError(.malformed, "libxml2 could not create a parser")
        }
        defer { xmlFreeParserCtxt(context) }
        let sink = ErrorSink()
        // Errors reach the structured handler of the parser's SAX table with the context as user data.
        context.pointee._private = Unmanaged.passUnretained(sink).toOpaque()
        context.pointee.sax.pointee.serror = { userData, error in
            guard let userData, let error else { return }
            let context = userData.assumingMemoryBound(to: xmlParserCtxt.self)
            guard let sinkPointer = context.pointee._private else { return }
            Unmanaged<ErrorSink>.fromOpaque(sinkPointer).takeUnretainedValue().record(error.pointee)
        }
        let parsed = xmlCtxtReadMemory(context, base.assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil, nil,
                                       LibXML.parseOptions)
        withExtendedLifetime(sink) {}
        let wellFormed = context.pointee.wellFormed != 0 && context.pointee.nsWellFormed != 0
        guard let parsed, wellFormed, sink.first == nil else {
            if let parsed { xmlFreeDoc(parsed) }
            throw sink.first ?? XMLError(.malformed, "libxml2 could not parse the document")
        }
        guard xmlDocGetRootElement(parsed) != nil else {
            xmlFreeDoc(parsed)
            throw XMLError(.empty, "no root element")
        }
        document = parsed
        self.limits = limits
        cursor = parsed.pointee.children
    }

    deinit {
        xmlFreeDoc(document)
    }

    /// The line of the current node (1-based), for error paths.
    public var line: Int { currentLine }

    /// The number of elements currently open: 0 before the root's `.startElement` and after its
    /// `.endElement`, 1 just after the root's `.startElement`, and so on. An empty element counts as open
    /// between its `.startElement` and its synthesised `.endElement`.
    public var depth: Int { open.count + (pendingEnd == nil ? 0 : 1) }

    /// Returns the next event, or nil at the end of the document; throws when a limit is hit.
    public func next() throws(XMLError) -> XMLEvent? {
        if let failure { throw failure }
        if finished { return nil }
        if let name = pendingEnd {
            pendingEnd = nil
            return .endElement(name)
        }
        while true {
            guard let node = cursor else {
                guard let (parent, name) = open.popLast() else {
                    finished = true
                    return nil
                }
                cursor = parent.pointee.next
                return .endElement(name)
            }
            cursor = node.pointee.next
            switch node.pointee.type {
            case XML_ELEMENT_NODE:
                return try startElement(node)
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                guard let content = node.pointee.content else {
                    return .text(XMLTextChunk(bytes: UnsafeRawBufferPointer(start: nil, count: 0)))
                }
                let length = Int(xmlStrlen(content))
                if length > limits.maxTextBytes {
                    throw fail(XMLError(.tooLarge, "text node of \(length) bytes, limit is \(limits.maxTextBytes)",
                                        line: Int(xmlGetLineNo(node))))
                }
                return .text(XMLTextChunk(bytes: UnsafeRawBufferPointer(start: content, count: length)))
            case XML_COMMENT_NODE:
                return .comment(LibXML.string(node.pointee.content) ?? "")
            case XML_DTD_NODE:
                // Unreachable: the pre-scan refuses every DOCTYPE. Kept so a scanner bug cannot go unnoticed.
                throw fail(XMLError(.doctypeForbidden, "DOCTYPE declarations are not accepted", line: Int(xmlGetLineNo(node))))
            case XML_ENTITY_REF_NODE, XML_ENTITY_NODE:
                // Unreachable without a DTD: undefined entities are fatal errors in libxml2.
                throw fail(XMLError(.malformed, "entity references are not accepted", line: Int(xmlGetLineNo(node))))
            default:
                // Processing instructions and the like carry nothing we use.
                continue
            }
        }
    }

    private func fail(_ error: XMLError) -> XMLError {
        failure = error
        return error
    }

    private func startElement(_ node: xmlNodePtr) throws(XMLError) -> XMLEvent {
        currentLine = Int(xmlGetLineNo(node))
        elementCount += 1
        if elementCount > limits.maxElements {
            throw fail(XMLError(.tooManyElements, "more than \(limits.maxElements) elements", line: currentLine))
        }
        if open.count + 1 > limits.maxDepth {
            throw fail(XMLError(.tooDeep, "element nesting deeper than \(limits.maxDepth)", line: currentLine))
        }
        let name = XMLName(namespaceURI: interned(node.pointee.ns?.pointee.href),
                           localName: interned(node.pointee.name) ?? "",
                           prefix: interned(node.pointee.ns?.pointee.prefix))
        var attributes: [XMLAttribute] = []
        var attribute = node.pointee.properties
        while let current = attribute {
            if attributes.count >= limits.maxAttributesPerElement {
                throw fail(XMLError(.tooManyAttributes,
                                    "more than \(limits.maxAttributesPerElement) attributes on one element", line: currentLine))
            }
            let value: String
            if let raw = xmlNodeListGetString(document, current.pointee.children, 1) {
                value = String(cString: raw)
                xmlkit_free(raw)
            } else {
                value = ""
            }
            attributes.append(XMLAttribute(
                name: XMLName(namespaceURI: interned(current.pointee.ns?.pointee.href),
                              localName: interned(current.pointee.name) ?? "",
                              prefix: interned(current.pointee.ns?.pointee.prefix)),
                value: value))
            attribute = current.pointee.next
        }
        if let child = node.pointee.children {
            open.append((node, name))
            cursor = child
            return .startElement(name, attributes: attributes, isEmpty: false)
        }
        pendingEnd = name
        return .startElement(name, attributes: attributes, isEmpty: true)
    }

    private func interned(_ pointer: UnsafePointer<xmlChar>?) -> String? {
        guard let pointer, pointer.pointee != 0 else { return nil }
        let key = UnsafeRawPointer(pointer)
        if let known = internedStrings[key] { return known }
        let string = String(cString: pointer)
        internedStrings[key] = string
        return string
    }
}
