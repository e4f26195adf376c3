import Testing
import XMLKit

@Suite("XMLStreamWriter")
struct WriterTests {
    static let edXMLNamespace = "http://www.mic.gov.vn/TBT/QCVN_102_2016"

    static func writeEnvelope() throws -> [UInt8] {
        let writer = try XMLStreamWriter()
        try writer.startElement("edXML", namespaceURI: edXMLNamespace)
        try writer.startElement("edXMLEnvelope", prefix: "edXML", namespaceURI: edXMLNamespace)
        try writer.startElement("edXMLHeader", prefix: "edXML")
        try writer.element("OrganId", prefix: "edXML", text: "000.00.00.G22")
        try writer.endElement()
        try writer.endElement()
        try writer.endElement()
        return try writer.finish()
    }

    @Test("reproduces the Government Office SDK layout byte for byte")
    func sdkLayout() throws {
        let expected = """
        <?xml version="1.0" encoding="UTF-8"?>
        <edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">
          <edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">
            <edXML:edXMLHeader>
              <edXML:OrganId>000.00.00.G22</edXML:OrganId>
            </edXML:edXMLHeader>
          </edXML:edXMLEnvelope>
        </edXML>

        """
        let written = try Self.writeEnvelope()
        #expect(String(decoding: written, as: UTF8.self) == expected)
        #expect(written == Array(expected.utf8))
    }

    @Test("writing the same calls twice gives identical bytes")
    func deterministic() throws {
        let first = try Self.writeEnvelope()
        let second = try Self.writeEnvelope()
        #expect(first == second)
        #expect(!first.isEmpty)
    }

    @Test("the written envelope reads back with the right names")
    func readBack() throws {
        let root = try XMLDocumentParser.parse(Self.writeEnvelope())
        #expect(root.name == XMLName(namespaceURI: Self.edXMLNamespace, localName: "edXML"))
        let organ = root
            .firstChild(named: "edXMLEnvelope", namespace: Self.edXMLNamespace)?
            .firstChild(named: "edXMLHeader", namespace: Self.edXMLNamespace)?
            .firstChild(named: "OrganId", namespace: Self.edXMLNamespace)
        #expect(organ?.text == "000.00.00.G22")
        #expect(organ?.name.prefix == "edXML")
    }

