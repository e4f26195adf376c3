import Foundation

/// The signature schemes GovOffice signs with. Verification also meets `rsaPKCS1SHA1` from older
/// senders (accepted with a warning); nothing signs with it.
public enum SignatureScheme: String, Sendable, Codable, CaseIterable {
    /// RSA PKCS#1 v1.5 with SHA-256 (RSA 2048 or 3072): the default.
    case rsaPKCS1SHA256 = "rsa-sha256"
    /// ECDSA on P-256 with SHA-256.
    case ecdsaP256SHA256 = "ecdsa-p256-sha256"
    /// RSA PKCS#1 v1.5 with SHA-1: verification of legacy signatures only.
    case rsaPKCS1SHA1 = "rsa-sha1"
}

/// Why a signing key could not sign. The code is stable; the messages are for people.
public struct SigningError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Sendable {
        /// The key file or key object could not be read or is of an unsupported kind.
        case keyUnreadable = "key_unreadable"
        /// The key does not match the certificate it is used with.
        case keyCertificateMismatch = "key_certificate_mismatch"
        /// The PKCS#11 module could not be loaded or initialised.
        case moduleUnavailable = "pkcs11_module_unavailable"
        /// No token with the requested label is present.
        case tokenNotFound = "pkcs11_token_not_found"
        /// The PIN was refused (one attempt is made; the token counts the failure).
        case pinIncorrect = "pkcs11_pin_incorrect"
        /// The token refuses every PIN until an officer unblocks it.
        case pinLocked = "pkcs11_pin_locked"
        /// No PIN was supplied (environment variable or file).
        case pinMissing = "pkcs11_pin_missing"
        /// No private key (or certificate) with the requested label or id on the token.
        case objectNotFound = "pkcs11_object_not_found"
        /// The token or the crypto library failed while signing.
        case signingFailed = "signing_failed"
        /// The scheme is not supported by this key.
        case unsupportedScheme = "scheme_unsupported"
    }

    /// The stable code.
    public let code: Code
    /// Vietnamese message.
    public let vi: String
    /// English message (with technical detail such as a CKR_ value).
    public let en: String

    /// An error.
    public init(_ code: Code, vi: String, en: String) {
        self.code = code
        self.vi = vi
        self.en = en
    }

    public var description: String { "\(code.rawValue): \(en)" }

    public static func == (lhs: SigningError, rhs: SigningError) -> Bool { lhs.code == rhs.code }
}

/// A private key that signs, wherever it lives: a software key from a PEM file or a key on a
/// PKCS#11 token (smart card, HSM). XML signatures and CMS both sign through this protocol only,
/// so a token works everywhere a software key does.
public protocol SigningKey: Sendable {
    /// How this key signs.
    var scheme: SignatureScheme { get }
    /// The public key as a DER SubjectPublicKeyInfo (to match it with a certificate).
    var publicKeyDER: [UInt8] { get }
    /// Signs a SHA-256 digest (32 bytes) computed by the caller. RSA returns the PKCS#1 v1.5
    /// signature (DigestInfo padding done by the key); ECDSA returns the raw `r ‖ s` (64 bytes for
    /// P-256), the form XML-DSig uses.
    func sign(digest: [UInt8]) throws(SigningError) -> [UInt8]
}
