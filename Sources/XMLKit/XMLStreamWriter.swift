internal import CLibXML2

/// Writes a well-formed, namespace-well-formed UTF-8 document through libxml2's xmlTextWriter into
/// memory.
///
/// Output is deterministic: the same calls give the same bytes. Layout:
/// - with `xmlDeclaration`, the document starts with exactly `<?xml version="1.0" encoding="UTF-8"?>` and LF;
/// - with an `indent`, each element starts on its own line indented by one `indent` per level, an
///   element holding only text stays on one line (`<a>text</a>`), and every line ends with LF; the
///   indentation is whitespace added between elements, so use `indent: nil` for mixed content;
/// - an element with no children and no text is written `<x/>` (also by `element(_:text: "")`);
/// - namespace declarations come after the element's ordinary attributes;
/// - text escapes `&`, `<`, `>` and `"` (and CR as `&#13;`); attribute values also escape TAB, LF and CR
///   as character references so they survive attribute-value normalisation. Other characters, Vietnamese
///   included, are written as the same UTF-8 bytes they had in the String (no Unicode normalisation).
///
/// Every call is checked: invalid names, characters XML 1.0 cannot carry (control characters, U+FFFE,
/// U+FFFF), undeclared prefixes, duplicate attributes, attributes after content, a second root, `--` in a
/// comment all throw `.writeFailed`. After the first failure every call throws that failure again.
/// Not `Sendable`.
public final class XMLStreamWriter {
    /// Layout options.
    public struct Options: Sendable {
        /// The indentation unit, spaces and tabs only; nil writes no indentation and no newlines between
        /// elements (the document still ends with LF).
        public var indent: String?
        /// Whether to start with `<?xml version="1.0" encoding="UTF-8"?>` and LF.
        public var xmlDeclaration: Bool

        /// Two-space indentation and the XML declaration by default: the Government Office SDK layout.
        public init(indent: String? = "  ", xmlDeclaration: Bool = true) {
            self.indent = indent
            self.xmlDeclaration = xmlDeclaration
        }
    }

    private struct Scope {
        var bindings: [String: String] = [:]
        var attributeNames: Set<String> = []
        var acceptsAttributes = true
    }

    private static let declaration = Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n".utf8)
    private static let xmlNamespace = "http://www.w3.org/XML/1998/namespace"
    private static let xmlnsNamespace = "http://www.w3.org/2000/xmlns/"

    private let options: Options
    private var buffer: xmlBufferPtr?
    private var writer: OpaquePointer?
    private var scopes: [Scope] = []
    private var rootStarted = false
    private var failure: XMLError?

