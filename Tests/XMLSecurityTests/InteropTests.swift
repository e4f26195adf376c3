import Foundation
import PKI
import Testing

@testable import XMLSecurity

/// A workspace with the test PKI written out as PEM files for the command-line tools.
struct ToolFiles {
    let directory: URL
    let caPEM: URL
    let certificatePEM: URL
    let keyPEM: URL

    init(_ identity: TestIdentity) throws {
        directory = try temporaryDirectory()
        caPEM = directory.appendingPathComponent("ca.pem")
        certificatePEM = directory.appendingPathComponent("cert.pem")
        keyPEM = directory.appendingPathComponent("key.pem")
        try TestPKI.shared.caPEM.write(to: caPEM, atomically: true, encoding: .utf8)
        try identity.certificatePEM.write(to: certificatePEM, atomically: true, encoding: .utf8)
        try identity.privateKeyPEM.write(to: keyPEM, atomically: true, encoding: .utf8)
    }

    func write(_ data: Data, _ name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}

/// `xmlsec1 --verify` against the test CA, empty Reference URIs only.
func xmlsec1Verify(_ file: URL, _ files: ToolFiles) throws -> ToolResult {
    try runTool("xmlsec1", ["--verify", "--trusted-pem", files.caPEM.path, "--enabled-reference-uris", "empty", file.path])
}

let signxmlVerifyScript = """
    import sys
    from signxml import XMLVerifier, SignatureConfiguration
    data = open(sys.argv[1], "rb").read()
    cert = open(sys.argv[2]).read()
    ns = "{http://www.mic.gov.vn/TBT/QCVN_102_2016}"
    config = SignatureConfiguration(location="./" + ns + "edXMLEnvelope/" + ns + "edXMLHeader/")
    result = XMLVerifier().verify(data, x509_cert=cert, expect_config=config)
    print("verified", result.signed_xml.tag)
    """

let signxmlSignScript = """
    import sys
    from lxml import etree
    from signxml import XMLSigner, methods, SignatureMethod, DigestAlgorithm, CanonicalizationMethod
    root = etree.parse(sys.argv[1]).getroot()
    signer = XMLSigner(method=methods.enveloped, signature_algorithm=SignatureMethod.RSA_SHA256,
                       digest_algorithm=DigestAlgorithm.SHA256,
                       c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    signed = signer.sign(root, key=open(sys.argv[2], "rb").read(), cert=[open(sys.argv[3]).read()])
    open(sys.argv[4], "wb").write(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))
    """

/// An XML-DSig template (empty values) for `xmlsec1 --sign`.
func signatureTemplate(method: String, digest: String) -> String {
    """
    <Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>\
    <CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>\
    <SignatureMethod Algorithm="\(method)"/><Reference URI=""><Transforms>\
    <Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>\
    <Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></Transforms>\
    <DigestMethod Algorithm="\(digest)"/><DigestValue></DigestValue></Reference></SignedInfo>\
    <SignatureValue></SignatureValue><KeyInfo><X509Data><X509Certificate></X509Certificate></X509Data></KeyInfo></Signature>
    """
}

@Suite("Interoperability with xmlsec1 and signxml")
struct InteropTests {
    @Test("our signatures verify with the xmlsec1 command line (RSA and ECDSA P-256); a tampered copy fails",
          arguments: [Signer.rsa2048, Signer.p256])
    func xmlsec1VerifiesOurs(signer: Signer) throws {
        let files = try ToolFiles(signer.identity)
        defer { files.remove() }
        let signed = try sign(fixture("edoc_new_0.edxml"), signer.identity)
        let result = try xmlsec1Verify(try files.write(signed, "signed.xml"), files)
        #expect(result.status == 0, "xmlsec1: \(result.output)")
        #expect(result.output.contains("OK"))

        let tampered = try replacingFirst("Văn phòng Chính phủ", with: "Văn phòng Chính phu", in: signed.text)
        let refused = try xmlsec1Verify(try files.write(data(tampered), "tampered.xml"), files)
        #expect(refused.status != 0, "xmlsec1 accepted a tampered document: \(refused.output)")
    }

    @Test("our signatures verify with Python signxml")
    func signxmlVerifiesOurs() throws {
        for signer in [Signer.rsa2048, Signer.p256] {
            let files = try ToolFiles(signer.identity)
            defer { files.remove() }
            let signed = try sign(fixture("status_inbox_01.edxml"), signer.identity)
            let file = try files.write(signed, "signed.xml")
            let result = try runTool("python3", ["-c", signxmlVerifyScript, file.path, files.certificatePEM.path])
            #expect(result.status == 0, "signxml (\(signer)): \(result.output)")
            #expect(result.output.contains("verified"))

            let tampered = try files.write(data(try replacingFirst("Nghệ An", with: "Nghệ Am", in: signed.text)), "tampered.xml")
            let refused = try runTool("python3", ["-c", signxmlVerifyScript, tampered.path, files.certificatePEM.path])
            #expect(refused.status != 0, "signxml accepted a tampered document")
        }
    }

