internal import CLibXML2

/// One step of a streaming read. Not `Sendable`: `.text` carries a buffer owned by the parser.
public enum XMLEvent {
    /// An element starts; a matching `.endElement` follows, for `<a/>` as for `<a></a>`.
    case startElement(XMLName, attributes: [XMLAttribute])
    /// An element ends.
    case endElement(XMLName)
    /// Character data: text, CDATA and whitespace all arrive here, with references decoded and line ends
    /// normalised to LF. The buffer is valid only during the handler's call: copy what you keep.
    /// Adjacent text and CDATA may arrive as several events.
    case text(XMLTextChunk)
    /// A comment inside the root element (comments before or after the root are delivered too).
    case comment(String)
}

/// A view of one text node's UTF-8 bytes, borrowed from libxml2.
public struct XMLTextChunk {
    /// The text as UTF-8, without a terminating NUL. Valid only during the handler's call.
    public let bytes: UnsafeRawBufferPointer

    /// Wraps a borrowed buffer; the caller guarantees its lifetime.
    public init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// A copy of the text as a String (the bytes are valid UTF-8: the parser checked the whole input).
    public var string: String {
        String(decoding: bytes, as: UTF8.self)
    }
}


/// Reading untrusted XML bytes with libxml2's SAX2 interface: events are delivered to a handler
/// while libxml2 parses, without any tree or text node (a 100 MB package with one large base64
/// attachment is never held as text).
///
/// Before libxml2 sees the input, `InputScanner` refuses documents over `maxDocumentBytes`, any
/// DOCTYPE (so no entity can be declared: no XXE, no billion laughs), encodings other than UTF-8,
/// invalid UTF-8, and documents whose nesting, element count or attribute count break `limits`; the
/// limits are checked again while parsing, and character data against `maxTextBytes`. libxml2 runs
/// with XML_PARSE_NONET | XML_PARSE_HUGE only: no entity substitution, no DTD loading, no blank
/// removal (input that may be signed is never reformatted). Namespace errors (an undeclared prefix)
/// are fatal, unlike libxml2's default. A handler that throws stops the parse and its error is
/// rethrown; events may be delivered before a later error is found, so treat the whole document as
/// rejected when `parse` throws.
public enum XMLPushParser {
    /// Parses `bytes`, calling `handler` for every event in document order. `.text` buffers are
    /// valid only during the call.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, limits: XMLLimits = .default,
        handler: (XMLEvent) throws(XMLError) -> Void
    ) throws(XMLError) {
        LibXML.ensureInitialized()
        try InputScanner.validate(bytes, limits: limits)
        guard let base = bytes.baseAddress, bytes.count > 0 else { throw XMLError(.empty, "empty input") }
        try withoutActuallyEscaping(handler) { (escapable) throws(XMLError) in
            let state = SAXState(limits: limits, handler: escapable)
            try state.run(base: base, count: bytes.count)
        }
    }
}

/// Everything the C callbacks need. libxml2 passes the parser context as user data to every
/// callback, its own defaults included (xmlSAX2GetEntity reads it as a context), so the state is
/// reached through the context's `_private` field, never by replacing the user data.
private final class SAXState {
    static func from(_ userData: UnsafeMutableRawPointer?) -> SAXState? {
        guard let userData else { return nil }
        let context = userData.assumingMemoryBound(to: xmlParserCtxt.self)
        guard let state = context.pointee._private else { return nil }
        return Unmanaged<SAXState>.fromOpaque(state).takeUnretainedValue()
    }

    let limits: XMLLimits
    let handler: (XMLEvent) throws(XMLError) -> Void
    var context: xmlParserCtxtPtr?
    var failure: XMLError?
    var depth = 0
    var elementCount = 0
    var textBytes = 0
    var sawRoot = false
    var names: [(XMLName)] = []
    var interned: [UnsafeRawPointer: String] = [:]

    init(limits: XMLLimits, handler: @escaping (XMLEvent) throws(XMLError) -> Void) {
        self.limits = limits
        self.handler = handler
    }

    var line: Int? { context.map { Int($0.pointee.input?.pointee.line ?? 0) } }

    /// The last namespace URI and prefix seen: nearly every element of a document repeats them.
    var lastURI: (pointer: UnsafeRawPointer, value: String)?
    var lastPrefix: (pointer: UnsafeRawPointer, value: String)?

    /// A string from libxml2's dictionary (its pointers are stable for the whole parse).
    func string(_ pointer: UnsafePointer<xmlChar>?) -> String? {
        guard let pointer, pointer.pointee != 0 else { return nil }
        let key = UnsafeRawPointer(pointer)
        if let known = interned[key] { return known }
        let value = String(cString: pointer)
        interned[key] = value
        return value
    }

    func cached(_ pointer: UnsafePointer<xmlChar>?, _ slot: inout (pointer: UnsafeRawPointer, value: String)?) -> String? {
        guard let pointer else { return nil }
        if let slot, slot.pointer == UnsafeRawPointer(pointer) { return slot.value }
        guard let value = string(pointer) else { return nil }
        slot = (UnsafeRawPointer(pointer), value)
        return value
    }

    /// The name for libxml2's dictionary pointers.
    func name(_ localName: UnsafePointer<xmlChar>?, _ prefix: UnsafePointer<xmlChar>?,
              _ uri: UnsafePointer<xmlChar>?) -> XMLName {
        // Local names are short: a small String needs no allocation and costs less than a lookup.
        XMLName(namespaceURI: cached(uri, &lastURI), localName: localName.map { String(cString: $0) } ?? "",
                prefix: cached(prefix, &lastPrefix))
    }

