import Crypto
import Foundation
import SwiftASN1
import X509

/// Lets any `SigningKey` (software key, PKCS#11 token key) sign through swift-certificates:
/// certificate issuance and CMS take a `Certificate.PrivateKey`, and
/// `Certificate.PrivateKey(CertificateSigningKey(key))` is one. The bridge hashes with SHA-256 and
/// calls `sign(digest:)`; ECDSA's raw `r ‖ s` is turned into the DER form X.509 and CMS carry.
/// The private key itself is never exported: serialising the bridge throws.
public struct CertificateSigningKey: CustomPrivateKey {
    /// The key that signs.
    public let key: any SigningKey
    /// The public key of `key`, read from its SubjectPublicKeyInfo.
    public let publicKey: Certificate.PublicKey

    /// Wraps a signing key. Throws `key_unreadable` when its public key cannot be read or its
    /// scheme cannot sign (SHA-1).
    public init(_ key: any SigningKey) throws(SigningError) {
        guard key.scheme != .rsaPKCS1SHA1 else {
            throw SigningError(.unsupportedScheme, vi: "Không ký bằng SHA-1", en: "SHA-1 keys do not sign")
        }
        do {
            publicKey = try Certificate.PublicKey(derEncoded: key.publicKeyDER)
        } catch {
            throw SigningError(.keyUnreadable, vi: "Không đọc được khóa công khai",
                               en: "Unreadable SubjectPublicKeyInfo: \(error)")
        }
        self.key = key
    }

    /// SHA-256 with RSA or ECDSA, following the key's scheme.
    public var defaultSignatureAlgorithm: Certificate.SignatureAlgorithm {
        key.scheme == .ecdsaP256SHA256 ? .ecdsaWithSHA256 : .sha256WithRSAEncryption
    }

    /// Only the default algorithm: a `SigningKey` signs SHA-256 digests.
    public var supportedSignatureAlgorithms: [Certificate.SignatureAlgorithm] { [defaultSignatureAlgorithm] }

    /// Signs `bytes` (hashing them with SHA-256). Throws `SigningError` from the key, or
    /// `scheme_unsupported` for any algorithm but the default.
    public func signSynchronously(
        bytes: some DataProtocol,
        signatureAlgorithm: Certificate.SignatureAlgorithm
    ) throws -> Certificate.Signature {
        guard signatureAlgorithm == defaultSignatureAlgorithm else {
            throw SigningError(.unsupportedScheme, vi: "Thuật toán ký không được hỗ trợ",
                               en: "\(signatureAlgorithm) is not supported by a \(key.scheme.rawValue) key")
        }
        let digest = Array(SHA256.hash(data: bytes))
        let raw = try key.sign(digest: digest)
        let encoded: [UInt8]
        if key.scheme == .ecdsaP256SHA256 {
            guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: raw) else {
                throw SigningError(.signingFailed, vi: "Chữ ký ECDSA không hợp lệ",
                                   en: "The key returned \(raw.count) bytes, not a raw r‖s P-256 signature")
            }
            encoded = Array(signature.derRepresentation)
        } else {
            encoded = raw
        }
        return try Certificate.Signature(signatureAlgorithm: signatureAlgorithm,
                                         signatureBytes: ASN1BitString(bytes: encoded[...]))
    }

    /// The PEM label that would be used; serialisation itself is refused.
    public static let defaultPEMDiscriminator = "PRIVATE KEY"

    /// Always throws: a bridged key (possibly on a token) is never exported.
    public func serialize(into coder: inout DER.Serializer) throws {
        throw SigningError(.keyUnreadable, vi: "Không xuất được khóa bí mật", en: "A bridged signing key cannot be exported")
    }

    /// Always throws: a bridged key (possibly on a token) is never exported.
    public func serializeAsPEM(discriminator: String) throws -> PEMDocument {
        throw SigningError(.keyUnreadable, vi: "Không xuất được khóa bí mật", en: "A bridged signing key cannot be exported")
    }

    /// Keys are equal when their public keys are.
    public static func == (lhs: CertificateSigningKey, rhs: CertificateSigningKey) -> Bool {
        lhs.publicKey == rhs.publicKey
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(publicKey) }
}

extension SigningKey {
    /// This key as a swift-certificates private key (through `CertificateSigningKey`).
    public func certificatePrivateKey() throws(SigningError) -> Certificate.PrivateKey {
        Certificate.PrivateKey(try CertificateSigningKey(self))
    }
}
