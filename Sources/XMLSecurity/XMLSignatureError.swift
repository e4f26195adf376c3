import PKI

/// Why an XML signature could not be made or was not accepted. The code is stable (callers and
/// tests branch on it); the messages are for people.
public struct XMLSignatureError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Sendable, CaseIterable {
        /// The document has no XML-DSig `Signature` element.
        case signatureMissing = "signature_missing"
        /// The document has two or more `Signature` elements (anywhere), which an edXML message never
        /// has; refused rather than guessing which one counts.
        case signatureMultiple = "signature_multiple"
        /// Signing only: the document already carries a `Signature` (it is signed once, by its sender).
        case signaturePresent = "signature_present"
        /// The `Signature` is not a child of `edXMLHeader` (verifying), or the element to sign into is
        /// missing, duplicated or empty (signing).
        case signatureMisplaced = "signature_misplaced"
        /// Signature wrapping defence: not exactly one `Reference`, its URI is not `""` (the whole
        /// document), or its transforms are not exactly enveloped-signature then exclusive C14N.
        case referenceInvalid = "signature_reference_invalid"
        /// A digest or the signature value does not match: the signed content was changed.
        case signatureInvalid = "signature_invalid"
        /// A SignatureMethod, DigestMethod or CanonicalizationMethod outside rsa-sha256, ecdsa-sha256,
        /// rsa-sha1 (warning), sha256, sha1 (warning), C14N 1.0/1.1 and exclusive C14N.
        case algorithmUnsupported = "signature_algorithm_unsupported"
        /// `KeyInfo` has no `X509Data/X509Certificate` (verifying), or no signer certificate was
        /// given (signing).
        case certificateMissing = "certificate_missing"
        /// A certificate in `KeyInfo` (or given for signing) is not a readable DER X.509 certificate.
        case certificateInvalid = "certificate_invalid"
        /// The certificate's key does not fit: signing with a key that is not the signer
        /// certificate's, or verifying a SignatureMethod that the certificate's key type cannot
        /// verify (for example ecdsa-sha256 with an RSA certificate).
        case certificateKeyMismatch = "certificate_key_mismatch"
        /// The input is not well-formed XML (per XMLKit's reader or libxml2).
        case xmlMalformed = "xml_malformed"
        /// The input is refused before parsing: DOCTYPE (no DTD, no entities), non-UTF-8, or over the
        /// size, depth, element or attribute limits.
        case xmlRefused = "xml_refused"
        /// The signing key failed (wrong PIN, token removed...); `signingError` says why.
        case signingFailed = "signing_failed"
        /// xmlsec1 or OpenSSL failed for a reason not caused by the input (initialisation, memory).
        case internalError = "xmlsec_internal_error"
    }

    /// The stable code; the only part compared by `==`.
    public let code: Code
    /// Vietnamese message.
    public let vi: String
    /// English message, with technical detail.
    public let en: String
    /// For `signing_failed`: the signing key's own error, unchanged (for example `pkcs11_pin_incorrect`).
    public let signingError: SigningError?

    /// An error; `signingError` is set only for `signing_failed`.
    public init(_ code: Code, vi: String, en: String, signingError: SigningError? = nil) {
        self.code = code
        self.vi = vi
        self.en = en
        self.signingError = signingError
    }

    /// `code: en`.
    public var description: String { "\(code.rawValue): \(en)" }

    /// Errors compare equal when their codes are equal.
    public static func == (lhs: XMLSignatureError, rhs: XMLSignatureError) -> Bool { lhs.code == rhs.code }
}

extension XMLSignatureError {
    /// The standard message pair of `code`, with `detail` appended to the English one.
    static func make(_ code: Code, _ detail: String? = nil) -> XMLSignatureError {
        let (vi, en): (String, String) =
            switch code {
            case .signatureMissing: ("Văn bản không có chữ ký số XML.", "The document has no XML signature.")
            case .signatureMultiple: ("Văn bản có nhiều hơn một chữ ký số XML.", "The document has more than one XML signature.")
            case .signaturePresent: ("Văn bản đã được ký số, không ký lại.", "The document is already signed; it is not signed again.")
            case .signatureMisplaced:
                ("Chữ ký số không nằm đúng vị trí (phần tử con của edXMLHeader).", "The signature is not where it belongs (a child of edXMLHeader).")
            case .referenceInvalid:
                ("Chữ ký số không ký toàn bộ văn bản theo cách được chấp nhận.", "The signature does not sign the whole document in the accepted way.")
            case .signatureInvalid:
                ("Chữ ký số không hợp lệ: nội dung văn bản đã bị thay đổi sau khi ký.", "The signature does not match: the content was changed after signing.")
            case .algorithmUnsupported: ("Thuật toán chữ ký không được hỗ trợ.", "The signature algorithm is not supported.")
            case .certificateMissing: ("Chữ ký số không kèm chứng thư số của người ký.", "The signature carries no signer certificate.")
            case .certificateInvalid: ("Chứng thư số kèm theo chữ ký không đọc được.", "A certificate of the signature cannot be read.")
            case .certificateKeyMismatch: ("Khóa không khớp với chứng thư số của người ký.", "The key does not match the signer certificate.")
            case .xmlMalformed: ("Văn bản XML không đúng cú pháp.", "The XML document is not well-formed.")
            case .xmlRefused: ("Văn bản XML bị từ chối (DOCTYPE, mã hóa hoặc kích thước không được chấp nhận).", "The XML document is refused (DOCTYPE, encoding or size).")
            case .signingFailed: ("Không ký được văn bản.", "The document could not be signed.")
            case .internalError: ("Lỗi nội bộ của thư viện chữ ký số.", "Internal error of the XML signature library.")
            }
        return XMLSignatureError(code, vi: vi, en: detail.map { "\(en) \($0)" } ?? en)
    }
}

/// Something accepted but worth telling the reader of a verification result.
public struct XMLSignatureWarning: Sendable, Equatable, CustomStringConvertible {
    /// What was noticed.
    public enum Code: String, Sendable {
        /// The signature uses RSA with SHA-1 (rsa-sha1), accepted from older senders only.
        case signatureSHA1 = "signature_sha1"
        /// The Reference digest is SHA-1, accepted from older senders only.
        case digestSHA1 = "digest_sha1"
    }

    /// The stable code.
    public let code: Code
    /// Vietnamese message.
    public let vi: String
    /// English message.
    public let en: String

    /// A warning.
    public init(_ code: Code, vi: String, en: String) {
        self.code = code
        self.vi = vi
        self.en = en
    }

    /// `code: en`.
    public var description: String { "\(code.rawValue): \(en)" }

    static let signatureSHA1 = XMLSignatureWarning(
        .signatureSHA1,
        vi: "Chữ ký dùng thuật toán RSA-SHA1 đã lỗi thời.",
        en: "The signature uses the obsolete RSA-SHA1 algorithm."
    )
    static let digestSHA1 = XMLSignatureWarning(
        .digestSHA1,
        vi: "Chữ ký dùng hàm băm SHA-1 đã lỗi thời.",
        en: "The signature uses the obsolete SHA-1 digest."
    )
}