    /// Records the first failure and stops libxml2.
    func stop(_ error: XMLError) {
        if failure == nil { failure = error }
        if let context { xmlStopParser(context) }
    }

    func deliver(_ event: XMLEvent) {
        guard failure == nil else { return }
        do throws(XMLError) {
            try handler(event)
        } catch {
            stop(error)
        }
    }

    func run(base: UnsafeRawPointer, count: Int) throws(XMLError) {
        // libxml2 2.9 copies the input here (its parser needs a NUL after the last byte, which a
        // caller's buffer cannot promise), so a package is held twice while it is parsed.
        guard let context = xmlCreateMemoryParserCtxt(base.assumingMemoryBound(to: CChar.self), Int32(count)) else {
            throw XMLError(.malformed, "libxml2 could not create a parser")
        }
        self.context = context
        defer {
            if let document = context.pointee.myDoc { xmlFreeDoc(document) }
            context.pointee.myDoc = nil
            xmlFreeParserCtxt(context)
            self.context = nil
        }
        _ = xmlCtxtUseOptions(context, LibXML.parseOptions)
        guard let sax = context.pointee.sax else { throw XMLError(.malformed, "libxml2 parser has no SAX table") }
        // Only our callbacks: no document, no tree, no text nodes.
        sax.pointee.startDocument = nil
        sax.pointee.endDocument = nil
        sax.pointee.processingInstruction = nil
        sax.pointee.reference = nil
        sax.pointee.startElement = nil
        sax.pointee.endElement = nil
        sax.pointee.startElementNs = { userData, localName, prefix, uri, _, _, attributeCount, _, attributes in
            SAXState.from(userData)?.startElement(localName, prefix, uri, Int(attributeCount), attributes)
        }
        sax.pointee.endElementNs = { userData, _, _, _ in
            SAXState.from(userData)?.endElement()
        }
        let characters: charactersSAXFunc = { userData, bytes, length in
            SAXState.from(userData)?.characters(bytes, Int(length))
        }
        sax.pointee.characters = characters
        sax.pointee.ignorableWhitespace = characters
        sax.pointee.cdataBlock = characters
        sax.pointee.comment = { userData, text in
            SAXState.from(userData)?.deliver(.comment(LibXML.string(text) ?? ""))
        }
        sax.pointee.serror = { userData, error in
            guard let error, error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
            SAXState.from(userData)?.stop(LibXML.error(from: error.pointee))
        }
        sax.pointee.initialized = UInt32(XML_SAX2_MAGIC)
        context.pointee._private = Unmanaged.passUnretained(self).toOpaque()
        _ = xmlParseDocument(context)
        withExtendedLifetime(self) {}
        if let failure { throw failure }
        if context.pointee.wellFormed == 0 || context.pointee.nsWellFormed == 0 {
            throw XMLError(.malformed, "libxml2 could not parse the document", line: line)
        }
        guard sawRoot else { throw XMLError(.empty, "no root element", line: line) }
    }

    func startElement(_ localName: UnsafePointer<xmlChar>?, _ prefix: UnsafePointer<xmlChar>?,
                      _ uri: UnsafePointer<xmlChar>?, _ attributeCount: Int,
                      _ attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) {
        guard failure == nil else { return }
        elementCount += 1
        if elementCount > limits.maxElements {
            return stop(XMLError(.tooManyElements, "more than \(limits.maxElements) elements", line: line))
        }
        if depth + 1 > limits.maxDepth {
            return stop(XMLError(.tooDeep, "element nesting deeper than \(limits.maxDepth)", line: line))
        }
        if attributeCount > limits.maxAttributesPerElement {
            return stop(XMLError(.tooManyAttributes, "more than \(limits.maxAttributesPerElement) attributes on one element",
                                 line: line))
        }
        let name = self.name(localName, prefix, uri)
        var list: [XMLAttribute] = []
        if let attributes, attributeCount > 0 {
            list.reserveCapacity(attributeCount)
            // Five pointers per attribute: local name, prefix, URI, value start, value end.
            for index in 0..<attributeCount {
                let entry = attributes + index * 5
                var value = ""
                if let start = entry[3], let end = entry[4] {
                    let raw = UnsafeBufferPointer(start: start, count: end - start)
                    if raw.contains(0x26), let context {
                        // Without entity substitution libxml2 hands over `&` as `&#38;`; its own tree
                        // builder decodes attribute values like this (xmlSAX2DecodeAttrEntities).
                        if let decoded = xmlStringLenDecodeEntities(context, start, Int32(raw.count),
                                                                     Int32(XML_SUBSTITUTE_REF), 0, 0, 0) {
                            value = String(cString: decoded)
                            xmlkit_free(decoded)
                        }
                    } else {
                        value = String(decoding: raw, as: UTF8.self)
                    }
                }
                list.append(XMLAttribute(name: self.name(entry[0], entry[1], entry[2]), value: value))
            }
        }
        sawRoot = true
        depth += 1
        textBytes = 0
        names.append(name)
        deliver(.startElement(name, attributes: list))
    }

    func endElement() {
        guard failure == nil, let name = names.popLast() else { return }
        depth -= 1
        textBytes = 0
        deliver(.endElement(name))
    }

    func characters(_ bytes: UnsafePointer<xmlChar>?, _ length: Int) {
        guard failure == nil, let bytes, length > 0 else { return }
        textBytes += length
        if textBytes > limits.maxTextBytes {
            return stop(XMLError(.tooLarge, "text of more than \(limits.maxTextBytes) bytes", line: line))
        }
        deliver(.text(XMLTextChunk(bytes: UnsafeRawBufferPointer(start: bytes, count: length))))
    }
}
