/// Resource limits applied to untrusted XML before and while libxml2 parses it.
///
/// The structural limits (depth, element count, attributes per element) are enforced by a
/// byte-level pre-scan before libxml2 sees the document, and again on every event, so a hostile
/// document is refused without libxml2 doing work proportional to the attack. All byte counts are
/// UTF-8 bytes.
public struct XMLLimits: Sendable, Equatable {
    /// Largest accepted input, in bytes, checked before anything is parsed. Never more than `Int32.max`
    /// whatever is set here, because libxml2 takes the size as a C `int`.
    public var maxDocumentBytes: Int
    /// Deepest accepted element nesting: the root element is at depth 1, so `64` allows 64 nested levels.
    public var maxDepth: Int
    /// Most elements accepted in one document, the root included.
    public var maxElements: Int
    /// Most attributes accepted on one element. Namespace declarations (`xmlns`, `xmlns:p`) count too,
    /// because they cost libxml2 as much as attributes do.
    public var maxAttributesPerElement: Int
    /// Largest accepted text node (after decoding references and line ends), in bytes. Checked when the
    /// node is delivered. Defaults to `maxDocumentBytes`, because one text node may be almost the whole
    /// document (a large base64 attachment).
    public var maxTextBytes: Int

    /// Creates limits; `maxTextBytes` defaults to `maxDocumentBytes` when nil.
    public init(
        maxDocumentBytes: Int = 100 << 20,
        maxDepth: Int = 64,
        maxElements: Int = 1_000_000,
        maxAttributesPerElement: Int = 64,
        maxTextBytes: Int? = nil
    ) {
        self.maxDocumentBytes = maxDocumentBytes
        self.maxDepth = maxDepth
        self.maxElements = maxElements
        self.maxAttributesPerElement = maxAttributesPerElement
        self.maxTextBytes = maxTextBytes ?? maxDocumentBytes
    }

    /// The limits for edXML messages: 100 MiB, depth 64, one million elements, 64 attributes per element,
    /// text nodes up to the document size.
    public static let `default` = XMLLimits()
}
