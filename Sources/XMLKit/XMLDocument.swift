import Foundation

/// One element of the convenience tree built by `XMLDocumentParser`. A value type: copies are independent.
///
/// Meant for tests and small documents; the edXML codec streams with `XMLPushParser`.
public struct XMLElement: Sendable, Equatable {
    /// The element's namespace-aware name.
    public var name: XMLName
    /// Attributes in document order, namespace declarations excluded.
    public var attributes: [XMLAttribute]
    /// Child nodes in document order. Adjacent text and CDATA are merged into one `.text` node.
    public var children: [XMLNode]

    /// Creates an element.
    public init(name: XMLName, attributes: [XMLAttribute] = [], children: [XMLNode] = []) {
        self.name = name
        self.attributes = attributes
        self.children = children
    }

    /// The concatenated text of the direct text children (descendants' text is not included), exactly as
    /// parsed: whitespace is not trimmed.
    public var text: String {
        var result = ""
        for case .text(let value) in children {
            result += value
        }
        return result
    }

    /// The direct child elements, in document order.
    public var elements: [XMLElement] {
        children.compactMap { node in
            if case .element(let element) = node {
                return element
            }
            return nil
        }
    }

    /// The direct child elements with this local name and namespace URI (nil matches only elements in no
    /// namespace), in document order.
    public func children(named localName: String, namespace: String?) -> [XMLElement] {
        elements.filter { $0.name.localName == localName && $0.name.namespaceURI == namespace }
    }

    /// The first direct child element with this local name and namespace URI, or nil.
    public func firstChild(named localName: String, namespace: String?) -> XMLElement? {
        for case .element(let element) in children
        where element.name.localName == localName && element.name.namespaceURI == namespace {
            return element
        }
        return nil
    }

    /// The value of the attribute with this local name and namespace URI, or nil. The default namespace
    /// nil finds unprefixed attributes, which are in no namespace whatever the element's namespace is.
    public func attribute(_ localName: String, namespace: String? = nil) -> String? {
        attributes.first { $0.name.localName == localName && $0.name.namespaceURI == namespace }?.value
    }
}

/// A node of the convenience tree. Processing instructions are not kept.
public enum XMLNode: Sendable, Equatable {
    /// A child element.
    case element(XMLElement)
    /// Character data (text and CDATA, merged when adjacent).
    case text(String)
    /// A comment's content, without the `<!--` `-->` delimiters.
    case comment(String)
}

/// Builds an `XMLElement` tree from untrusted bytes with `XMLPushParser`, so every limit and refusal of
/// the parser applies. Comments and text outside the root element are dropped.
public enum XMLDocumentParser {
    /// Parses `data` and returns the root element.
    public static func parse(_ data: Data, limits: XMLLimits = .default) throws(XMLError) -> XMLElement {
        let result = data.withUnsafeBytes { buffer in
            Result { () throws(XMLError) -> XMLElement in try parse(buffer: buffer, limits: limits) }
        }
        return try result.get()
    }

    /// Parses `bytes` and returns the root element.
    public static func parse(_ bytes: [UInt8], limits: XMLLimits = .default) throws(XMLError) -> XMLElement {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(XMLError) -> XMLElement in try parse(buffer: buffer, limits: limits) }
        }
        return try result.get()
    }

    /// Parses the UTF-8 encoding of `text` and returns the root element.
    public static func parse(_ text: String, limits: XMLLimits = .default) throws(XMLError) -> XMLElement {
        try parse(Array(text.utf8), limits: limits)
    }

    /// Parses bytes the caller keeps alive for the duration of the call. Iterative, so nesting depth is
    /// bounded by `limits.maxDepth`, not by the call stack.
    public static func parse(buffer: UnsafeRawBufferPointer, limits: XMLLimits = .default) throws(XMLError) -> XMLElement {
        var stack: [XMLElement] = []
        var root: XMLElement?
        try XMLPushParser.parse(buffer, limits: limits) { event in
            switch event {
            case .startElement(let name, let attributes):
                stack.append(XMLElement(name: name, attributes: attributes))
            case .endElement:
                // libxml2 balances elements before it reports them.
                guard let done = stack.popLast() else { return }
                if stack.isEmpty {
                    root = done
                } else {
                    stack[stack.count - 1].children.append(.element(done))
                }
            case .text(let chunk):
                guard !stack.isEmpty else { return }
                let text = chunk.string
                let last = stack.count - 1
                if case .text(let previous)? = stack[last].children.last {
                    stack[last].children[stack[last].children.count - 1] = .text(previous + text)
                } else {
                    stack[last].children.append(.text(text))
                }
            case .comment(let comment):
                guard !stack.isEmpty else { return }
                stack[stack.count - 1].children.append(.comment(comment))
            }
        }
        guard let root else {
            throw XMLError(.empty, "no root element")
        }
        return root
    }
}
