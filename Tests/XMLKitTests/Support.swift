import XMLKit

/// Reads a whole document and renders each event as one line, so tests can compare event streams.
func eventLines(_ bytes: [UInt8], limits: XMLLimits = .default) throws(XMLError) -> [String] {
    let result = bytes.withUnsafeBytes { buffer in
        Result { () throws(XMLError) -> [String] in
            let reader = try XMLEventReader(bytes: buffer, limits: limits)
            var lines: [String] = []
            while let event = try reader.next() {
                switch event {
                case .startElement(let name, let attributes, let isEmpty):
                    let rendered = attributes.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
                    lines.append("start \(name) [\(rendered)]\(isEmpty ? " empty" : "")")
                case .endElement(let name):
                    lines.append("end \(name)")
                case .text(let chunk):
                    lines.append("text \(chunk.string.debugDescription)")
                case .comment(let text):
                    lines.append("comment \(text)")
                }
            }
            return lines
        }
    }
    return try result.get()
}

func eventLines(_ text: String, limits: XMLLimits = .default) throws(XMLError) -> [String] {
    try eventLines(Array(text.utf8), limits: limits)
}

/// Runs `body` with a reader over `bytes`. Goes through Result because passing a typed-throws closure
/// to the untyped `rethrows` of withUnsafeBytes crashes the Swift 6.3.1 compiler.
func withReader<R>(
    _ bytes: [UInt8],
    limits: XMLLimits = .default,
    _ body: (XMLEventReader) throws(XMLError) -> R
) throws(XMLError) -> R {
    let result = bytes.withUnsafeBytes { buffer in
        Result { () throws(XMLError) -> R in
            let reader = try XMLEventReader(bytes: buffer, limits: limits)
            return try body(reader)
        }
    }
    return try result.get()
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

/// The error `XMLEventReader.init` throws for `bytes`, or nil when a reader is created. A throwing init
/// means libxml2 never saw the bytes.
func readerInitError(_ bytes: [UInt8], limits: XMLLimits = .default) -> XMLError? {
    bytes.withUnsafeBytes { buffer -> XMLError? in
        do throws(XMLError) {
            _ = try XMLEventReader(bytes: buffer, limits: limits)
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