    /// Creates a writer with an empty in-memory buffer; throws `.writeFailed` for an indent that is not
    /// spaces and tabs, or when libxml2 cannot allocate.
    public init(options: Options = .init()) throws(XMLError) {
        LibXML.ensureInitialized()
        self.options = options
        if let indent = options.indent, !indent.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
            throw XMLError(.writeFailed, "indent must be spaces and tabs only")
        }
        guard let buffer = xmlBufferCreate() else {
            throw XMLError(.writeFailed, "libxml2 could not allocate a buffer")
        }
        self.buffer = buffer
        guard let writer = xmlNewTextWriterMemory(buffer, 0) else {
            throw XMLError(.writeFailed, "libxml2 could not create a writer")
        }
        self.writer = writer
        if let indent = options.indent {
            let indented = xmlTextWriterSetIndent(writer, 1) >= 0
                && indent.withCString { xmlTextWriterSetIndentString(writer, UnsafeRawPointer($0).assumingMemoryBound(to: xmlChar.self)) } >= 0
            guard indented else {
                throw XMLError(.writeFailed, "libxml2 could not set the indentation")
            }
        }
        // Always started with an encoding, even without a declaration: without it libxml2 writes
        // non-ASCII attribute characters as character references. The declaration is cut off in finish().
        guard xmlTextWriterStartDocument(writer, nil, "UTF-8", nil) >= 0 else {
            throw XMLError(.writeFailed, "libxml2 could not start the document")
        }
    }

    deinit {
        if let writer {
            xmlFreeTextWriter(writer)
        }
        if let buffer {
            xmlBufferFree(buffer)
        }
    }

    /// Starts an element. A non-nil `namespaceURI` declares it on this element: `xmlns:prefix="uri"`, or
    /// `xmlns="uri"` without a prefix. A prefix without `namespaceURI` must be declared on an open
    /// ancestor (or be `xml`).
    public func startElement(_ localName: String, prefix: String? = nil, namespaceURI: String? = nil) throws(XMLError) {
        let writer = try usableWriter()
        if scopes.isEmpty && rootStarted {
            throw fail("a document has one root element; \(localName) would be a second")
        }
        try checkName(localName)
        var scope = Scope()
        if let prefix {
            try checkName(prefix)
            if prefix == "xmlns" || (prefix == "xml" && namespaceURI != nil && namespaceURI != Self.xmlNamespace) {
                throw fail("prefix \(prefix) is reserved")
            }
        }
        if let namespaceURI {
            try checkCharacters(namespaceURI, what: "namespace URI")
            if namespaceURI == Self.xmlnsNamespace || (namespaceURI == Self.xmlNamespace && prefix != "xml") {
                throw fail("namespace \(namespaceURI) cannot be declared")
            }
            if namespaceURI.isEmpty && prefix != nil {
                throw fail("prefix \(prefix ?? "") cannot be bound to the empty namespace in XML 1.0")
            }
            scope.bindings[prefix ?? ""] = namespaceURI
        } else if let prefix, resolve(prefix) == nil {
            throw fail("prefix \(prefix) is not declared")
        }
        let status = callC(prefix, localName, namespaceURI) { prefix, name, uri in
            xmlTextWriterStartElementNS(writer, prefix, name, uri)
        }
        guard status >= 0 else {
            throw fail("libxml2 could not start element \(localName)")
        }
        if !scopes.isEmpty {
            scopes[scopes.count - 1].acceptsAttributes = false
        }
        scopes.append(scope)
        rootStarted = true
    }

    /// Adds an attribute to the element just started (before any child or text). A prefixed attribute
    /// with `namespaceURI` declares the prefix on this element; a prefixed attribute without it needs the
    /// prefix in scope. `prefix: "xmlns"` (or the name `xmlns` without prefix) writes a namespace
    /// declaration instead of an attribute.
    public func attribute(_ localName: String, _ value: String, prefix: String? = nil, namespaceURI: String? = nil) throws(XMLError) {
        let writer = try usableWriter()
        guard let scope = scopes.last, scope.acceptsAttributes else {
            throw fail("attribute \(localName) must follow its element's start, before any content")
        }
        try checkName(localName)
        try checkCharacters(value, what: "attribute value")
        if let prefix {
            try checkName(prefix)
        }
        if prefix == "xmlns" || (prefix == nil && localName == "xmlns") {
            try declareNamespace(prefix: prefix == nil ? "" : localName, uri: value, namespaceURI: namespaceURI, writer: writer)
            return
        }
        let uri: String?
        // Passed to libxml2 only when this call declares the prefix; libxml2 would otherwise write a
        // second xmlns:prefix for a declaration made through attribute(_:_:prefix: "xmlns").
        var declaredURI: String?
        if let prefix {
            if prefix == "xml", namespaceURI == nil || namespaceURI == Self.xmlNamespace {
                // Bound by definition in every document; never declared.
                uri = Self.xmlNamespace
            } else if let namespaceURI {
                try checkCharacters(namespaceURI, what: "namespace URI")
                if namespaceURI.isEmpty || prefix == "xml" || namespaceURI == Self.xmlNamespace || namespaceURI == Self.xmlnsNamespace {
                    throw fail("prefix \(prefix) cannot be bound to \(namespaceURI)")
                }
                if let bound = scope.bindings[prefix], bound != namespaceURI {
                    throw fail("prefix \(prefix) is already bound to \(bound) on this element")
                }
                if scope.bindings[prefix] == nil {
                    scopes[scopes.count - 1].bindings[prefix] = namespaceURI
                    declaredURI = namespaceURI
                }
                uri = namespaceURI
            } else if let bound = resolve(prefix) {
                uri = bound
            } else {
                throw fail("prefix \(prefix) is not declared")
            }
        } else {
            if namespaceURI != nil {
                throw fail("an attribute in a namespace needs a prefix (unprefixed attributes are in no namespace)")
            }
            uri = nil
        }
        let key = "{\(uri ?? "")}\(localName)"
        guard scopes[scopes.count - 1].attributeNames.insert(key).inserted else {
            throw fail("duplicate attribute \(key)")
        }
        let status = callC(prefix, localName, declaredURI, value) { prefix, name, uri, value in
            xmlTextWriterWriteAttributeNS(writer, prefix, name, uri, value)
        }
        guard status >= 0 else {
            throw fail("libxml2 could not write attribute \(localName)")
        }
    }

    /// Writes character data in the open element, escaped; the UTF-8 bytes are otherwise untouched.
    /// Writing an empty string does nothing.
    public func text(_ text: String) throws(XMLError) {
        let writer = try usableWriter()
        guard !scopes.isEmpty else {
            throw fail("text must be inside an element")
        }
        try checkCharacters(text, what: "text")
        scopes[scopes.count - 1].acceptsAttributes = false
        guard !text.isEmpty else { return }
        let status = callC(text) { xmlTextWriterWriteString(writer, $0) }
        guard status >= 0 else {
            throw fail("libxml2 could not write text")
        }
    }

    /// Writes printable ASCII that needs no escaping (base64, digits) straight from `bytes`, without
    /// making a String of it: a large attachment is written at copy speed. Refuses any byte outside
    /// 0x20–0x7E and `<`, `>`, `&`.
    public func asciiText(_ bytes: UnsafeRawBufferPointer) throws(XMLError) {
        let writer = try usableWriter()
        guard !scopes.isEmpty else {
            throw fail("text must be inside an element")
        }
        if let offset = bytes.firstIndex(where: { $0 < 0x20 || $0 > 0x7E || $0 == 0x3C || $0 == 0x3E || $0 == 0x26 }) {
            throw fail("ASCII text has a byte that needs escaping or is not printable ASCII at offset \(offset)")
        }
        scopes[scopes.count - 1].acceptsAttributes = false
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        let status = xmlTextWriterWriteRawLen(writer, base.assumingMemoryBound(to: xmlChar.self), Int32(bytes.count))
        guard status >= 0 else {
            throw fail("libxml2 could not write text")
        }
    }

    /// Writes `<!--text-->`, inside an element or before or after the root. Refuses `--` inside the text
    /// and a trailing `-`, which XML forbids in comments.
    public func comment(_ text: String) throws(XMLError) {
        let writer = try usableWriter()
        try checkCharacters(text, what: "comment")
        if text.contains("--") || text.hasSuffix("-") {
            throw fail("a comment cannot contain \"--\" or end with \"-\"")
        }
        if !scopes.isEmpty {
            scopes[scopes.count - 1].acceptsAttributes = false
        }
        let status = callC(text) { xmlTextWriterWriteComment(writer, $0) }
        guard status >= 0 else {
            throw fail("libxml2 could not write a comment")
        }
    }

    /// Ends the innermost open element (`<x/>` when it has no content).
    public func endElement() throws(XMLError) {
        let writer = try usableWriter()
        guard !scopes.isEmpty else {
            throw fail("no open element to end")
        }
        guard xmlTextWriterEndElement(writer) >= 0 else {
            throw fail("libxml2 could not end an element")
        }
        scopes.removeLast()
    }

    /// Writes a text-only element on one line: start, `text` (nothing when empty, giving `<x/>`), end.
    /// `namespaceURI` has the meaning it has in `startElement`.
    public func element(_ localName: String, prefix: String? = nil, namespaceURI: String? = nil, text: String) throws(XMLError) {
        try startElement(localName, prefix: prefix, namespaceURI: namespaceURI)
        try self.text(text)
        try endElement()
    }

    /// Ends the open elements and the document and returns the UTF-8 bytes (ending with LF). Throws when
    /// no root element was written. The writer cannot be used afterwards.
    public func finish() throws(XMLError) -> [UInt8] {
        let writer = try usableWriter()
        guard rootStarted else {
            throw fail("no root element was written")
        }
        guard xmlTextWriterEndDocument(writer) >= 0 else {
            throw fail("libxml2 could not end the document")
        }
        // Freeing the writer flushes what it still holds into the buffer.
        xmlFreeTextWriter(writer)
        self.writer = nil
        failure = XMLError(.writeFailed, "the writer is finished")
        guard let buffer, let content = xmlBufferContent(buffer) else {
            throw XMLError(.writeFailed, "libxml2 produced no output")
        }
        var output = Array(UnsafeBufferPointer(start: content, count: Int(xmlBufferLength(buffer))))
        xmlBufferFree(buffer)
        self.buffer = nil
        if !options.xmlDeclaration {
            guard output.starts(with: Self.declaration) else {
                throw XMLError(.writeFailed, "unexpected XML declaration from libxml2")
            }
            output.removeFirst(Self.declaration.count)
        }
        return output
    }

    // MARK: - Checks

    private func usableWriter() throws(XMLError) -> OpaquePointer {
        if let failure {
            throw failure
        }
        guard let writer else {
            throw fail("the writer is finished")
        }
        return writer
    }

    private func fail(_ message: String) -> XMLError {
        let error = XMLError(.writeFailed, message)
        failure = error
        return error
    }

    private func resolve(_ prefix: String) -> String? {
        if prefix == "xml" {
            return Self.xmlNamespace
        }
        for scope in scopes.reversed() {
            if let uri = scope.bindings[prefix] {
                return uri
            }
        }
        return nil
    }

    private func declareNamespace(prefix: String, uri: String, namespaceURI: String?, writer: OpaquePointer) throws(XMLError) {
        if namespaceURI != nil && namespaceURI != Self.xmlnsNamespace {
            throw fail("namespace declarations are in \(Self.xmlnsNamespace)")
        }
        if prefix == "xml" || prefix == "xmlns" || uri == Self.xmlNamespace || uri == Self.xmlnsNamespace {
            throw fail("namespace \(uri) cannot be declared for prefix \(prefix)")
        }
        if uri.isEmpty && !prefix.isEmpty {
            throw fail("prefix \(prefix) cannot be bound to the empty namespace in XML 1.0")
        }
        let last = scopes.count - 1
        guard scopes[last].bindings[prefix] == nil else {
            throw fail("namespace prefix \"\(prefix)\" is already declared on this element")
        }
        scopes[last].bindings[prefix] = uri
        let qualified = prefix.isEmpty ? "xmlns" : "xmlns:\(prefix)"
        scopes[last].attributeNames.insert("{\(Self.xmlnsNamespace)}\(prefix)")
        let status = callC(qualified, uri) { name, value in
            xmlTextWriterWriteAttribute(writer, name, value)
        }
        guard status >= 0 else {
            throw fail("libxml2 could not write namespace declaration \(qualified)")
        }
    }

    private func checkName(_ name: String) throws(XMLError) {
        let valid = name.withCString { xmlValidateNCName(UnsafeRawPointer($0).assumingMemoryBound(to: xmlChar.self), 0) == 0 }
        // withCString stops at a NUL, which would hide the rest of the name from the check.
        guard valid, !name.utf8.contains(0) else {
            throw fail("\"\(name)\" is not a valid XML name without a colon")
        }
    }

    private func checkCharacters(_ text: String, what: String) throws(XMLError) {
        if let offset = XMLCharacters.firstInvalid(in: text) {
            throw fail("\(what) has a character XML 1.0 cannot carry at UTF-8 offset \(offset)")
        }
    }
}

