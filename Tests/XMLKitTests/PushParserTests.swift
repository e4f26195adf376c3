import Foundation
import Testing

@testable import XMLKit

/// The push parser's events, with adjacent text merged (SAX delivers character data in pieces);
/// the handler throws at the start of `stopAt`.
func pushLines(_ text: String, limits: XMLLimits = .default,
               stopAt: String? = nil) throws(XMLError) -> [String] {
    let bytes = Array(text.utf8)
    let result = bytes.withUnsafeBytes { buffer in
        Result { () throws(XMLError) -> [String] in
            var lines: [String] = []
            try XMLPushParser.parse(buffer, limits: limits) { event throws(XMLError) in
                switch event {
                case .startElement(let name, let attributes):
                    if name.localName == stopAt { throw XMLError(.writeFailed, "stopped by the handler") }
                    let rendered = attributes.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
                    lines.append("start \(name) [\(rendered)]")
                case .endElement(let name):
                    lines.append("end \(name)")
                case .text(let chunk):
                    if let last = lines.last, last.hasPrefix("text ") {
                        lines[lines.count - 1] = last + chunk.string
                    } else {
                        lines.append("text " + chunk.string)
                    }
                case .comment(let text):
                    lines.append("comment \(text)")
                }
            }
            return lines
        }
    }
    return try result.get()
}

@Suite("XMLPushParser (SAX2)")
struct PushParserTests {
    @Test func deliversNamespacesReferencesCDATACommentsAndLineEnds() throws {
        let text = """
        <?xml version="1.0" encoding="UTF-8"?>
        <r xmlns="urn:a" xmlns:p="urn:b"><p:x a="1" p:b="&amp;2">Tiếng Việt &lt;ok&gt;<![CDATA[<raw>]]></p:x><!-- c --><e/>\r\n<f></f></r>
        """
        #expect(try pushLines(text) == [
            "start {urn:a}r []", "start {urn:b}x [a=1 {urn:b}b=&2]", "text Tiếng Việt <ok><raw>", "end {urn:b}x",
            "comment  c ", "start {urn:a}e []", "end {urn:a}e", "text \n", "start {urn:a}f []", "end {urn:a}f",
            "end {urn:a}r",
        ])
    }

    @Test func refusesDoctypeEntitiesAndMalformedInput() {
        let cases: [(String, XMLError.Code)] = [
            ("<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>", .doctypeForbidden),
            ("<r>&foo;</r>", .malformed),
            ("<r><a></r>", .malformed),
            ("<r><p:a/></r>", .malformed),
            ("", .empty),
        ]
        for (text, code) in cases {
            #expect(throws: XMLError.self, "\(text)") { _ = try pushLines(text) }
            do { _ = try pushLines(text) } catch { #expect(error.code == code || (code == .empty && error.code == .malformed), "\(text): \(error)") }
        }
    }

    @Test func enforcesLimitsWhileParsing() {
        var limits = XMLLimits.default
        limits.maxTextBytes = 1000
        do {
            _ = try pushLines("<r>" + String(repeating: "x", count: 5000) + "</r>", limits: limits)
            Issue.record("a text over maxTextBytes was accepted")
        } catch {
            #expect(error.code == .tooLarge)
        }
        let deep = String(repeating: "<a>", count: 100) + String(repeating: "</a>", count: 100)
        #expect(throws: XMLError.self) { _ = try pushLines(deep) }
    }

    @Test func aThrowingHandlerStopsTheParse() {
        do {
            _ = try pushLines("<r><a/><stop/><b/></r>", stopAt: "stop")
            Issue.record("the handler's error was lost")
        } catch {
            #expect(error.message == "stopped by the handler")
        }
    }

    @Test func largeTextIsDeliveredWithoutATextNode() throws {
        let big = String(repeating: "QUJD", count: 3_000_000)  // 12 MB: over libxml2's default text cap
        var pieces = 0
        var bytes = 0
        let text = Array("<r>\(big)</r>".utf8)
        let result = text.withUnsafeBytes { buffer in
            Result { () throws(XMLError) in
                try XMLPushParser.parse(buffer) { event in
                    if case .text(let chunk) = event {
                        pieces += 1
                        bytes += chunk.bytes.count
                    }
                }
            }
        }
        try result.get()
        // libxml2 lends runs of character data straight from its input buffer (one call here):
        // every byte arrives, and no text node is built.
        #expect(bytes == big.utf8.count)
        #expect(pieces >= 1)
    }
}
