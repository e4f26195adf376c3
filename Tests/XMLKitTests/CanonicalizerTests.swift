import Testing
import XMLKit

@Suite("XMLCanonicalizer")
struct CanonicalizerTests {
    @Test("exclusive C14N of a small document matches the hand-computed form")
    func smallDocument() throws {
        let input = """
        <?xml version="1.0" encoding="UTF-8"?>\r
        <!-- prolog comment -->\r
        <r xmlns="urn:a" xmlns:u="urn:unused" xmlns:p="urn:p" b='2' a="1" p:z="3">\r
          <e   x='y' >t &amp; &#x1EBF; &lt;x&gt; "q"</e><f/><!-- inner --><p:g/><![CDATA[c<d]]>\r
        </r>\r

        """
        // Declaration and comments dropped; CRLF read as LF; attributes in double quotes, no-namespace
        // ones first and sorted; only visibly used namespaces declared, where first used; empty elements
        // expanded; text re-escaped (& < >) and CDATA turned into escaped text.
        let expected = "<r xmlns=\"urn:a\" xmlns:p=\"urn:p\" a=\"1\" b=\"2\" p:z=\"3\">\n"
            + "  <e x=\"y\">t &amp; ế &lt;x&gt; \"q\"</e><f></f><p:g></p:g>c&lt;d\n"
            + "</r>"
        let output = try XMLCanonicalizer.exclusiveC14N(Array(input.utf8))
        #expect(String(decoding: output, as: UTF8.self) == expected)
        #expect(output == Array(expected.utf8))
    }

    @Test("exclusive C14N pushes namespace declarations down to where they are used")
    func namespacePushDown() throws {
        let input = #"<a:r xmlns:a="urn:a" xmlns:b="urn:b"><x/><b:y b:k="v"/></a:r>"#
        let expected = #"<a:r xmlns:a="urn:a"><x></x><b:y xmlns:b="urn:b" b:k="v"></b:y></a:r>"#
        #expect(try XMLCanonicalizer.exclusiveC14N(Array(input.utf8)) == Array(expected.utf8))
    }

    @Test("C14N applies the reader's refusals")
    func refusals() {
        let xxe = Array(#"<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#.utf8)
        #expect(throws: XMLError(.doctypeForbidden, "")) { try XMLCanonicalizer.exclusiveC14N(xxe) }
        #expect(throws: XMLError(.malformed, "")) { try XMLCanonicalizer.exclusiveC14N(Array("<r><a></r>".utf8)) }
        #expect(throws: XMLError(.tooDeep, "")) {
            try XMLCanonicalizer.exclusiveC14N(Array("<a><b><c/></b></a>".utf8), limits: XMLLimits(maxDepth: 2))
        }
        let relative = #expect(throws: XMLError.self) {
            try XMLCanonicalizer.exclusiveC14N(Array(#"<r xmlns="relative/uri"/>"#.utf8))
        }
        #expect(relative?.code == .malformed)
        #expect(relative?.message.hasPrefix("exclusive C14N") == true)
    }

    @Test("C14N accepts a text node over libxml2's built-in 10 MB cap")
    func largeText() throws {
        let size = 12 << 20
        var input = Array("<r>".utf8)
        input += [UInt8](repeating: UInt8(ascii: "Q"), count: size)
        input += Array("</r>".utf8)
        let output = try XMLCanonicalizer.exclusiveC14N(input)
        #expect(output == input)
    }
}
