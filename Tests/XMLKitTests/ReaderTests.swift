import Foundation
import Testing
import XMLKit

@Suite("XMLPushParser events and XMLDocumentParser")
struct ReaderTests {
    @Test("prefixes and default namespaces give the right namespaceURI, localName and prefix")
    func namespaces() throws {
        let xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <edXML xmlns="urn:ed" xmlns:x="urn:x" id="1" x:code="A">
          <x:Header x:kind="k" plain="p"><Inner/></x:Header>
          <Body xmlns="" other="o"><y:Leaf xmlns:y="urn:y" y:a="1" xml:lang="vi"/></Body>
        </edXML>
        """
        var starts: [(XMLName, [XMLAttribute])] = []
        let bytes = Array(xml.utf8)
        try bytes.withUnsafeBytes { buffer in
            try XMLPushParser.parse(buffer) { event in
                if case .startElement(let name, let attributes) = event {
                    starts.append((name, attributes))
                }
            }
        }
        let names = starts.map { $0.0 }
        #expect(names.map(\.namespaceURI) == ["urn:ed", "urn:x", "urn:ed", nil, "urn:y"])
        #expect(names.map(\.localName) == ["edXML", "Header", "Inner", "Body", "Leaf"])
        #expect(names.map(\.prefix) == [nil, "x", nil, nil, "y"])

        // Namespace declarations are not attributes; unprefixed attributes are in no namespace.
        let rootAttributes = starts[0].1
        #expect(rootAttributes.map(\.name.localName) == ["id", "code"])
        #expect(rootAttributes.map(\.name.namespaceURI) == [nil, "urn:x"])
        #expect(rootAttributes.map(\.name.prefix) == [nil, "x"])
        #expect(rootAttributes.map(\.value) == ["1", "A"])
        #expect(starts[1].1.map(\.name) == [XMLName(namespaceURI: "urn:x", localName: "kind"), XMLName(localName: "plain")])
        #expect(starts[3].1 == [XMLAttribute(name: XMLName(localName: "other"), value: "o")])
        let leaf = starts[4].1
        #expect(leaf.map(\.name.description) == ["{urn:y}a", "{http://www.w3.org/XML/1998/namespace}lang"])
        #expect(leaf.map(\.name.qualifiedName) == ["y:a", "xml:lang"])
    }

    @Test("DOM lookups find children whatever their order")
    func childOrder() throws {
        let first = try XMLDocumentParser.parse(#"<r xmlns:p="urn:p"><a>1</a><p:b>2</p:b><a>3</a></r>"#)
        let second = try XMLDocumentParser.parse(#"<r xmlns:q="urn:p"><q:b>2</q:b><a>1</a><a>3</a></r>"#)
        for root in [first, second] {
            #expect(root.firstChild(named: "b", namespace: "urn:p")?.text == "2")
            #expect(root.children(named: "a", namespace: nil).map(\.text) == ["1", "3"])
            #expect(root.firstChild(named: "b", namespace: nil) == nil)
        }
        // Same content, different prefix: XMLName equality ignores prefixes.
        #expect(first.firstChild(named: "b", namespace: "urn:p") == second.firstChild(named: "b", namespace: "urn:p"))
    }

    @Test("CRLF and LF inputs give the same events, text normalised to LF")
    func lineEnds() throws {
        let lf = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<r a=\"1\">\n  <t>line one\nline two</t>\n</r>\n"
        let crlf = lf.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(Array(crlf.utf8).contains(0x0D))
        let lfEvents = try eventLines(lf)
        let crlfEvents = try eventLines(crlf)
        #expect(lfEvents == crlfEvents)
        #expect(lfEvents.contains("text \"line one\\nline two\""))
        let root = try XMLDocumentParser.parse(crlf)
        #expect(root.firstChild(named: "t", namespace: nil)?.text == "line one\nline two")
        #expect(!Array(allText(root).utf8).contains(0x0D))
    }

    @Test("Vietnamese text in NFC and NFD survives parse then write byte for byte")
    func vietnameseRoundTrip() throws {
        let nfc = "Cộng hòa xã hội chủ nghĩa Việt Nam – Độc lập"
        // "Việt" decomposed: e + combining dot below + combining circumflex.
        let nfd = "Vi\u{0065}\u{0323}\u{0302}t Nam, Ho\u{0300}a"
        #expect(Array(nfc.utf8) != Array(nfd.utf8))
        let source = "<r xmlns=\"urn:vn\"><a t=\"\(nfd)\">\(nfc)</a><b>\(nfd)</b></r>"
        let root = try XMLDocumentParser.parse(source)
        let a = try #require(root.firstChild(named: "a", namespace: "urn:vn"))
        let b = try #require(root.firstChild(named: "b", namespace: "urn:vn"))
        // String == is canonical equivalence, so compare the UTF-8 bytes.
        #expect(Array(a.text.utf8) == Array(nfc.utf8))
        #expect(Array(b.text.utf8) == Array(nfd.utf8))
        #expect(Array((a.attribute("t") ?? "").utf8) == Array(nfd.utf8))

        let writer = try XMLStreamWriter(options: .init(indent: nil, xmlDeclaration: false))
        try writer.startElement("r", namespaceURI: "urn:vn")
        try writer.startElement("a")
        try writer.attribute("t", a.attribute("t") ?? "")
        try writer.text(a.text)
        try writer.endElement()
        try writer.element("b", text: b.text)
        let written = try writer.finish()
        #expect(written == Array((source + "\n").utf8))
    }

    @Test("CDATA arrives as text")
    func cdata() throws {
        let events = try eventLines("<r><![CDATA[<a> & b]]></r>")
        #expect(events == ["start r []", "text \"<a> & b\"", "end r"])
        let root = try XMLDocumentParser.parse("<r>x<![CDATA[<y>]]>z</r>")
        #expect(root.text == "x<y>z")
        #expect(root.children == [.text("x<y>z")])
    }

    @Test("predefined entities and character references decode in text and attributes")
    func references() throws {
        let root = try XMLDocumentParser.parse("<r a=\"x &amp; &#x1EBF; &lt;&quot;&apos;&#65;\">x &amp; &#x1EBF; &lt;&gt;&#65;</r>")
        #expect(root.text == "x & ế <>A")
        #expect(root.attribute("a") == "x & ế <\"'A")
    }

    @Test("empty elements deliver a matching end event")
    func emptyElements() throws {
        #expect(try eventLines("<r><e/><f></f></r>") == ["start r []", "start e []", "end e", "start f []", "end f", "end r"])
    }

    @Test("comments are delivered and kept in the tree; whitespace is kept")
    func commentsAndWhitespace() throws {
        let root = try XMLDocumentParser.parse("<!-- before --><r> <!-- inside --> <a/></r><!-- after -->")
        #expect(root.children == [.text(" "), .comment(" inside "), .text(" "), .element(XMLElement(name: XMLName(localName: "a")))])
    }

    @Test("malformed XML gives .malformed with a line number", arguments: [
        ("<r>\n<a>\n</r>", 3),
        ("<a/>\n\n<b/>", 3),
        ("hello world", 1),
        ("<r>\n<a b=\"1\" b=\"2\"/></r>", 2),
        ("<r>\n<p:a/></r>", 2),
        ("<r>\n&lt;</oops>", 2),
    ])
    func malformed(xml: String, line: Int) {
        let error = parseError(xml)
        #expect(error?.code == .malformed)
        #expect(error?.line == line)
        #expect(!(error?.message.isEmpty ?? true))
    }

    @Test("an undefined entity is .malformed")
    func undefinedEntity() {
        #expect(parseError("<r>&foo;</r>")?.code == .malformed)
        #expect(parseError("<r a=\"&foo;\"/>")?.code == .malformed)
    }

    @Test("a truncated document is .malformed even after events were delivered")
    func truncated() throws {
        var delivered = 0
        let bytes = Array("<r><a>text</a><b>".utf8)
        let error = bytes.withUnsafeBytes { buffer -> XMLError? in
            do throws(XMLError) {
                try XMLPushParser.parse(buffer) { _ in delivered += 1 }
                return nil
            } catch {
                return error
            }
        }
        #expect(error?.code == .malformed)
        #expect(delivered >= 3)
    }

    @Test("Data and [UInt8] inputs parse the same")
    func dataInput() throws {
        let text = "<r><a>ế</a></r>"
        #expect(try XMLDocumentParser.parse(Data(text.utf8)) == XMLDocumentParser.parse(Array(text.utf8)))
    }
}
