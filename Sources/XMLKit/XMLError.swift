/// The one error type of XMLKit: every failure, whether found by the pre-scan, by libxml2 or by the
/// writer, is reported as a value of this type, never as a crash.
public struct XMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure happened. Callers branch on this; the message is for logs.
    public enum Code: String, Sendable {
        /// Not well-formed or not namespace-well-formed (libxml2's message and line when it found it).
        /// `XMLCanonicalizer` also reports with this code a document libxml2's C14N refuses after it
        /// parsed (a relative namespace URI), its message starting with "exclusive C14N".
        case malformed
        /// The document has a `<!DOCTYPE ...>`. Refused before libxml2 sees it: with no DTD there are no
        /// entities except the five predefined ones and character references, so no XXE and no entity bombs.
        case doctypeForbidden
        /// The document is over `maxDocumentBytes`, or a text node is over `maxTextBytes`.
        case tooLarge
        /// Element nesting is over `maxDepth`.
        case tooDeep
        /// More elements than `maxElements`.
        case tooManyElements
        /// An element has more attributes (namespace declarations included) than `maxAttributesPerElement`.
        case tooManyAttributes
        /// A declared encoding other than UTF-8, a UTF-16/UTF-32/EBCDIC byte pattern, or invalid UTF-8.
        case encodingUnsupported
        /// No root element (empty input, or only whitespace, comments and processing instructions).
        case empty
        /// `XMLStreamWriter` refused a call (invalid name or character, misuse) or libxml2 failed to write.
        case writeFailed
    }

    /// The kind of failure; the only part compared by `==`.
    public let code: Code
    /// English, technical description: libxml2's own message when libxml2 found the problem.
    public let message: String
    /// 1-based line of the input where the problem was found, when known.
    public let line: Int?

    /// Creates an error value; XMLKit's callers may use it to report their own XML-level failures.
    public init(code: Code, message: String, line: Int? = nil) {
        self.code = code
        self.message = message
        self.line = line
    }

    /// Shorthand for `init(code:message:line:)`.
    public init(_ code: Code, _ message: String, line: Int? = nil) {
        self.init(code: code, message: message, line: line)
    }

    /// Errors compare equal when their codes are equal, so tests and callers can match on the kind alone.
    public static func == (lhs: XMLError, rhs: XMLError) -> Bool {
        lhs.code == rhs.code
    }

    /// `code at line N: message`, or `code: message` when the line is unknown.
    public var description: String {
        if let line {
            return "\(code.rawValue) at line \(line): \(message)"
        }
        return "\(code.rawValue): \(message)"
    }
}