    @Test("text and attribute values with <&>\"' and line ends round-trip")
    func escaping() throws {
        let tricky = "a<b>&c\"d'e ]]> \t tab\nline\r\nend"
        let writer = try XMLStreamWriter(options: .init(indent: nil))
        try writer.startElement("r")
        try writer.attribute("v", tricky)
        try writer.text(tricky)
        try writer.endElement()
        let bytes = try writer.finish()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!text.contains("<b>"))
        let root = try XMLDocumentParser.parse(bytes)
        #expect(root.text == tricky)
        #expect(root.attribute("v") == tricky)
    }

    @Test("an element without content is written <x/>, also from element(_:text: \"\")")
    func emptyElement() throws {
        let writer = try XMLStreamWriter(options: .init(indent: nil, xmlDeclaration: false))
        try writer.startElement("r")
        try writer.startElement("a")
        try writer.endElement()
        try writer.element("b", text: "")
        try writer.startElement("c")
        try writer.attribute("k", "v")
        try writer.endElement()
        try writer.endElement()
        #expect(try writer.finish() == Array("<r><a/><b/><c k=\"v\"/></r>\n".utf8))
    }

    @Test("without indentation: no layout whitespace, namespace declarations after attributes, finish closes open elements")
    func noIndent() throws {
        let writer = try XMLStreamWriter(options: .init(indent: nil))
        try writer.comment(" first ")
        try writer.startElement("r", namespaceURI: "urn:r")
        try writer.attribute("id", "1")
        try writer.comment(" note ")
        try writer.startElement("a")
        try writer.text("x")
        let expected = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- first --><r id=\"1\" xmlns=\"urn:r\"><!-- note --><a>x</a></r>\n"
        #expect(try writer.finish() == Array(expected.utf8))
        // Finished writers refuse further use.
        #expect(throws: XMLError(.writeFailed, "")) { try writer.text("more") }
        #expect(throws: XMLError(.writeFailed, "")) { try writer.finish() }
    }

    static let misuses: [(String, @Sendable (XMLStreamWriter) throws(XMLError) -> Void)] = [
        ("colon in a local name", { w throws(XMLError) in try w.startElement("p:a") }),
        ("name starting with a digit", { w throws(XMLError) in try w.startElement("1a") }),
        ("undeclared element prefix", { w throws(XMLError) in try w.startElement("a", prefix: "q") }),
        ("undeclared attribute prefix", { w throws(XMLError) in try w.startElement("a"); try w.attribute("b", "1", prefix: "q") }),
        ("unprefixed attribute in a namespace", { w throws(XMLError) in try w.startElement("a"); try w.attribute("b", "1", namespaceURI: "urn:x") }),
        ("control character in text", { w throws(XMLError) in try w.startElement("a"); try w.text("bell \u{7}") }),
        ("NUL in an attribute", { w throws(XMLError) in try w.startElement("a"); try w.attribute("b", "x\u{0}y") }),
        ("U+FFFF in text", { w throws(XMLError) in try w.startElement("a"); try w.text("\u{FFFF}") }),
        ("double hyphen in a comment", { w throws(XMLError) in try w.comment("a--b") }),
        ("trailing hyphen in a comment", { w throws(XMLError) in try w.comment("a-") }),
        ("attribute after text", { w throws(XMLError) in try w.startElement("a"); try w.text("t"); try w.attribute("b", "1") }),
        ("attribute after a child", { w throws(XMLError) in try w.startElement("a"); try w.element("c", text: ""); try w.attribute("b", "1") }),
        ("duplicate attribute", { w throws(XMLError) in try w.startElement("a"); try w.attribute("b", "1"); try w.attribute("b", "2") }),
        ("duplicate expanded attribute name", { w throws(XMLError) in
            try w.startElement("a", namespaceURI: nil)
            try w.attribute("b", "1", prefix: "p", namespaceURI: "urn:p")
            try w.attribute("q", "urn:p", prefix: "xmlns")
            try w.attribute("b", "2", prefix: "q")
        }),
        ("prefix rebound on one element", { w throws(XMLError) in try w.startElement("a", prefix: "p", namespaceURI: "urn:1"); try w.attribute("b", "1", prefix: "p", namespaceURI: "urn:2") }),
        ("second root", { w throws(XMLError) in try w.element("a", text: ""); try w.startElement("b") }),
        ("end without start", { w throws(XMLError) in try w.endElement() }),
        ("text outside the root", { w throws(XMLError) in try w.text("t") }),
        ("finish without a root", { w throws(XMLError) in _ = try w.finish() }),
        ("reserved prefix xmlns on an element", { w throws(XMLError) in try w.startElement("a", prefix: "xmlns", namespaceURI: "urn:x") }),
    ]

    @Test("misuse throws .writeFailed, and the writer stays failed", arguments: misuses)
    func misuse(name: String, calls: @Sendable (XMLStreamWriter) throws(XMLError) -> Void) throws {
        let writer = try XMLStreamWriter()
        let error = #expect(throws: XMLError.self, "\(name)") { try calls(writer) }
        #expect(error?.code == .writeFailed)
        #expect(throws: XMLError(.writeFailed, "")) { try writer.finish() }
    }

    @Test("an indent other than spaces and tabs is refused")
    func badIndent() {
        #expect(throws: XMLError(.writeFailed, "")) { try XMLStreamWriter(options: .init(indent: "<x>")) }
        #expect(throws: Never.self) { try XMLStreamWriter(options: .init(indent: "\t")) }
    }

    @Test("namespaceURI \"\" without a prefix puts an element back in no namespace")
    func undeclareDefault() throws {
        let writer = try XMLStreamWriter(options: .init(indent: nil, xmlDeclaration: false))
        try writer.startElement("r", namespaceURI: "urn:r")
        try writer.element("inside", text: "1")
        try writer.startElement("Signature", namespaceURI: "")
        try writer.element("child", text: "2")
        try writer.endElement()
        let bytes = try writer.finish()
        #expect(bytes == Array("<r xmlns=\"urn:r\"><inside>1</inside><Signature xmlns=\"\"><child>2</child></Signature></r>\n".utf8))
        let root = try XMLDocumentParser.parse(bytes)
        #expect(root.firstChild(named: "inside", namespace: "urn:r") != nil)
        #expect(root.firstChild(named: "Signature", namespace: nil)?.firstChild(named: "child", namespace: nil)?.text == "2")
    }

    @Test("attributes in namespaces, xml:lang and extra namespace declarations")
    func namespacedAttributes() throws {
        let writer = try XMLStreamWriter(options: .init(indent: nil, xmlDeclaration: false))
        try writer.startElement("r", namespaceURI: "urn:r")
        try writer.attribute("id", "1")
        try writer.attribute("lang", "vi", prefix: "xml")
        try writer.attribute("xsi", "http://www.w3.org/2001/XMLSchema-instance", prefix: "xmlns")
        try writer.attribute("code", "A", prefix: "p", namespaceURI: "urn:p")
        try writer.startElement("c", prefix: "p")
        try writer.attribute("type", "t", prefix: "xsi")
        try writer.endElement()
        try writer.startElement("d")
        try writer.attribute("space", "preserve", prefix: "xml", namespaceURI: "http://www.w3.org/XML/1998/namespace")
        try writer.attribute("m", "urn:m", prefix: "xmlns")
        try writer.attribute("one", "1", prefix: "m", namespaceURI: "urn:m")
        try writer.attribute("two", "2", prefix: "m", namespaceURI: "urn:m")
        try writer.endElement()
        let bytes = try writer.finish()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.components(separatedBy: "xmlns:m=").count == 2)
        #expect(text.components(separatedBy: "xmlns:p=").count == 2)
        let root = try XMLDocumentParser.parse(bytes)
        #expect(root.firstChild(named: "d", namespace: "urn:r")?.attributes.map(\.name.description) == ["{http://www.w3.org/XML/1998/namespace}space", "{urn:m}one", "{urn:m}two"])
        #expect(!text.contains("xmlns:xml"))
        #expect(root.attribute("id") == "1")
        #expect(root.attribute("lang", namespace: "http://www.w3.org/XML/1998/namespace") == "vi")
        #expect(root.attribute("code", namespace: "urn:p") == "A")
        let child = root.firstChild(named: "c", namespace: "urn:p")
        #expect(child?.attribute("type", namespace: "http://www.w3.org/2001/XMLSchema-instance") == "t")
    }

    @Test func asciiTextIsWrittenAsIsAndRefusesMarkup() throws {
        let writer = try XMLStreamWriter(options: .init(indent: nil, xmlDeclaration: false))
        try writer.startElement("b")
        try Array("QUJD+/==".utf8).withUnsafeBytes { raw in try writer.asciiText(raw) }
        try writer.endElement()
        let written = String(decoding: try writer.finish(), as: UTF8.self)
        #expect(written == "<b>QUJD+/==</b>\n")
        for bad in ["a<b", "a&b", "a>b", "tab\t", "é"] {
            // A refused write leaves the writer failed, so each case gets its own.
            let refusing = try XMLStreamWriter(options: .init(indent: nil, xmlDeclaration: false))
            try refusing.startElement("b")
            #expect(throws: XMLError.self) {
                try Array(bad.utf8).withUnsafeBytes { raw in try refusing.asciiText(raw) }
            }
        }
    }
}
