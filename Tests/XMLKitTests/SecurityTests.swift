import Testing
import XMLKit

@Suite("Refusals and limits on untrusted input")
struct SecurityTests {
    static let xxe = #"<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#

    @Test("a DOCTYPE with an external entity is refused before libxml2 reads anything", arguments: [
        xxe,
        "<!-- a comment first -->\n" + xxe,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + xxe,
        "<?xml version=\"1.0\"?><?pi data?><!-- c -->" + xxe,
        "  \n\t" + xxe,
        "\u{FEFF}" + xxe,
        "\u{FEFF}<?xml version=\"1.0\"?>\r\n  " + xxe,
        "<!doctype r><r/>",
    ])
    func doctypeRefused(xml: String) {
        // A throwing init means no libxml2 reader was ever created.
        let error = readerInitError(Array(xml.utf8))
        #expect(error?.code == .doctypeForbidden)
        #expect(error?.line != nil)
    }

    @Test("the billion laughs bomb is refused quickly")
    func billionLaughs() {
        var bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
        bomb += " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        for level in 2...9 {
            let previous = "&lol\(level - 1);"
            bomb += " <!ENTITY lol\(level) \"\(String(repeating: previous, count: 10))\">\n"
        }
        bomb += "]>\n<lolz>&lol9;</lolz>\n"
        let clock = ContinuousClock()
        var error: XMLError?
        let elapsed = clock.measure { error = parseError(bomb) }
        #expect(error?.code == .doctypeForbidden)
        #expect(error?.line == 2)
        #expect(elapsed < .seconds(1))
    }

    @Test("nesting over maxDepth is .tooDeep; at maxDepth it parses")
    func depth() throws {
        func nested(_ count: Int) -> String {
            String(repeating: "<a>", count: count) + String(repeating: "</a>", count: count)
        }
        let error = parseError(nested(100), limits: XMLLimits(maxDepth: 64))
        #expect(error?.code == .tooDeep)
        #expect(error?.line == 1)
        #expect(parseError(nested(64), limits: XMLLimits(maxDepth: 64)) == nil)
        #expect(parseError(nested(65), limits: XMLLimits(maxDepth: 64))?.code == .tooDeep)
        // An empty element is one level too.
        let emptyAtLimit = String(repeating: "<a>", count: 64) + "<b/>" + String(repeating: "</a>", count: 64)
        #expect(parseError(emptyAtLimit, limits: XMLLimits(maxDepth: 64))?.code == .tooDeep)
    }

    @Test("a document one byte over maxDocumentBytes is .tooLarge; at the limit it parses")
    func documentSize() {
        let bytes = Array("<r>0123456789</r>".utf8)
        #expect(parseError(bytes, limits: XMLLimits(maxDocumentBytes: bytes.count)) == nil)
        let error = parseError(bytes, limits: XMLLimits(maxDocumentBytes: bytes.count - 1))
        #expect(error?.code == .tooLarge)
    }

    @Test("a text node over maxTextBytes is .tooLarge; at the limit it parses")
    func textSize() {
        let limits = XMLLimits(maxTextBytes: 10)
        #expect(parseError("<r><a>0123456789</a></r>", limits: limits) == nil)
        #expect(parseError("<r><a>0123456789X</a></r>", limits: limits)?.code == .tooLarge)
        // The limit applies to decoded text: ten references are ten bytes.
        #expect(parseError("<r>" + String(repeating: "&#65;", count: 10) + "</r>", limits: limits) == nil)
        #expect(XMLLimits(maxDocumentBytes: 1000).maxTextBytes == 1000)
        #expect(XMLLimits.default.maxTextBytes == 100 << 20)
    }

    @Test("more elements than maxElements is .tooManyElements")
    func elementCount() {
        let limits = XMLLimits(maxElements: 10)
        let ten = "<r>" + String(repeating: "<a/>", count: 9) + "</r>"
        let eleven = "<r>" + String(repeating: "<a/>", count: 10) + "</r>"
        #expect(parseError(ten, limits: limits) == nil)
        #expect(parseError(eleven, limits: limits)?.code == .tooManyElements)
    }

    @Test("more attributes than maxAttributesPerElement is .tooManyAttributes, namespace declarations included")
    func attributeCount() {
        let limits = XMLLimits(maxAttributesPerElement: 3)
        #expect(parseError(#"<r a="1" b='2' c="3"/>"#, limits: limits) == nil)
        #expect(parseError(#"<r><e a="1" b="2" c="3" d="4"/></r>"#, limits: limits)?.code == .tooManyAttributes)
        #expect(parseError(#"<r xmlns:p="urn:p" a="1" b="2" p:c="3"/>"#, limits: limits)?.code == .tooManyAttributes)
        // Quoted values may hold '>' and the other quote without confusing the count.
        #expect(parseError(#"<r a="x>'y" b='"' c=">"/>"#, limits: limits) == nil)
    }

    @Test("an attribute flood on one start tag is refused before libxml2's quadratic duplicate check")
    func attributeFlood() {
        var tag = "<r"
        for index in 0..<200_000 {
            tag += " a\(index)=\"\""
        }
        tag += "/>"
        let clock = ContinuousClock()
        var error: XMLError?
        let elapsed = clock.measure { error = parseError(tag) }
        #expect(error?.code == .tooManyAttributes)
        #expect(elapsed < .seconds(2))
    }

    @Test("a declared encoding other than UTF-8 is .encodingUnsupported", arguments: [
        #"<?xml version="1.0" encoding="ISO-8859-1"?><r/>"#,
        #"<?xml version="1.0" encoding = 'windows-1258' ?><r/>"#,
        #"<?xml version="1.0" encoding="UTF-16"?><r/>"#,
    ])
    func foreignEncoding(xml: String) {
        #expect(readerInitError(Array(xml.utf8))?.code == .encodingUnsupported)
    }

    @Test("UTF-8 declarations in any case parse")
    func utf8Declarations() {
        #expect(parseError(#"<?xml version="1.0" encoding="utf-8"?><r/>"#) == nil)
        #expect(parseError("<?xml version='1.0' encoding = 'UTF-8' standalone='yes'?>\n<r/>") == nil)
        #expect(parseError("\u{FEFF}<r/>") == nil)
    }

    @Test("UTF-16 input is .encodingUnsupported")
    func utf16() {
        let text = "<?xml version=\"1.0\"?><r/>"
        let littleEndian = text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        #expect(parseError([0xFF, 0xFE] + littleEndian)?.code == .encodingUnsupported)
        #expect(parseError(littleEndian)?.code == .encodingUnsupported)
    }

    @Test("invalid UTF-8 is an error, not a crash", arguments: [
        [0xC3],                    // truncated
        [0xC0, 0x80],              // overlong NUL
        [0xE0, 0x80, 0xAF],        // overlong
        [0xED, 0xA0, 0x80],        // surrogate
        [0xF5, 0x80, 0x80, 0x80],  // beyond U+10FFFF
        [0xFF],
        [0x80],                    // lone continuation
    ] as [[UInt8]])
    func invalidUTF8(sequence: [UInt8]) {
        let bytes = Array("<r>\n<a>ok ế ".utf8) + sequence + Array(" tail</a></r>".utf8)
        let error = parseError(bytes)
        #expect(error?.code == .encodingUnsupported)
        #expect(error?.line == 2)
        // In an attribute and a name too.
        #expect(parseError(Array("<r a=\"".utf8) + sequence + Array("\"/>".utf8)) != nil)
        #expect(parseError(Array("<r".utf8) + sequence + Array("/>".utf8)) != nil)
    }

    @Test("a NUL byte is refused")
    func nulByte() {
        #expect(parseError(Array("<r>a".utf8) + [0] + Array("b</r>".utf8))?.code == .malformed)
    }

    @Test("input without a root element is .empty", arguments: ["", "   \n", "<!-- only a comment -->", "<?xml version=\"1.0\"?>\n", "\u{FEFF}"])
    func empty(xml: String) {
        #expect(parseError(xml)?.code == .empty)
    }

    @Test("a 20 MB text node parses with the default limits")
    func hugeTextNode() throws {
        let size = 20 << 20
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var bytes = Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<r><data>".utf8)
        bytes.reserveCapacity(size + 100)
        for index in 0..<size {
            bytes.append(alphabet[index & 63])
        }
        bytes += Array("</data></r>\n".utf8)
        var total = 0
        var checksum = 0
        try bytes.withUnsafeBytes { buffer in
            try XMLPushParser.parse(buffer) { event in
                if case .text(let chunk) = event {
                    total += chunk.bytes.count
                    checksum &+= Int(chunk.bytes.last ?? 0)
                }
            }
        }
        #expect(total == size)
        #expect(checksum == Int(alphabet[(size - 1) & 63]))
    }

    @Test("XMLError compares by code and describes itself with code, line and message")
    func errorValue() {
        let error = XMLError(.tooDeep, "deep", line: 7)
        #expect(error == XMLError(.tooDeep, "other"))
        #expect(error != XMLError(.malformed, "deep", line: 7))
        #expect(error.description == "tooDeep at line 7: deep")
        #expect(XMLError(code: .empty, message: "none", line: nil).description == "empty: none")
    }
}
