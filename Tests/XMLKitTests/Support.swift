@testable import XMLKit

/// Reads a whole document and renders each event as one line (adjacent text merged, since SAX may
/// deliver character data in pieces), so tests can compare event streams.
func eventLines(_ bytes: [UInt8], limits: XMLLimits = .default) throws(XMLError) -> [String] {
    var lines: [String] = []
    var pendingText: String?
    func flush() {
        if let text = pendingText { lines.append("text \(text.debugDescription)") }
        pendingText = nil
    }
    let result = bytes.withUnsafeBytes { buffer in
        Result { () throws(XMLError) in
            try XMLPushParser.parse(buffer, limits: limits) { event in
                if case .text(let chunk) = event {
                    pendingText = (pendingText ?? "") + chunk.string
                    return
                }
                flush()
                switch event {
                case .startElement(let name, let attributes):
                    let rendered = attributes.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
                    lines.append("start \(name) [\(rendered)]")
                case .endElement(let name):
                    lines.append("end \(name)")
                case .comment(let text):
                    lines.append("comment \(text)")
                case .text:
                    break
                }
            }
        }
    }
    try result.get()
    flush()
    return lines
}

func eventLines(_ text: String, limits: XMLLimits = .default) throws(XMLError) -> [String] {
    try eventLines(Array(text.utf8), limits: limits)
}

/// The error a parse of `bytes` throws, or nil when it parses.
func parseError(_ bytes: [UInt8], limits: XMLLimits = .default) -> XMLError? {
    do throws(XMLError) {
        _ = try XMLDocumentParser.parse(bytes, limits: limits)
        return nil
    } catch {
        return error
    }
}

func parseError(_ text: String, limits: XMLLimits = .default) -> XMLError? {
    parseError(Array(text.utf8), limits: limits)
}

/// The error the pre-scan throws for `bytes`, or nil when it passes: such an error means libxml2
/// never saw the bytes.
func readerInitError(_ bytes: [UInt8], limits: XMLLimits = .default) -> XMLError? {
    bytes.withUnsafeBytes { buffer -> XMLError? in
        do throws(XMLError) {
            try InputScanner.validate(buffer, limits: limits)
            return nil
        } catch {
            return error
        }
    }
}

/// All text directly or indirectly inside `element`, in document order.
func allText(_ element: XMLElement) -> String {
    var result = ""
    for child in element.children {
        switch child {
        case .text(let text): result += text
        case .element(let inner): result += allText(inner)
        case .comment: break
        }
    }
    return result
}