/// C-string plumbing for the writer: libxml2 takes `const xmlChar *`, Swift gives `CChar`.
private func callC(_ a: String?, _ b: String, _ c: String?, _ body: (UnsafePointer<xmlChar>?, UnsafePointer<xmlChar>, UnsafePointer<xmlChar>?) -> Int32) -> Int32 {
    withOptionalXMLString(a) { a in
        withXMLString(b) { b in
            withOptionalXMLString(c) { c in body(a, b, c) }
        }
    }
}

private func callC(_ a: String?, _ b: String, _ c: String?, _ d: String, _ body: (UnsafePointer<xmlChar>?, UnsafePointer<xmlChar>, UnsafePointer<xmlChar>?, UnsafePointer<xmlChar>) -> Int32) -> Int32 {
    withOptionalXMLString(a) { a in
        withXMLString(b) { b in
            withOptionalXMLString(c) { c in
                withXMLString(d) { d in body(a, b, c, d) }
            }
        }
    }
}

private func callC(_ a: String, _ b: String, _ body: (UnsafePointer<xmlChar>, UnsafePointer<xmlChar>) -> Int32) -> Int32 {
    withXMLString(a) { a in
        withXMLString(b) { b in body(a, b) }
    }
}

private func callC(_ a: String, _ body: (UnsafePointer<xmlChar>) -> Int32) -> Int32 {
    withXMLString(a, body)
}

