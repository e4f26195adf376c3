/// One namespace-aware qualified name.
///
/// Equality and hashing use `namespaceURI` and `localName` only: in XML namespaces the prefix is a
/// syntactic detail, so `<a:x xmlns:a="u">` and `<b:x xmlns:b="u">` name the same element.
public struct XMLName: Sendable, Hashable, CustomStringConvertible {
    /// The namespace URI, or nil when the name is in no namespace (never the empty string).
    public let namespaceURI: String?
    /// The local part of the name.
    public let localName: String
    /// The prefix as written in the source, nil for none; for diagnostics only.
    public let prefix: String?

    /// Creates a name; an empty `namespaceURI` or `prefix` is stored as nil.
    public init(namespaceURI: String? = nil, localName: String, prefix: String? = nil) {
        self.namespaceURI = (namespaceURI?.isEmpty ?? true) ? nil : namespaceURI
        self.localName = localName
        self.prefix = (prefix?.isEmpty ?? true) ? nil : prefix
    }

    /// The name as written: `prefix:localName`, or `localName` when there is no prefix.
    public var qualifiedName: String {
        if let prefix {
            return "\(prefix):\(localName)"
        }
        return localName
    }

    /// Clark notation, `{namespaceURI}localName`, or `localName` when in no namespace: unambiguous in logs.
    public var description: String {
        if let namespaceURI {
            return "{\(namespaceURI)}\(localName)"
        }
        return localName
    }

    /// True when namespace URI and local name are equal; prefixes are ignored.
    public static func == (lhs: XMLName, rhs: XMLName) -> Bool {
        lhs.localName == rhs.localName && lhs.namespaceURI == rhs.namespaceURI
    }

    /// Hashes namespace URI and local name, consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(namespaceURI)
        hasher.combine(localName)
    }
}

/// One attribute of an element, with its value fully decoded (references replaced, whitespace
/// normalised as XML 1.0 requires for attributes without a DTD). Namespace declarations are not
/// attributes: they are resolved into `XMLName.namespaceURI`.
public struct XMLAttribute: Sendable, Hashable {
    /// The attribute's name; unprefixed attributes are in no namespace.
    public let name: XMLName
    /// The decoded value.
    public let value: String

    /// Creates an attribute.
    public init(name: XMLName, value: String) {
        self.name = name
        self.value = value
    }
}
