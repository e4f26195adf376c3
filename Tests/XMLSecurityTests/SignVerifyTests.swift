import Foundation
import PKI
import Testing

@testable import XMLSecurity

let edXMLNamespace = "http://www.mic.gov.vn/TBT/QCVN_102_2016"

enum Signer: String, CaseIterable, Sendable {
    case rsa2048, rsa3072, p256

    var identity: TestIdentity {
        switch self {
        case .rsa2048: TestPKI.shared.rsa2048
        case .rsa3072: TestPKI.shared.rsa3072
        case .p256: TestPKI.shared.p256
        }
    }
}

/// Signs `document` with `identity` and its CA as chain.
func sign(_ document: Data, _ identity: TestIdentity = TestPKI.shared.rsa2048) throws -> Data {
    try XMLSigner.signEdXML(document, key: identity.key, certificateChainDER: [identity.certificateDER, TestPKI.shared.caDER])
}

/// The signed status message, as text.
func signedText(_ identity: TestIdentity = TestPKI.shared.rsa2048) throws -> String {
    try sign(fixture("status_inbox_01.edxml"), identity).text
}

@Suite("Sign and verify")
struct SignVerifyTests {
    @Test("round trip for every sample and key; only the Signature is inserted", arguments: fixtureNames(), Signer.allCases)
    func roundTrip(name: String, signer: Signer) throws {
        let input = try fixture(name)
        let identity = signer.identity
        let output = try sign(input, identity)

        let info = try XMLSignatureVerifier.verifyEdXML(output)
        #expect(info.signerCertificateDER == identity.certificateDER)
        #expect(info.certificatesDER == [identity.certificateDER, TestPKI.shared.caDER])
        #expect(info.signatureScheme == (signer == .p256 ? .ecdsaP256SHA256 : .rsaPKCS1SHA256))
        #expect(info.digestAlgorithmURI == "http://www.w3.org/2001/04/xmlenc#sha256")
        #expect(info.warnings.isEmpty)

        // The bytes around the inserted element are the input's, and the element ends right where
        // edXMLHeader's end tag starts (its last child).
        let start = try #require(output.range(of: data("<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\">")))
        let endMarker = data("</Signature>")
        let end = try #require(output.range(of: endMarker, in: start.upperBound..<output.endIndex)).upperBound
        let insertedCount = end - start.lowerBound
        #expect(output.count == input.count + insertedCount)
        #expect(output[..<start.lowerBound] == input[..<start.lowerBound])
        #expect(Data(output[end...]) == Data(input[start.lowerBound...]))
        #expect(output[end...].starts(with: data("</edXML:edXMLHeader>")))
        #expect(output.text.contains("<X509Certificate>"))
    }

    @Test("a signed document is not signed again")
    func twiceSigned() throws {
        let once = try sign(fixture("status_inbox_01.edxml"))
        let error = signatureError { () throws(XMLSignatureError) in
            try XMLSigner.signEdXML(once, key: TestPKI.shared.p256.key, certificateChainDER: [TestPKI.shared.p256.certificateDER])
        }
        #expect(error?.code == .signaturePresent)
    }

    @Test("Vietnamese text survives signing and the verified bytes keep it")
    func vietnamese() throws {
        let input = try replacingFirst(
            "<edXML:Description>", with: "<edXML:Description>Đã tiếp nhận: Ủy ban nhân dân tỉnh Nghệ An — ",
            in: fixture("status_inbox_01.edxml").text
        )
        let output = try sign(data(input))
        #expect(output.text.contains("Đã tiếp nhận: Ủy ban nhân dân tỉnh Nghệ An — Văn thư"))
        _ = try XMLSignatureVerifier.verifyEdXML(output)
    }

    @Test("CRLF input is signed byte-for-byte and verifies")
    func crlf() throws {
        let input = data(try fixture("status_finish_06.edxml").text.replacingOccurrences(of: "\n", with: "\r\n"))
        let output = try sign(input)
        let start = try #require(output.range(of: data("<Signature ")))
        #expect(output[..<start.lowerBound] == input[..<start.lowerBound])
        #expect(output.text.hasSuffix("</edXML:edXMLHeader>\r\n  </edXML:edXMLEnvelope>\r\n</edXML>\r\n") || output.text.hasSuffix("</edXML>"))
        _ = try XMLSignatureVerifier.verifyEdXML(output)
    }

    @Test("signing and verifying from several threads at once")
    func concurrent() throws {
        let input = try fixture("status_acceptance_03.edxml")
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 16) { index in
            let identity = index % 2 == 0 ? TestPKI.shared.rsa2048 : TestPKI.shared.p256
            do {
                let output = try sign(input, identity)
                let info = try XMLSignatureVerifier.verifyEdXML(output)
                if info.signerCertificateDER != identity.certificateDER { failures.add("wrong signer") }
            } catch {
                failures.add("\(error)")
            }
        }
        #expect(failures.all.isEmpty)
    }
}

final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ item: String) { lock.withLock { items.append(item) } }
    var all: [String] { lock.withLock { items } }
}

