import Crypto
import Foundation
import SwiftASN1
import X509

/// A throw-away PKI for demonstrations and tests: a root CA named "GovOffice Demo Root CA"
/// (O=GovOffice Demo, so `TrustStore` marks it demo) and certificates for agencies and people.
/// NOT FOR REAL DOCUMENTS: anyone holding the demo root key can issue certificates, and the demo
/// key files are written without protection.
///
/// Speed: an RSA 2048 key takes ~50–200 ms to generate. `sharedPersonKey` (on by default for
/// people) makes all personal certificates of one `DemoPKI` share one key, so seeding a hundred
/// demo users costs one key generation; agency certificates always get their own key. Pass
/// `sharedPersonKey: false` when each person needs a distinct key.
public struct DemoPKI: Sendable {
    /// A certificate and its private key, as objects and as PEM.
    public struct Issued: Sendable {
        /// The certificate.
        public let certificate: Certificate
        /// Its private key.
        public let key: SoftwareSigningKey
        /// The certificate as PEM.
        public var certificatePEM: String { certificate.pemString }
        /// The private key as PEM (unprotected).
        public var keyPEM: String { key.pemRepresentation }
    }

    /// The demo root CA.
    public let root: Issued
    /// The algorithm of new keys.
    public let keyKind: SoftwareSigningKey.Kind
    /// How long issued certificates last.
    public let validity: TimeInterval
    private let personKey: SoftwareSigningKey?

    /// The root's subject organisation: starts with `TrustStore.demoOrganizationPrefix`.
    public static let organization = "GovOffice Demo"
    /// The root's common name.
    public static let rootCommonName = "GovOffice Demo Root CA"

