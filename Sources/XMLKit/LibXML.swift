internal import CLibXML2

/// Process-wide libxml2 set-up, done once before any XMLKit entry point touches libxml2, and the
/// one set of parse options every libxml2 parse of untrusted input uses (XMLKit's and the
/// signature module's).
public enum LibXML {
    private static let initialized: Bool = {
        xmlInitParser()
        xmlkit_silence_global_errors()
        return true
    }()

    /// Runs `xmlInitParser()` and silences libxml2's global error output, once per process.
    static func ensureInitialized() {
        _ = initialized
    }

    /// XML_PARSE_NONET | XML_PARSE_HUGE. HUGE lifts libxml2's own 10 MB text-node and depth caps so a
    /// large base64 attachment parses; XMLLimits, enforced before and during parsing, bound the input
    /// instead. NOENT, DTDLOAD, DTDATTR and NOBLANKS are deliberately absent: no entity expansion, no
    /// DTD fetch, and no whitespace rewriting of input that may be signed.
    public static let parseOptions = Int32(bitPattern: XML_PARSE_NONET.rawValue | XML_PARSE_HUGE.rawValue)

    /// Copies a libxml2 string, nil for NULL or empty.
    static func string(_ pointer: UnsafePointer<xmlChar>?) -> String? {
        guard let pointer, pointer.pointee != 0 else { return nil }
        return String(cString: pointer)
    }

    /// Turns one libxml2 structured error into an XMLError. Every libxml2 error means the input is
    /// not (namespace-)well-formed, except the encoding ones, which keep their own code.
    static func error(from raw: xmlError, fallbackLine: Int? = nil) -> XMLError {
        var message = raw.message.map { String(cString: $0) } ?? "libxml2 error \(raw.code)"
        while let last = message.last, last.isWhitespace {
            message.removeLast()
        }
        let line = raw.line > 0 ? Int(raw.line) : fallbackLine
        let encodingCodes: Set<UInt32> = [
            XML_ERR_UNKNOWN_ENCODING.rawValue,
            XML_ERR_UNSUPPORTED_ENCODING.rawValue,
            XML_ERR_INVALID_ENCODING.rawValue,
        ]
        let code: XMLError.Code = encodingCodes.contains(UInt32(bitPattern: raw.code)) ? .encodingUnsupported : .malformed
        return XMLError(code, message, line: line)
    }
}

/// Keeps the first libxml2 error (warnings ignored) reported for one parser, so it can be thrown as a
/// value instead of being printed. Reached from C through an unretained pointer; its owner keeps it alive
/// for as long as the parser exists.
final class ErrorSink {
    private(set) var first: XMLError?

    func record(_ raw: xmlError) {
        guard first == nil, raw.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
        first = LibXML.error(from: raw)
    }
}