@Suite("Refusals, one per error code")
struct ErrorCodeTests {
    func verifyError(_ text: String) -> XMLSignatureError.Code? {
        signatureError { () throws(XMLSignatureError) in try XMLSignatureVerifier.verifyEdXML(data(text)) }?.code
    }

    @Test("signature_missing")
    func missing() throws {
        #expect(verifyError(try fixture("status_inbox_01.edxml").text) == .signatureMissing)
    }

    @Test("signature_multiple: a second Signature anywhere, including a wrapped signed copy of the header")
    func multiple() throws {
        let signed = try signedText()
        let signature = try #require(signed.range(of: "<Signature xmlns=").map { start in
            String(signed[start.lowerBound..<(signed.range(of: "</Signature>")?.upperBound ?? start.upperBound)])
        })
        let twice = try replacingFirst("<edXML:MessageHeader>", with: signature + "<edXML:MessageHeader>", in: signed)
        #expect(verifyError(twice) == .signatureMultiple)

        // Wrapping: the signed header moved into the body, a forged header in its place.
        let headerStart = try #require(signed.range(of: "<edXML:edXMLHeader>"))
        let headerEnd = try #require(signed.range(of: "</edXML:edXMLHeader>"))
        let signedHeader = String(signed[headerStart.lowerBound..<headerEnd.upperBound])
        let forgedHeader = signedHeader.replacingOccurrences(of: "000.00.00.H41", with: "000.00.00.H99")
        var wrapped = signed.replacingCharacters(in: headerStart.lowerBound..<headerEnd.upperBound, with: forgedHeader)
        wrapped = try replacingFirst(
            "</edXML:edXMLEnvelope>",
            with: "<edXML:edXMLBody><Wrapper xmlns=\"urn:x\">\(signedHeader)</Wrapper></edXML:edXMLBody></edXML:edXMLEnvelope>",
            in: wrapped
        )
        #expect(verifyError(wrapped) == .signatureMultiple)
    }

    @Test("signature_misplaced: a valid signature that is not a child of edXMLHeader")
    func misplaced() throws {
        let output = try XMLSigner.signEnveloped(
            fixture("status_inbox_01.edxml"), parentLocalName: "MessageHeader", parentNamespace: edXMLNamespace,
            key: TestPKI.shared.rsa2048.key, certificateChainDER: [TestPKI.shared.rsa2048.certificateDER]
        )
        #expect(verifyError(output.text) == .signatureMisplaced)
        // Signing into a parent that does not exist is refused the same way.
        let error = signatureError { () throws(XMLSignatureError) in
            try XMLSigner.signEnveloped(
                data("<a><b/></a>"), parentLocalName: "edXMLHeader", parentNamespace: edXMLNamespace,
                key: TestPKI.shared.rsa2048.key, certificateChainDER: [TestPKI.shared.rsa2048.certificateDER]
            )
        }
        #expect(error?.code == .signatureMisplaced)
    }

    @Test("signature_reference_invalid: ID reference, XPointer, two references, other transforms")
    func referenceInvalid() throws {
        let signed = try signedText()
        let idReference = try replacingFirst("URI=\"\"", with: "URI=\"#x\"", in: signed)
            .replacingOccurrences(of: "<edXML:MessageHeader>", with: "<edXML:MessageHeader Id=\"x\">")
        #expect(verifyError(idReference) == .referenceInvalid)
        #expect(verifyError(try replacingFirst("URI=\"\"", with: "URI=\"#xpointer(/)\"", in: signed)) == .referenceInvalid)
        #expect(verifyError(try replacingFirst(" URI=\"\"", with: "", in: signed)) == .referenceInvalid)

        let referenceStart = try #require(signed.range(of: "<Reference"))
        let referenceEnd = try #require(signed.range(of: "</Reference>"))
        let reference = String(signed[referenceStart.lowerBound..<referenceEnd.upperBound])
        #expect(verifyError(try replacingFirst(reference, with: reference + reference, in: signed)) == .referenceInvalid)

        let noEnveloped = try replacingFirst(
            "<Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>", with: "", in: signed
        )
        #expect(verifyError(noEnveloped) == .referenceInvalid)
        let inclusive = try replacingFirst(
            "<Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
            with: "<Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\"><XPath>1</XPath></Transform>",
            in: signed
        )
        #expect(verifyError(inclusive) == .referenceInvalid)
    }

    @Test("signature_invalid: one changed byte in the Subject")
    func changedSubject() throws {
        let signed = try sign(fixture("edoc_new_0.edxml")).text
        #expect(verifyError(signed) == nil)
        let tampered = try replacingFirst("V/v kết nối", with: "V/v kết nôi", in: signed)
        #expect(verifyError(tampered) == .signatureInvalid)
    }

    @Test("signature_invalid: one changed byte inside the attachment base64")
    func changedAttachment() throws {
        let payload = Data((0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).base64EncodedString(options: .lineLength76Characters)
        let input = try fixture("edoc_new_0.edxml").text.replacingOccurrences(
            of: "<!-- base64 of a ZIP archive; payload removed from this copy (original ~5 KB) -->", with: payload
        )
        let signed = try sign(data(input), TestPKI.shared.p256).text
        #expect(verifyError(signed) == nil)
        let middle = payload[payload.index(payload.startIndex, offsetBy: 2000)...].prefix(8)
        let changed = String(middle.prefix(7)) + (middle.last == "A" ? "B" : "A")
        let tampered = try replacingFirst(String(middle), with: changed, in: signed)
        #expect(tampered != signed)
        #expect(verifyError(tampered) == .signatureInvalid)
    }

    @Test("signature_invalid: changed SignatureValue and DigestValue")
    func changedValues() throws {
        let signed = try signedText()
        let value = try #require(signed.range(of: "<SignatureValue>"))
        var bytes = Array(signed.utf8)
        let offset = signed.utf8.distance(from: signed.startIndex, to: value.upperBound) + 10
        bytes[offset] = bytes[offset] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(verifyError(String(decoding: bytes, as: UTF8.self)) == .signatureInvalid)
    }

    @Test("signature_algorithm_unsupported: rsa-sha512 and an MD5 digest")
    func algorithmUnsupported() throws {
        let signed = try signedText()
        let sha512 = try replacingFirst("xmldsig-more#rsa-sha256", with: "xmldsig-more#rsa-sha512", in: signed)
        #expect(verifyError(sha512) == .algorithmUnsupported)
        let md5 = try replacingFirst("http://www.w3.org/2001/04/xmlenc#sha256", with: "http://www.w3.org/2001/04/xmldsig-more#md5", in: signed)
        #expect(verifyError(md5) == .algorithmUnsupported)
    }

    @Test("certificate_missing: KeyInfo without X509Certificate")
    func certificateMissing() throws {
        let signed = try signedText()
        let start = try #require(signed.range(of: "<KeyInfo>"))
        let end = try #require(signed.range(of: "</KeyInfo>"))
        let stripped = signed.replacingCharacters(in: start.lowerBound..<end.upperBound, with: "<KeyInfo><KeyName>x</KeyName></KeyInfo>")
        #expect(verifyError(stripped) == .certificateMissing)
        let input = try fixture("status_inbox_01.edxml")
        let error = signatureError { () throws(XMLSignatureError) in
            try XMLSigner.signEdXML(input, key: TestPKI.shared.rsa2048.key, certificateChainDER: [])
        }
        #expect(error?.code == .certificateMissing)
    }

    @Test("certificate_key_mismatch: signing with another certificate; an EC certificate for rsa-sha256")
    func keyMismatch() throws {
        let input = try fixture("status_inbox_01.edxml")
        let error = signatureError { () throws(XMLSignatureError) in
            try XMLSigner.signEdXML(
                input, key: TestPKI.shared.rsa2048.key,
                certificateChainDER: [TestPKI.shared.other.certificateDER]
            )
        }
        #expect(error?.code == .certificateKeyMismatch)

        let signed = try signedText()
        let rsaCertificate = Data(TestPKI.shared.rsa2048.certificateDER).base64EncodedString()
        let ecCertificate = Data(TestPKI.shared.p256.certificateDER).base64EncodedString()
        let start = try #require(signed.range(of: "<X509Certificate>"))
        let end = try #require(signed.range(of: "</X509Data>"))
        let swapped = signed.replacingCharacters(
            in: start.lowerBound..<end.lowerBound, with: "<X509Certificate>\(ecCertificate)</X509Certificate>"
        )
        #expect(!swapped.contains(String(rsaCertificate.prefix(40))))
        #expect(verifyError(swapped) == .certificateKeyMismatch)
    }

    @Test("xml_malformed and xml_refused: broken input and a DOCTYPE with an external entity")
    func xmlErrors() throws {
        let signed = try signedText()
        #expect(verifyError(String(signed.dropLast(30))) == .xmlMalformed)
        let xxe = try replacingFirst(
            "<edXML xmlns=", with: "<!DOCTYPE edXML [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<edXML xmlns=", in: signed
        )
        #expect(verifyError(xxe) == .xmlRefused)
        let error = signatureError { () throws(XMLSignatureError) in
            try XMLSigner.signEdXML(data(xxe), key: TestPKI.shared.rsa2048.key, certificateChainDER: [TestPKI.shared.rsa2048.certificateDER])
        }
        #expect(error?.code == .xmlRefused)
    }

    @Test("signing_failed carries the key's own SigningError")
    func signingFailed() throws {
        let pin = SigningError(.pinIncorrect, vi: "Sai mã PIN.", en: "CKR_PIN_INCORRECT")
        let input = try fixture("status_inbox_01.edxml")
        for identity in [TestPKI.shared.rsa2048, TestPKI.shared.p256] {
            let key = FailingKey(error: pin, scheme: identity.key.scheme, publicKeyDER: identity.key.publicKeyDER)
            let error = signatureError { () throws(XMLSignatureError) in
                try XMLSigner.signEdXML(input, key: key, certificateChainDER: [identity.certificateDER])
            }
            #expect(error?.code == .signingFailed)
            #expect(error?.signingError == pin)
            #expect(error?.signingError?.en == "CKR_PIN_INCORRECT")
        }
    }
}
