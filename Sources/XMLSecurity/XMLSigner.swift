import Foundation
internal import CXMLSecShim
import PKI

/// Makes enveloped XML signatures (XML-DSig) with any `SigningKey`: a software key or a key on a
/// PKCS#11 token sign the same way, because xmlsec1 is given an OpenSSL key whose private
/// operation calls back into `SigningKey.sign(digest:)`.
///
/// The signature is always: Reference URI="" (the whole document), transforms enveloped-signature
/// then exclusive C14N, SHA-256 digest, exclusive C14N of SignedInfo, rsa-sha256 or ecdsa-sha256
/// after the key's scheme, and KeyInfo/X509Data with one X509Certificate per given certificate
/// (signer first). Safe to call from several threads at once.
public enum XMLSigner {
    /// Signs an edXML message: the enveloped signature is appended as the last child of
    /// `edXMLHeader` (namespace http://www.mic.gov.vn/TBT/QCVN_102_2016). Refuses a document that
    /// already carries a Signature (`signature_present`). Never re-indents or reformats: the bytes
    /// outside the inserted Signature element are the input's bytes, unchanged.
    /// `certificateChainDER[0]` is the signer's certificate (its key must be `key`'s), the rest its
    /// chain, all written into KeyInfo.
    public static func signEdXML(
        _ document: Data, key: some SigningKey, certificateChainDER: [[UInt8]]
    ) throws(XMLSignatureError) -> Data {
        try signEnveloped(
            document, parentLocalName: "edXMLHeader", parentNamespace: DSig.edXMLNamespace, key: key,
            certificateChainDER: certificateChainDER
        )
    }