    @Test("a document signed by the xmlsec1 command line (rsa-sha256) verifies and names its signer")
    func weVerifyXmlsec1() throws {
        let identity = TestPKI.shared.rsa2048
        let files = try ToolFiles(identity)
        defer { files.remove() }
        let template = try replacingFirst(
            "</edXML:edXMLHeader>",
            with: signatureTemplate(method: DSig.rsaSHA256, digest: DSig.sha256) + "</edXML:edXMLHeader>",
            in: fixture("status_acceptance_03.edxml").text
        )
        let input = try files.write(data(template), "template.xml")
        let output = files.directory.appendingPathComponent("out.xml")
        let result = try runTool(
            "xmlsec1", ["--sign", "--privkey-pem", "\(files.keyPEM.path),\(files.certificatePEM.path)", "--output", output.path, input.path]
        )
        try #require(result.status == 0, "xmlsec1 --sign: \(result.output)")
        let info = try XMLSignatureVerifier.verifyEdXML(try Data(contentsOf: output))
        #expect(info.signerCertificateDER == identity.certificateDER)
        #expect(info.signatureScheme == .rsaPKCS1SHA256)
        #expect(info.warnings.isEmpty)
    }

    @Test("a legacy rsa-sha1 / sha1 signature made by xmlsec1 verifies with warnings")
    func sha1Legacy() throws {
        let identity = TestPKI.shared.rsa2048
        let files = try ToolFiles(identity)
        defer { files.remove() }
        let template = try replacingFirst(
            "</edXML:edXMLHeader>",
            with: signatureTemplate(method: DSig.rsaSHA1, digest: DSig.sha1) + "</edXML:edXMLHeader>",
            in: fixture("status_inbox_01.edxml").text
        )
        let input = try files.write(data(template), "template.xml")
        let output = files.directory.appendingPathComponent("out.xml")
        let result = try runTool(
            "xmlsec1", ["--sign", "--privkey-pem", "\(files.keyPEM.path),\(files.certificatePEM.path)", "--output", output.path, input.path]
        )
        try #require(result.status == 0, "xmlsec1 --sign: \(result.output)")
        let signed = try Data(contentsOf: output)
        let info = try XMLSignatureVerifier.verifyEdXML(signed)
        #expect(info.signatureScheme == .rsaPKCS1SHA1)
        #expect(info.digestAlgorithmURI == DSig.sha1)
        #expect(info.warnings.map(\.code) == [.signatureSHA1, .digestSHA1])
        #expect(info.signerCertificateDER == identity.certificateDER)

        let tampered = try replacingFirst("Văn thư", with: "Văn thu", in: signed.text)
        let error = signatureError { () throws(XMLSignatureError) in try XMLSignatureVerifier.verifyEdXML(data(tampered)) }
        #expect(error?.code == .signatureInvalid)
    }

    @Test("a document signed by Python signxml (placeholder in edXMLHeader) verifies and names its signer")
    func weVerifySignxml() throws {
        let identity = TestPKI.shared.rsa3072
        let files = try ToolFiles(identity)
        defer { files.remove() }
        let placeholder = "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" Id=\"placeholder\"></ds:Signature>"
        let template = try replacingFirst(
            "</edXML:edXMLHeader>", with: placeholder + "</edXML:edXMLHeader>", in: fixture("edoc_new_0.edxml").text
        )
        let input = try files.write(data(template), "template.xml")
        let output = files.directory.appendingPathComponent("out.xml")
        let result = try runTool(
            "python3", ["-c", signxmlSignScript, input.path, files.keyPEM.path, files.certificatePEM.path, output.path]
        )
        try #require(result.status == 0, "signxml sign: \(result.output)")
        let signed = try Data(contentsOf: output)
        let info = try XMLSignatureVerifier.verifyEdXML(signed)
        #expect(info.signerCertificateDER == identity.certificateDER)
        #expect(info.signatureScheme == .rsaPKCS1SHA256)

        let tampered = try replacingFirst("V/v kết nối", with: "V/v kết nối!", in: signed.text)
        let error = signatureError { () throws(XMLSignatureError) in try XMLSignatureVerifier.verifyEdXML(data(tampered)) }
        #expect(error?.code == .signatureInvalid)
    }
}
