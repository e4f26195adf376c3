import Foundation
internal import CLibXML2
internal import CXMLSecShim
import PKI
import XMLKit

/// What a valid signature says about itself. The signer certificate is NOT validated here (no
/// chain, validity period or revocation check): the caller passes it to the PKI module to decide
/// whether to trust it.
public struct XMLSignatureInfo: Sendable {
    /// DER of the certificate whose public key verified the signature.
    public let signerCertificateDER: [UInt8]
    /// Every certificate of KeyInfo/X509Data, signer first, then the others in document order.
    public let certificatesDER: [[UInt8]]
    /// The SignatureMethod.
    public let signatureScheme: SignatureScheme
    /// The Reference's DigestMethod URI (SHA-256, or SHA-1 with a warning).
    public let digestAlgorithmURI: String
    /// Accepted weaknesses, such as `signature_sha1`.
    public let warnings: [XMLSignatureWarning]
}

/// Verifies enveloped XML signatures of edXML messages with xmlsec1, after checking the signature's
/// shape so that only a signature over the whole document is ever accepted (no signature wrapping).
/// Safe to call from several threads at once.
public enum XMLSignatureVerifier {
    /// Verifies the one enveloped signature of an edXML message, which must be a child of
    /// `edXMLHeader`. In order, refuses: input XMLKit or libxml2 refuses (`xml_refused`,
    /// `xml_malformed`; DOCTYPE/XXE never reach xmlsec1); no Signature (`signature_missing`); more than
    /// one anywhere (`signature_multiple`); a Signature elsewhere (`signature_misplaced`); a
    /// SignatureMethod, DigestMethod or SignedInfo canonicalisation outside the accepted set
    /// (`signature_algorithm_unsupported`); anything but exactly one Reference with URI="" and the
    /// transforms enveloped-signature then exclusive C14N (`signature_reference_invalid`); no
    /// X509Certificate in KeyInfo (`certificate_missing`) or an unreadable one
    /// (`certificate_invalid`); a certificate key that cannot verify the SignatureMethod
    /// (`certificate_key_mismatch`); a digest or signature value that does not match
    /// (`signature_invalid`). Returns the signer's certificate for chain validation by the caller:
    /// xmlsec1 does not validate it.
    public static func verifyEdXML(_ document: Data, limits: XMLLimits = .default) throws(XMLSignatureError) -> XMLSignatureInfo {
        let bytes = [UInt8](document)
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(XMLSignatureError) -> XMLSignatureInfo in
                try verify(buffer, limits: limits)
            }
        }
        return try result.get()
    }

    private static func verify(_ bytes: UnsafeRawBufferPointer, limits: XMLLimits) throws(XMLSignatureError) -> XMLSignatureInfo {
        guard govx_init() == 0 else { throw .make(.internalError, "xmlsec1 could not be initialised") }
        let parsed = try ParsedDocument.parse(bytes, limits: limits)

        let signatures = parsed.elements(named: "Signature", namespace: DSig.namespace)
        guard let signature = signatures.first else { throw .make(.signatureMissing) }
        guard signatures.count == 1 else { throw .make(.signatureMultiple, "\(signatures.count) Signature elements") }
        guard let parent = signature.pointee.parent, Node.isElement(parent, "edXMLHeader", DSig.edXMLNamespace) else {
            throw .make(.signatureMisplaced)
        }

        var warnings: [XMLSignatureWarning] = []
        let shape = try checkSignedInfo(signature, warnings: &warnings)
        let certificates = try keyInfoCertificates(signature)

        var signerPointer: UnsafeMutablePointer<UInt8>?
        var signerLength: Int32 = 0
        var message = [CChar](repeating: 0, count: 1024)
        let status = govx_verify(parsed.doc, signature, &signerPointer, &signerLength, &message, message.count)
        defer { govx_free(signerPointer) }
        let detail = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch Int(status) {
        case GOVX_OK:
            break
        case GOVX_ERR_KEY_NOT_FOUND:
            throw .make(.certificateKeyMismatch, "the signer certificate's key cannot verify \(shape.methodURI) (\(detail))")
        default:
            // A SignatureValue that is not even decodable is as invalid as one that does not match.
            throw .make(.signatureInvalid, detail)
        }
        guard let signerPointer, signerLength > 0 else { throw .make(.internalError, "no signer certificate returned") }
        let signer = Array(UnsafeBufferPointer(start: signerPointer, count: Int(signerLength)))
        var others = certificates
        if let index = others.firstIndex(of: signer) {
            others.remove(at: index)
        }
        return XMLSignatureInfo(
            signerCertificateDER: signer, certificatesDER: [signer] + others, signatureScheme: shape.scheme,
            digestAlgorithmURI: shape.digestURI, warnings: warnings
        )
    }

    private struct Shape {
        let scheme: SignatureScheme
        let methodURI: String
        let digestURI: String
    }

    /// The signature-wrapping defence: SignedInfo must sign the whole document and nothing else,
    /// with accepted algorithms only. Checked on the tree before xmlsec1 runs (which is also
    /// restricted to empty Reference URIs and these transforms).
    private static func checkSignedInfo(_ signature: xmlNodePtr, warnings: inout [XMLSignatureWarning]) throws(XMLSignatureError) -> Shape {
        let signedInfos = Node.children(signature, "SignedInfo")
        guard signedInfos.count == 1, let signedInfo = signedInfos.first,
            Node.elementChildren(signature).first == signedInfo
        else {
            throw .make(.referenceInvalid, "Signature must start with exactly one SignedInfo")
        }
        let c14n = Node.children(signedInfo, "CanonicalizationMethod").first.flatMap { Node.attribute($0, "Algorithm") }
        guard let c14n, DSig.signedInfoC14N.contains(c14n) else {
            throw .make(.algorithmUnsupported, "CanonicalizationMethod \(c14n ?? "(none)")")
        }
        let method = Node.children(signedInfo, "SignatureMethod").first.flatMap { Node.attribute($0, "Algorithm") }
        let scheme: SignatureScheme
        switch method {
        case DSig.rsaSHA256: scheme = .rsaPKCS1SHA256
        case DSig.ecdsaSHA256: scheme = .ecdsaP256SHA256
        case DSig.rsaSHA1:
            scheme = .rsaPKCS1SHA1
            warnings.append(.signatureSHA1)
        default:
            throw .make(.algorithmUnsupported, "SignatureMethod \(method ?? "(none)")")
        }
        // SignatureMethod with HMACOutputLength or other content would change what is verified.
        if let methodNode = Node.children(signedInfo, "SignatureMethod").first, !Node.elementChildren(methodNode).isEmpty {
            throw .make(.algorithmUnsupported, "SignatureMethod with parameters")
        }

        let references = Node.children(signedInfo, "Reference")
        guard references.count == 1, let reference = references.first else {
            throw .make(.referenceInvalid, "\(references.count) Reference elements, exactly one is accepted")
        }
        guard let uri = Node.attribute(reference, "URI"), uri.isEmpty else {
            throw .make(.referenceInvalid, "Reference URI must be \"\" (the whole document)")
        }
        let transformLists = Node.children(reference, "Transforms")
        guard transformLists.count == 1, let transformList = transformLists.first else {
            throw .make(.referenceInvalid, "Reference must have one Transforms element")
        }
        let transforms = Node.elementChildren(transformList)
        let algorithms = transforms.map { node in
            Node.isElement(node, "Transform", DSig.namespace) ? Node.attribute(node, "Algorithm") ?? "" : ""
        }
        guard algorithms.count == 2, algorithms[0] == DSig.enveloped,
            algorithms[1] == DSig.excC14N || algorithms[1] == DSig.excC14NWithComments
        else {
            throw .make(.referenceInvalid, "transforms must be enveloped-signature then exclusive C14N, found \(algorithms)")
        }
        // Only exclusive C14N may carry content (InclusiveNamespaces); an XPath or other parameter
        // under the enveloped transform would change what is signed.
        guard Node.elementChildren(transforms[0]).isEmpty,
            Node.elementChildren(transforms[1]).allSatisfy({ Node.isElement($0, "InclusiveNamespaces", DSig.excC14N) })
        else {
            throw .make(.referenceInvalid, "unexpected transform parameters")
        }
        let digest = Node.children(reference, "DigestMethod").first.flatMap { Node.attribute($0, "Algorithm") }
        switch digest {
        case DSig.sha256:
            break
        case DSig.sha1:
            warnings.append(.digestSHA1)
        default:
            throw .make(.algorithmUnsupported, "DigestMethod \(digest ?? "(none)")")
        }
        return Shape(scheme: scheme, methodURI: method ?? "", digestURI: digest ?? "")
    }

    /// The DER of every KeyInfo/X509Data/X509Certificate, in document order.
    private static func keyInfoCertificates(_ signature: xmlNodePtr) throws(XMLSignatureError) -> [[UInt8]] {
        var certificates: [[UInt8]] = []
        for keyInfo in Node.children(signature, "KeyInfo") {
            for x509Data in Node.children(keyInfo, "X509Data") {
                for node in Node.children(x509Data, "X509Certificate") {
                    guard let der = Data(base64Encoded: Node.text(node), options: .ignoreUnknownCharacters), !der.isEmpty else {
                        throw .make(.certificateInvalid, "X509Certificate is not base64")
                    }
                    let bytes = [UInt8](der)
                    let type = bytes.withUnsafeBufferPointer { govx_certificate_key_type($0.baseAddress, $0.count) }
                    guard type != 0 else { throw .make(.certificateInvalid, "X509Certificate is not a DER certificate") }
                    certificates.append(bytes)
                }
            }
        }
        guard !certificates.isEmpty else { throw .make(.certificateMissing) }
        return certificates
    }
}
