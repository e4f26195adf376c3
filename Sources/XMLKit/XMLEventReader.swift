internal import CLibXML2

/// One step of a streaming read. Not `Sendable`: `.text` carries a buffer owned by the reader.
public enum XMLEvent {
    /// An element starts. `isEmpty` is true for `<a/>`; a matching `.endElement` follows in every case,
    /// so consumers need no special handling of empty elements.
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

/// Streaming, pull-style reading of untrusted XML bytes with libxml2's xmlTextReader.
///
/// Before libxml2 sees the input, `init` refuses documents over `maxDocumentBytes`, any DOCTYPE,
/// encodings other than UTF-8, invalid UTF-8, and documents whose nesting, element count or attribute
/// count break `limits`; `next()` checks the limits again as events are produced, and text nodes against
/// `maxTextBytes`. libxml2 runs with XML_PARSE_NONET | XML_PARSE_HUGE only: no entity substitution, no DTD
/// loading, no blank removal (input that may be signed is never reformatted).
///
/// Streaming rather than building libxml2's tree keeps memory low: measured on a 100 MB package, the
/// tree walk peaked at 471 MB against 3× the package + 50 MB allowed (issue 3's target).
///
/// Namespace errors (an undeclared prefix, for instance) are fatal, unlike libxml2's default.
/// Events may be delivered before a later error is found: treat the whole document as rejected when
/// `next()` throws. After an error, every further call throws the same error.
///
/// Not `Sendable`; single use. The caller keeps `bytes` alive and unchanged until the reader is released:
/// libxml2 reads them in place without copying.
public final class XMLEventReader {
    private let reader: OpaquePointer
    private let sink: ErrorSink
    private let limits: XMLLimits
    private var failure: XMLError?
    private var finished = false
    private var pendingEnd: XMLName?
    private var openElements = 0
    private var elementCount = 0
    private var sawRoot = false
    /// Names and namespace URIs come from the reader's dictionary: the same pointer for the same
    /// string, alive as long as the reader. Converting each once saves most per-element allocations.
    private var internedStrings: [UnsafeRawPointer: String] = [:]

    /// Validates `bytes` (see the type's documentation) and prepares a libxml2 reader over them without
    /// copying. Throws the first violation found; nothing is parsed by libxml2 in that case.
    public init(bytes: UnsafeRawBufferPointer, limits: XMLLimits = .default) throws(XMLError) {
        LibXML.ensureInitialized()
        try InputScanner.validate(bytes, limits: limits)
        guard let base = bytes.baseAddress else {
            throw XMLError(.empty, "empty input")
        }
        guard let reader = xmlReaderForMemory(
            base.assumingMemoryBound(to: CChar.self),
            Int32(bytes.count),
            nil,
            nil,
            LibXML.parseOptions
        ) else {
            throw XMLError(.malformed, "libxml2 could not create a reader")
        }
        let sink = ErrorSink()
        xmlTextReaderSetStructuredErrorHandler(
            reader,
            { context, error in
                guard let context, let error else { return }
                Unmanaged<ErrorSink>.fromOpaque(context).takeUnretainedValue().record(error.pointee)
            },
            Unmanaged.passUnretained(sink).toOpaque()
        )
        self.reader = reader
        self.sink = sink
        self.limits = limits
    }

    deinit {
        xmlFreeTextReader(reader)
    }

    /// The parser's current line (1-based). libxml2 reads ahead, so this may be past the last event;
    /// use it for error paths, not for exact positions.
    public var line: Int {
        Int(xmlTextReaderGetParserLineNumber(reader))
    }

    /// The number of elements currently open: 0 before the root's `.startElement` and after its
    /// `.endElement`, 1 just after the root's `.startElement`, and so on. An empty element counts as open
    /// between its `.startElement` and its synthesised `.endElement`.
    public var depth: Int {
        openElements
    }

    /// Returns the next event, or nil at the end of the document. Throws `.malformed` for anything libxml2
    /// rejects (with its message and line), and the limit codes when a limit is hit.
    public func next() throws(XMLError) -> XMLEvent? {
        if let failure {
            throw failure
        }
        if finished {
            return nil
        }
        if let name = pendingEnd {
            pendingEnd = nil
            openElements -= 1
            return .endElement(name)
        }
        while true {
            let status = xmlTextReaderRead(reader)
            if let error = sink.first {
                throw fail(error)
            }
            if status < 0 {
                throw fail(XMLError(.malformed, "libxml2 could not read the document", line: line))
            }
            if status == 0 {
                finished = true
                guard sawRoot else {
                    throw fail(XMLError(.empty, "no root element", line: line))
                }
                return nil
            }
            if let event = try event(for: xmlTextReaderNodeType(reader)) {
                return event
            }
        }
    }

