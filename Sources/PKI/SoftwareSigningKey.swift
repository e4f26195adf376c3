import Crypto
import Foundation
import SwiftASN1
import _CryptoExtras

/// A private key held in memory, read from a PEM file: RSA (2048 bits or more, signing with PKCS#1
/// v1.5) or ECDSA P-256. Other curves, smaller RSA keys and encrypted PEM files are refused with
/// `key_unreadable`. The value never prints its key material.
public struct SoftwareSigningKey: SigningKey, CustomStringConvertible {
    enum Backing: Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        // swift-crypto 3.12's P256 private key is not Sendable; its raw scalar is, and rebuilding
        // the key per signature costs microseconds.
        case p256(raw: Data)
    }

    let backing: Backing

    /// How this key signs: `rsaPKCS1SHA256` for RSA, `ecdsaP256SHA256` for P-256.
    public let scheme: SignatureScheme
    /// The public key as a DER SubjectPublicKeyInfo.
    public let publicKeyDER: [UInt8]

    init(_ backing: Backing) {
        self.backing = backing
        switch backing {
        case .rsa(let key):
            scheme = .rsaPKCS1SHA256
            publicKeyDER = Array(key.publicKey.derRepresentation)
        case .p256(let raw):
            scheme = .ecdsaP256SHA256
            publicKeyDER = (try? P256.Signing.PrivateKey(rawRepresentation: raw)).map { Array($0.publicKey.derRepresentation) } ?? []
        }
    }

    /// Reads a PEM private key: PKCS#1 (`RSA PRIVATE KEY`), PKCS#8 (`PRIVATE KEY`, RSA or P-256) or
    /// SEC1 (`EC PRIVATE KEY`, P-256). The first private-key block of the text is used, so a PEM
    /// file that also holds certificates is accepted.
    public init(pem: String) throws(SigningError) {
        let blocks: [PEMDocument]
        do {
            blocks = try PEMDocument.parseMultiple(pemString: pem)
        } catch {
            throw SigningError(.keyUnreadable, vi: "Tệp khóa không đúng định dạng PEM",
                               en: "Not a PEM document: \(error)")
        }
        guard let block = blocks.first(where: { $0.discriminator.hasSuffix("PRIVATE KEY") }) else {
            throw SigningError(.keyUnreadable, vi: "Không tìm thấy khóa bí mật trong tệp PEM",
                               en: "No private key block in the PEM text")
        }
        try self.init(der: block.derBytes, label: block.discriminator)
    }

    /// Reads a DER private key; `label` is the PEM label it came with (`RSA PRIVATE KEY`,
    /// `PRIVATE KEY` or `EC PRIVATE KEY`), which tells the encoding.
    public init(der: [UInt8], label: String) throws(SigningError) {
        switch label {
        case "RSA PRIVATE KEY":
            self.init(.rsa(try Self.rsa(der)))
        case "EC PRIVATE KEY":
            self.init(.p256(raw: try Self.p256(der).rawRepresentation))
        case "PRIVATE KEY":
            // PKCS#8 names its algorithm inside; try the two we support, RSA first (the default).
            if let key = try? Self.rsa(der) {
                self.init(.rsa(key))
            } else if (try? _RSA.Signing.PrivateKey(unsafeDERRepresentation: der)) != nil {
                // Readable as RSA but refused: report the size problem, not "unknown key".
                self.init(.rsa(try Self.rsa(der)))
            } else {
                self.init(.p256(raw: try Self.p256(der).rawRepresentation))
            }
        case "ENCRYPTED PRIVATE KEY":
            throw SigningError(.keyUnreadable, vi: "Khóa bí mật được mã hóa bằng mật khẩu không được hỗ trợ",
                               en: "Encrypted PKCS#8 keys are not supported; decrypt the key first")
        default:
            throw SigningError(.keyUnreadable, vi: "Loại khóa không được hỗ trợ",
                               en: "Unsupported PEM label \(label)")
        }
    }

    private static func rsa(_ der: [UInt8]) throws(SigningError) -> _RSA.Signing.PrivateKey {
        guard let weak = try? _RSA.Signing.PrivateKey(unsafeDERRepresentation: der) else {
            throw SigningError(.keyUnreadable, vi: "Không đọc được khóa RSA", en: "Unreadable RSA private key")
        }
        guard weak.keySizeInBits >= 2048 else {
            throw SigningError(.keyUnreadable, vi: "Khóa RSA quá ngắn (tối thiểu 2048 bit)",
                               en: "RSA key of \(weak.keySizeInBits) bits refused; 2048 bits or more are required")
        }
        return weak
    }

    private static func p256(_ der: [UInt8]) throws(SigningError) -> P256.Signing.PrivateKey {
        do {
            return try P256.Signing.PrivateKey(derRepresentation: der)
        } catch {
            throw SigningError(.keyUnreadable, vi: "Chỉ hỗ trợ khóa RSA và ECDSA P-256",
                               en: "Not an RSA or ECDSA P-256 private key (other curves are refused)")
        }
    }

    /// The key sizes and curves `generate(scheme:)` can create.
    public enum Kind: Sendable, Equatable {
        /// RSA with the given modulus size (2048 or 3072).
        case rsa(bits: Int)
        /// ECDSA on P-256.
        case p256
    }

    /// Creates a fresh key (for tests and the demo PKI). RSA 2048 takes tens to hundreds of
    /// milliseconds; P-256 is immediate.
    public static func generate(_ kind: Kind = .rsa(bits: 2048)) throws(SigningError) -> SoftwareSigningKey {
        switch kind {
        case .p256:
            return SoftwareSigningKey(.p256(raw: P256.Signing.PrivateKey().rawRepresentation))
        case .rsa(let bits):
            let size: _RSA.Signing.KeySize
            switch bits {
            case 2048: size = .bits2048
            case 3072: size = .bits3072
            case 4096: size = .bits4096
            default:
                throw SigningError(.unsupportedScheme, vi: "Kích thước khóa RSA không được hỗ trợ",
                                   en: "RSA key size \(bits) is not supported (2048, 3072, 4096)")
            }
            do {
                return SoftwareSigningKey(.rsa(try _RSA.Signing.PrivateKey(keySize: size)))
            } catch {
                throw SigningError(.signingFailed, vi: "Không tạo được khóa", en: "Key generation failed: \(error)")
            }
        }
    }

    /// Creates a fresh key for a scheme: RSA 2048 for `rsaPKCS1SHA256`, P-256 for
    /// `ecdsaP256SHA256`; `rsaPKCS1SHA1` is refused (nothing signs with SHA-1).
    public static func generate(scheme: SignatureScheme) throws(SigningError) -> SoftwareSigningKey {
        switch scheme {
        case .rsaPKCS1SHA256: return try generate(.rsa(bits: 2048))
        case .ecdsaP256SHA256: return try generate(.p256)
        case .rsaPKCS1SHA1:
            throw SigningError(.unsupportedScheme, vi: "Không ký bằng SHA-1", en: "Refusing to create a SHA-1 signing key")
        }
    }

    /// The private key as PEM: PKCS#1 `RSA PRIVATE KEY` for RSA, PKCS#8 `PRIVATE KEY` for P-256.
    /// Whoever writes it to disk is responsible for the file's permissions.
    public var pemRepresentation: String {
        switch backing {
        case .rsa(let key): return key.pemRepresentation
        case .p256(let raw): return (try? P256.Signing.PrivateKey(rawRepresentation: raw))?.pemRepresentation ?? ""
        }
    }

    /// The RSA modulus size in bits, or 256 for P-256.
    public var keySizeInBits: Int {
        switch backing {
        case .rsa(let key): return key.keySizeInBits
        case .p256: return 256
        }
    }

    /// Signs a SHA-256 digest (exactly 32 bytes): RSA returns the PKCS#1 v1.5 signature, P-256
    /// returns raw `r ‖ s` (64 bytes).
    public func sign(digest: [UInt8]) throws(SigningError) -> [UInt8] {
        let sha256 = try Self.sha256Digest(digest)
        do {
            switch backing {
            case .rsa(let key):
                // `insecurePKCS1v1_5` is swift-crypto's name for PKCS#1 v1.5, which XML-DSig
                // rsa-sha256 and CMS sha256WithRSAEncryption require.
                return Array(try key.signature(for: sha256, padding: .insecurePKCS1v1_5).rawRepresentation)
            case .p256(let raw):
                let key = try P256.Signing.PrivateKey(rawRepresentation: raw)
                return Array(try key.signature(for: sha256).rawRepresentation)
            }
        } catch {
            throw SigningError(.signingFailed, vi: "Ký số thất bại", en: "Signing failed: \(error)")
        }
    }

    /// swift-crypto signs only its own digest type and offers no public initialiser from bytes, so
    /// the 32 bytes are copied into a `SHA256Digest` value (a plain 32-byte struct) and the result
    /// is checked byte for byte, so a layout change in swift-crypto fails closed, not silently.
    static func sha256Digest(_ digest: [UInt8]) throws(SigningError) -> SHA256Digest {
        guard digest.count == SHA256.byteCount else {
            throw SigningError(.signingFailed, vi: "Giá trị băm không hợp lệ",
                               en: "A SHA-256 digest has 32 bytes, got \(digest.count)")
        }
        guard MemoryLayout<SHA256Digest>.size == SHA256.byteCount else {
            throw SigningError(.signingFailed, vi: "Thư viện mật mã không tương thích",
                               en: "Unexpected SHA256Digest layout")
        }
        var value = SHA256.hash(data: [UInt8]())
        withUnsafeMutableBytes(of: &value) { target in
            digest.withUnsafeBytes { source in target.copyMemory(from: source) }
        }
        guard Array(value) == digest else {
            throw SigningError(.signingFailed, vi: "Thư viện mật mã không tương thích",
                               en: "SHA256Digest did not take the digest bytes")
        }
        return value
    }

    public var description: String {
        switch backing {
        case .rsa(let key): return "SoftwareSigningKey(RSA \(key.keySizeInBits))"
        case .p256: return "SoftwareSigningKey(P-256)"
        }
    }
}