    /// General form of `signEdXML`: the Signature becomes the last child of the one element named
    /// `parentLocalName` in `parentNamespace` (nil: no namespace). Throws `signature_misplaced` when
    /// there is no such element, more than one, or it is empty (`<x/>`, which could not take a child
    /// without rewriting its tag).
    public static func signEnveloped(
        _ document: Data, parentLocalName: String, parentNamespace: String?, key: some SigningKey,
        certificateChainDER: [[UInt8]]
    ) throws(XMLSignatureError) -> Data {
        let bytes = [UInt8](document)
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(XMLSignatureError) -> Data in
                try sign(buffer, parentLocalName: parentLocalName, parentNamespace: parentNamespace, key: key, chain: certificateChainDER)
            }
        }
        return try result.get()
    }

    private static func sign(
        _ bytes: UnsafeRawBufferPointer, parentLocalName: String, parentNamespace: String?, key: any SigningKey,
        chain: [[UInt8]]
    ) throws(XMLSignatureError) -> Data {
        guard let signer = chain.first, !signer.isEmpty else {
            throw .make(.certificateMissing, "no signer certificate given")
        }
        let scheme: Int32
        switch key.scheme {
        case .rsaPKCS1SHA256: scheme = Int32(GOVX_SCHEME_RSA_SHA256)
        case .ecdsaP256SHA256: scheme = Int32(GOVX_SCHEME_ECDSA_P256_SHA256)
        case .rsaPKCS1SHA1: throw .make(.algorithmUnsupported, "rsa-sha1 is accepted when verifying only, never used to sign")
        }
        guard govx_init() == 0 else { throw .make(.internalError, "xmlsec1 could not be initialised") }

        let parsed = try ParsedDocument.parse(
            bytes, limits: .default, parentLocalName: parentLocalName, parentNamespace: parentNamespace
        )
        if !parsed.elements(named: "Signature", namespace: DSig.namespace).isEmpty {
            throw .make(.signaturePresent)
        }
        guard parsed.parentCount == 1, let parent = parsed.parent else {
            throw .make(.signatureMisplaced, "\(parsed.parentCount) elements named \(parentLocalName), exactly one is needed")
        }
        let insertAt = try endTagStart(bytes, end: parsed.parentEnd, name: parentLocalName)

        let box = SigningBox(key: key)
        var signatureXML: UnsafeMutablePointer<xmlChar>?
        var signatureLength: Int32 = 0
        var message = [CChar](repeating: 0, count: 1024)
        let status = withCertificatePointers(chain) { pointers, lengths in
            key.publicKeyDER.withUnsafeBufferPointer { publicKey in
                govx_sign(
                    parsed.doc, parent, scheme, publicKey.baseAddress, publicKey.count, pointers, lengths, chain.count,
                    signingCallback, Unmanaged.passUnretained(box).toOpaque(), &signatureXML, &signatureLength,
                    &message, message.count
                )
            }
        }
        withExtendedLifetime(box) {}
        defer { govx_free(signatureXML) }
        guard let status else { throw .make(.certificateMissing, "no signer certificate given") }
        let detail = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch Int(status) {
        case GOVX_OK:
            break
        case GOVX_ERR_CALLBACK:
            let underlying = box.error ?? SigningError(
                .signingFailed, vi: "Khóa ký trả về chữ ký không hợp lệ.", en: "The signing key returned a malformed signature."
            )
            throw XMLSignatureError(
                .signingFailed, vi: "Không ký được văn bản: \(underlying.vi)", en: "The document could not be signed: \(underlying.en)",
                signingError: underlying
            )
        case GOVX_ERR_KEY:
            let underlying = SigningError(.keyUnreadable, vi: "Khóa công khai của khóa ký không đọc được.", en: detail)
            throw XMLSignatureError(.signingFailed, vi: "Không ký được văn bản: \(underlying.vi)", en: detail, signingError: underlying)
        case GOVX_ERR_CERTIFICATE:
            throw .make(.certificateInvalid, detail)
        case GOVX_ERR_KEY_MISMATCH:
            throw .make(.certificateKeyMismatch, detail)
        default:
            throw .make(.internalError, detail)
        }
        guard let signatureXML, signatureLength > 0 else { throw .make(.internalError, "empty signature") }

        var output = Data(capacity: bytes.count + Int(signatureLength))
        output.append(contentsOf: bytes[..<insertAt])
        output.append(signatureXML, count: Int(signatureLength))
        output.append(contentsOf: bytes[insertAt...])
        return output
    }

    /// Offset of the `<` of the end tag that finishes just before `end`. libxml2 reported `end` as
    /// the position after the element's closing `>`; an end tag holds no `<`, so the last `<` before
    /// it starts the tag. An empty element (`<x/>`) is refused.
    private static func endTagStart(_ bytes: UnsafeRawBufferPointer, end: Int, name: String) throws(XMLSignatureError) -> Int {
        guard end > 2, end <= bytes.count, bytes[end - 1] == UInt8(ascii: ">") else {
            throw .make(.internalError, "the end of \(name) could not be located")
        }
        var index = end - 2
        while index >= 0, bytes[index] != UInt8(ascii: "<") {
            index -= 1
        }
        guard index >= 0, index + 1 < end else {
            throw .make(.internalError, "the end of \(name) could not be located")
        }
        guard bytes[index + 1] == UInt8(ascii: "/") else {
            throw .make(.signatureMisplaced, "\(name) is empty")
        }
        return index
    }

    /// Calls `body` with C arrays of pointers to and lengths of the certificates' bytes; nil when
    /// there are none.
    private static func withCertificatePointers<R>(
        _ certificates: [[UInt8]], _ body: (UnsafePointer<UnsafePointer<UInt8>?>, UnsafePointer<Int>) -> R
    ) -> R? {
        let storage = certificates.map { der -> UnsafeMutablePointer<UInt8> in
            let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: max(der.count, 1))
            copy.initialize(from: der, count: der.count)
            return copy
        }
        defer { storage.forEach { $0.deallocate() } }
        let pointers: [UnsafePointer<UInt8>?] = storage.map { UnsafePointer($0) }
        let lengths = certificates.map(\.count)
        return pointers.withUnsafeBufferPointer { pointerBuffer in
            lengths.withUnsafeBufferPointer { lengthBuffer in
                guard let pointerBase = pointerBuffer.baseAddress, let lengthBase = lengthBuffer.baseAddress else { return nil }
                return body(pointerBase, lengthBase)
            }
        }
    }
}

/// What the C signing callback reaches through its opaque context: the key, and the key's error
/// when it fails (carried out to the caller unchanged).
private final class SigningBox {
    let key: any SigningKey
    var error: SigningError?

    init(key: any SigningKey) {
        self.key = key
    }
}

/// Called by OpenSSL (inside xmlSecDSigCtxSign, on the calling thread) with the SHA-256 digest of
/// the canonical SignedInfo.
private let signingCallback: govx_sign_callback = { context, digest, digestLength, signature, capacity, length in
    guard let context, let digest, let signature, let length else { return 0 }
    let box = Unmanaged<SigningBox>.fromOpaque(context).takeUnretainedValue()
    let input = Array(UnsafeBufferPointer(start: digest, count: digestLength))
    do throws(SigningError) {
        let output = try box.key.sign(digest: input)
        guard !output.isEmpty, output.count <= capacity else {
            box.error = SigningError(
                .signingFailed, vi: "Khóa ký trả về chữ ký có độ dài không hợp lệ.",
                en: "The signing key returned \(output.count) bytes, at most \(capacity) fit."
            )
            return 0
        }
        output.withUnsafeBufferPointer { source in
            if let base = source.baseAddress {
                signature.update(from: base, count: output.count)
            }
        }
        length.pointee = output.count
        return 1
    } catch {
        box.error = error
        return 0
    }
}
