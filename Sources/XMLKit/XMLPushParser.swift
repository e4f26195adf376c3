internal import CLibXML2

/// Push-style reading with libxml2's SAX2 interface: the same checks and events as
/// `XMLEventReader`, delivered to a handler while libxml2 parses, without any tree or text node.
///
/// Why it exists: xmlTextReader (and a tree) hold a whole text node in memory, so a 100 MB package
/// with one large base64 attachment was held three times over. Here character data arrives in
/// small pieces (`.text` events) that the consumer can decode and drop as they come.
///
/// Before libxml2 sees the input, the same pre-scan as `XMLEventReader` refuses oversize input,
/// any DOCTYPE, non-UTF-8 and structural limit violations; the limits are checked again while
/// parsing. Options: XML_PARSE_NONET | XML_PARSE_HUGE only. A handler that throws stops the parse
/// and its error is rethrown.
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

    func string(_ pointer: UnsafePointer<xmlChar>?) -> String? {
        guard let pointer, pointer.pointee != 0 else { return nil }
        let key = UnsafeRawPointer(pointer)
        if let known = interned[key] { return known }
        let value = String(cString: pointer)
        interned[key] = value
        return value
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
        let name = XMLName(namespaceURI: string(uri), localName: string(localName) ?? "", prefix: string(prefix))
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
                list.append(XMLAttribute(
                    name: XMLName(namespaceURI: string(entry[2]), localName: string(entry[0]) ?? "", prefix: string(entry[1])),
                    value: value))
            }
        }
        sawRoot = true
        depth += 1
        textBytes = 0
        names.append(name)
        deliver(.startElement(name, attributes: list, isEmpty: false))
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