    private func fail(_ error: XMLError) -> XMLError {
        failure = error
        return error
    }

    private static func type(_ value: xmlReaderTypes) -> Int32 {
        Int32(bitPattern: value.rawValue)
    }

    /// Maps the reader's current node to an event; nil for nodes that are skipped.
    private func event(for nodeType: Int32) throws(XMLError) -> XMLEvent? {
        switch nodeType {
        case Self.type(XML_READER_TYPE_ELEMENT):
            return try startElement()
        case Self.type(XML_READER_TYPE_END_ELEMENT):
            openElements -= 1
            return .endElement(currentName())
        case Self.type(XML_READER_TYPE_TEXT),
             Self.type(XML_READER_TYPE_CDATA),
             Self.type(XML_READER_TYPE_WHITESPACE),
             Self.type(XML_READER_TYPE_SIGNIFICANT_WHITESPACE):
            // ConstValue is the node's own content (not to be freed), alive until the reader moves on.
            guard let value = xmlTextReaderConstValue(reader) else {
                return .text(XMLTextChunk(bytes: UnsafeRawBufferPointer(start: nil, count: 0)))
            }
            let length = Int(xmlStrlen(value))
            if length > limits.maxTextBytes {
                throw fail(XMLError(.tooLarge, "text node of \(length) bytes, limit is \(limits.maxTextBytes)", line: line))
            }
            return .text(XMLTextChunk(bytes: UnsafeRawBufferPointer(start: value, count: length)))
        case Self.type(XML_READER_TYPE_COMMENT):
            return .comment(LibXML.string(xmlTextReaderConstValue(reader)) ?? "")
        case Self.type(XML_READER_TYPE_DOCUMENT_TYPE):
            // Unreachable: the pre-scan refuses every DOCTYPE. Kept so a scanner bug cannot go unnoticed.
            throw fail(XMLError(.doctypeForbidden, "DOCTYPE declarations are not accepted", line: line))
        case Self.type(XML_READER_TYPE_ENTITY_REFERENCE),
             Self.type(XML_READER_TYPE_ENTITY):
            // Unreachable without a DTD: undefined entities are fatal errors in libxml2.
            throw fail(XMLError(.malformed, "entity references are not accepted", line: line))
        default:
            // Processing instructions, the XML declaration and end-of-entity markers carry nothing we use.
            return nil
        }
    }

    private func startElement() throws(XMLError) -> XMLEvent {
        elementCount += 1
        if elementCount > limits.maxElements {
            throw fail(XMLError(.tooManyElements, "more than \(limits.maxElements) elements", line: line))
        }
        if openElements + 1 > limits.maxDepth {
            throw fail(XMLError(.tooDeep, "element nesting deeper than \(limits.maxDepth)", line: line))
        }
        let declared = Int(xmlTextReaderAttributeCount(reader))
        if declared > limits.maxAttributesPerElement {
            throw fail(XMLError(
                .tooManyAttributes,
                "more than \(limits.maxAttributesPerElement) attributes on one element",
                line: line
            ))
        }
        let name = currentName()
        let isEmpty = xmlTextReaderIsEmptyElement(reader) == 1
        var attributes: [XMLAttribute] = []
        if declared > 0 {
            attributes.reserveCapacity(declared)
            var status = xmlTextReaderMoveToFirstAttribute(reader)
            while status == 1 {
                if xmlTextReaderIsNamespaceDecl(reader) != 1 {
                    let value = LibXML.string(xmlTextReaderConstValue(reader)) ?? ""
                    attributes.append(XMLAttribute(name: currentName(), value: value))
                }
                status = xmlTextReaderMoveToNextAttribute(reader)
            }
            let moved = xmlTextReaderMoveToElement(reader)
            if let error = sink.first {
                throw fail(error)
            }
            if status < 0 || moved < 0 {
                throw fail(XMLError(.malformed, "libxml2 could not read the attributes of \(name.qualifiedName)", line: line))
            }
        }
        sawRoot = true
        openElements += 1
        if isEmpty {
            pendingEnd = name
        }
        return .startElement(name, attributes: attributes, isEmpty: isEmpty)
    }

    /// The name of the node (element or attribute) the reader is on. All three strings are libxml2's
    /// interned copies, which must not be freed.
    private func currentName() -> XMLName {
        XMLName(
            namespaceURI: interned(xmlTextReaderConstNamespaceUri(reader)),
            localName: interned(xmlTextReaderConstLocalName(reader)) ?? "",
            prefix: interned(xmlTextReaderConstPrefix(reader))
        )
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