private func withXMLString<R>(_ string: String, _ body: (UnsafePointer<xmlChar>) -> R) -> R {
    string.withCString { body(UnsafeRawPointer($0).assumingMemoryBound(to: xmlChar.self)) }
}

private func withOptionalXMLString<R>(_ string: String?, _ body: (UnsafePointer<xmlChar>?) -> R) -> R {
    guard let string else { return body(nil) }
    return withXMLString(string) { body($0) }
}

/// The XML 1.0 `Char` production over UTF-8.
enum XMLCharacters {
    /// UTF-8 offset of the first character outside XML 1.0's `Char` (C0 controls other than TAB, LF, CR,
    /// and U+FFFE/U+FFFF; Swift strings cannot hold surrogates), or nil.
    static func firstInvalid(in text: String) -> Int? {
        var text = text
        return text.withUTF8 { bytes -> Int? in
            guard let base = bytes.baseAddress else { return nil }
            let raw = UnsafeRawPointer(base)
            var index = 0
            let count = bytes.count
            while index < count {
                if index + 8 <= count {
                    let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                    // Zero exactly when all eight bytes are in 0x20...0x7F.
                    if (word &- 0x2020_2020_2020_2020 | word) & 0x8080_8080_8080_8080 == 0 {
                        index += 8
                        continue
                    }
                }
                let value = bytes[index]
                if value < 0x20 && value != 0x09 && value != 0x0A && value != 0x0D {
                    return index
                }
                if value == 0xEF, index + 2 < count, bytes[index + 1] == 0xBF, bytes[index + 2] >= 0xBE {
                    return index
                }
                index += 1
            }
            return nil
        }
    }
}
