import Foundation

/// Why a certificate, a revocation source or a CMS signature was refused. The code is stable (it is
/// stored, logged and shown to operators); the messages are for people. Two errors are equal when
/// their codes are equal, whatever the detail in the messages.
public struct PKIError: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Sendable, CaseIterable, Codable {
        /// No chain leads from the certificate to a trust anchor (unknown CA, bad chain signature).
        case untrusted = "certificate_untrusted"
        /// A certificate of the chain had expired at the validation time.
        case expired = "certificate_expired"
        /// A certificate of the chain was not yet valid at the validation time.
        case notYetValid = "certificate_not_yet_valid"
        /// The certificate is revoked (CRL, OCSP or the local revoked list).
        case revoked = "certificate_revoked"
        /// The certificate's key usage allows neither digitalSignature nor nonRepudiation.
        case keyUsage = "certificate_key_usage"
        /// The certificate (or a PEM/DER input holding certificates) could not be parsed.
        case malformed = "certificate_malformed"
        /// The OCSP responder could not give a usable answer and revocation checking is hard-fail.
        case ocspUnavailable = "ocsp_unavailable"
        /// A CRL is malformed, badly signed, or not issued by the CA it claims.
        case crlInvalid = "crl_invalid"
        /// A CMS signature is malformed or does not match the data.
        case cmsInvalid = "cms_invalid"
        /// The CMS signature is intact but its signer's certificate did not validate.
        case cmsSignerUntrusted = "cms_signer_untrusted"
    }

    /// The stable code.
    public let code: Code
    /// Vietnamese message.
    public let vi: String
    /// English message (with technical detail).
    public let en: String

    /// An error with explicit messages.
    public init(_ code: Code, vi: String, en: String) {
        self.code = code
        self.vi = vi
        self.en = en
    }

    /// An error with the standard messages of its code and an optional English detail appended.
    public init(_ code: Code, detail: String? = nil) {
        let (vi, en) = PKIError.standardMessages(code)
        self.init(code, vi: vi, en: detail.map { "\(en): \($0)" } ?? en)
    }

    public var description: String { "\(code.rawValue): \(en)" }

    public static func == (lhs: PKIError, rhs: PKIError) -> Bool { lhs.code == rhs.code }

    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// The standard (Vietnamese, English) messages of a code; the table in docs/pki.md repeats them.
    public static func standardMessages(_ code: Code) -> (vi: String, en: String) {
        switch code {
        case .untrusted:
            return ("Chứng thư số không được tin cậy (không dẫn tới CA gốc nào trong kho tin cậy)",
                    "Certificate is not trusted (no chain to a trust anchor)")
        case .expired:
            return ("Chứng thư số đã hết hạn", "Certificate has expired")
        case .notYetValid:
            return ("Chứng thư số chưa đến thời hạn hiệu lực", "Certificate is not yet valid")
        case .revoked:
            return ("Chứng thư số đã bị thu hồi", "Certificate has been revoked")
        case .keyUsage:
            return ("Chứng thư số không được phép dùng để ký số",
                    "Certificate key usage does not allow digital signatures")
        case .malformed:
            return ("Chứng thư số không đúng định dạng", "Certificate is malformed")
        case .ocspUnavailable:
            return ("Không kiểm tra được trạng thái thu hồi qua OCSP",
                    "OCSP revocation status is unavailable")
        case .crlInvalid:
            return ("Danh sách thu hồi (CRL) không hợp lệ", "Certificate revocation list is invalid")
        case .cmsInvalid:
            return ("Chữ ký CMS không hợp lệ", "CMS signature is invalid")
        case .cmsSignerUntrusted:
            return ("Chứng thư số của người ký CMS không hợp lệ hoặc không được tin cậy",
                    "CMS signer certificate is not valid or not trusted")
        }
    }
}