    /// Creates a new demo root (valid 10 years from `now` minus one hour, for clock skew).
    /// `keyKind` is RSA 2048 by default or P-256. Throws `SigningError` if key generation fails.
    public init(keyKind: SoftwareSigningKey.Kind = .rsa(bits: 2048), sharedPersonKey: Bool = true,
                validity: TimeInterval = 2 * 365 * 86400, now: Date = Date()) throws(SigningError) {
        self.keyKind = keyKind
        self.validity = validity
        let rootKey = try SoftwareSigningKey.generate(keyKind)
        let name: DistinguishedName
        do {
            name = try DistinguishedName {
                CountryName("VN")
                OrganizationName(Self.organization)
                CommonName(Self.rootCommonName)
            }
        } catch {
            throw SigningError(.signingFailed, vi: "Không tạo được tên CA", en: "\(error)")
        }
        let publicKey = try CertificateSigningKey(rootKey).publicKey
        let extensions: Certificate.Extensions
        do {
            extensions = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
            }
        } catch {
            throw SigningError(.signingFailed, vi: "Không tạo được phần mở rộng", en: "\(error)")
        }
        let certificate = try Self.issue(subject: name, publicKey: publicKey, issuerName: name, issuerKey: rootKey,
                                         extensions: extensions, notBefore: now.addingTimeInterval(-3600),
                                         notAfter: now.addingTimeInterval(10 * 365 * 86400))
        root = Issued(certificate: certificate, key: rootKey)
        personKey = sharedPersonKey ? try SoftwareSigningKey.generate(keyKind) : nil
    }

    /// Loads an existing demo root from PEM (certificate and key), e.g. saved by a previous run.
    public init(rootCertificatePEM: String, rootKeyPEM: String, keyKind: SoftwareSigningKey.Kind = .rsa(bits: 2048),
                sharedPersonKey: Bool = true, validity: TimeInterval = 2 * 365 * 86400) throws(SigningError) {
        let key = try SoftwareSigningKey(pem: rootKeyPEM)
        guard let certificate = try? CertificateReader.certificates(pem: rootCertificatePEM).first else {
            throw SigningError(.keyUnreadable, vi: "Không đọc được chứng thư CA", en: "Unreadable demo root certificate")
        }
        guard try CertificateSigningKey(key).publicKey == certificate.publicKey else {
            throw SigningError(.keyCertificateMismatch, vi: "Khóa không khớp với chứng thư CA", en: "Root key does not match the certificate")
        }
        root = Issued(certificate: certificate, key: key)
        self.keyKind = keyKind
        self.validity = validity
        personKey = sharedPersonKey ? try SoftwareSigningKey.generate(keyKind) : nil
    }

    /// A trust store holding the demo root, marked demo.
    public var trustStore: TrustStore {
        var store = TrustStore()
        store.add(root.certificate, demo: true, source: "demo")
        return store
    }

    /// Issues an agency certificate: CN = O = agency name, UID = agency code, keyUsage
    /// digitalSignature + nonRepudiation (critical), EKU emailProtection + clientAuth (what
    /// openssl `-purpose any`/smimesign and xmlsec accept). A fresh key every time.
    public func issueAgency(code: String, name: String, now: Date = Date()) throws(SigningError) -> Issued {
        let key = try SoftwareSigningKey.generate(keyKind)
        return try issueLeaf(key: key, now: now) {
            CountryName("VN")
            OrganizationName(name)
            CommonName(name)
            UserID(code)
        }
    }

    /// Issues a personal certificate: CN = full name, UID = username, O = agency name, OU = unit
    /// when given. Uses the shared person key when enabled (see the type's note on speed).
    public func issuePerson(fullName: String, username: String, agencyName: String, unit: String? = nil,
                            now: Date = Date()) throws(SigningError) -> Issued {
        let key: SoftwareSigningKey
        if let personKey { key = personKey } else { key = try SoftwareSigningKey.generate(keyKind) }
        return try issueLeaf(key: key, now: now) {
            CountryName("VN")
            OrganizationName(agencyName)
            if let unit { OrganizationalUnitName(unit) }
            CommonName(fullName)
            UserID(username)
        }
    }

    /// Issues a signing certificate with explicit name, key, validity and key usage (tests use it
    /// for expired and wrong-usage certificates). `ocspURI` adds an AIA OCSP entry.
    public func issue(subject: DistinguishedName, key: some SigningKey, notBefore: Date, notAfter: Date,
                      keyUsage: KeyUsage = KeyUsage(digitalSignature: true, nonRepudiation: true),
                      ocspURI: String? = nil, serial: Certificate.SerialNumber = Certificate.SerialNumber()) throws(SigningError) -> Certificate {
        let publicKey = try CertificateSigningKey(key).publicKey
        let extensions: Certificate.Extensions
        do {
            extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(keyUsage)
                try ExtendedKeyUsage([.emailProtection, .clientAuth])
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: try root.certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
                if let ocspURI {
                    AuthorityInformationAccess([.init(method: .ocspServer, location: .uniformResourceIdentifier(ocspURI))])
                }
            }
        } catch {
            throw SigningError(.signingFailed, vi: "Không tạo được phần mở rộng", en: "\(error)")
        }
        return try Self.issue(subject: subject, publicKey: publicKey, issuerName: root.certificate.subject,
                              issuerKey: root.key, extensions: extensions, notBefore: notBefore, notAfter: notAfter, serial: serial)
    }

    private func issueLeaf(key: SoftwareSigningKey, now: Date,
                           @DistinguishedNameBuilder name: () throws -> Result<DistinguishedName, any Error>) throws(SigningError) -> Issued {
        let subject: DistinguishedName
        do {
            subject = try DistinguishedName(builder: name)
        } catch {
            throw SigningError(.signingFailed, vi: "Tên chứng thư không hợp lệ", en: "\(error)")
        }
        let certificate = try issue(subject: subject, key: key, notBefore: now.addingTimeInterval(-3600),
                                    notAfter: now.addingTimeInterval(validity))
        return Issued(certificate: certificate, key: key)
    }

    static func issue(subject: DistinguishedName, publicKey: Certificate.PublicKey, issuerName: DistinguishedName,
                      issuerKey: SoftwareSigningKey, extensions: Certificate.Extensions, notBefore: Date, notAfter: Date,
                      serial: Certificate.SerialNumber = Certificate.SerialNumber()) throws(SigningError) -> Certificate {
        let bridge = try CertificateSigningKey(issuerKey)
        do {
            return try Certificate(version: .v3, serialNumber: serial, publicKey: publicKey,
                                   notValidBefore: notBefore, notValidAfter: notAfter, issuer: issuerName, subject: subject,
                                   signatureAlgorithm: bridge.defaultSignatureAlgorithm, extensions: extensions,
                                   issuerPrivateKey: Certificate.PrivateKey(bridge))
        } catch let error as SigningError {
            throw error
        } catch {
            throw SigningError(.signingFailed, vi: "Không cấp được chứng thư", en: "Certificate issuance failed: \(error)")
        }
    }
}

/// The UID attribute (0.9.2342.19200300.100.1.1) for `DistinguishedName` builders.
public struct UserID: RelativeDistinguishedNameConvertible {
    /// The value (agency code or username).
    public var name: String

    /// A UID attribute.
    public init(_ name: String) {
        self.name = name
    }

    /// As an RDN attribute (UTF8String).
    public func makeRDN() throws -> RelativeDistinguishedName {
        RelativeDistinguishedName(RelativeDistinguishedName.Attribute(type: .RDNAttributeType.userID, utf8String: name))
    }
}
