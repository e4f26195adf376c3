import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// What people (and the App) read from a certificate: names, serial, validity, fingerprint, key
/// and the agency-code hint.
public struct CertificateInfo: Sendable, Equatable, Codable {
    /// Subject common name (CN).
    public let commonName: String?
    /// Subject organisation (O).
    public let organization: String?
    /// Subject organisational unit (OU).
    public let organizationalUnit: String?
    /// The whole subject in RFC 4514 form.
    public let subject: String
    /// The whole issuer in RFC 4514 form.
    public let issuer: String
    /// The issuer's common name.
    public let issuerCommonName: String?
    /// Serial number, lower-case hexadecimal without separators (leading zero bytes kept).
    public let serialHex: String
    /// Start of validity.
    public let notBefore: Date
    /// End of validity.
    public let notAfter: Date
    /// SHA-256 of the certificate's DER, lower-case hexadecimal.
    public let sha256Fingerprint: String
    /// Key algorithm, e.g. "RSA 2048", "ECDSA P-256".
    public let keyAlgorithm: String
    /// The agency code the certificate binds to, read from the subject's UID attribute
    /// (0.9.2342.19200300.100.1.1), e.g. `000.00.00.G22`; nil when there is no UID. A hint only:
    /// the App's explicit bindings decide.
    public let agencyCode: String?
    /// The subject's UID attribute whatever it holds (an agency code for agency certificates, a
    /// username for the demo PKI's personal certificates).
    public let uid: String?

    /// Reads the fields of a certificate.
    public init(_ certificate: Certificate) {
        commonName = certificate.subject.firstValue(of: .RDNAttributeType.commonName)
        organization = certificate.subject.firstValue(of: .RDNAttributeType.organizationName)
        organizationalUnit = certificate.subject.firstValue(of: .RDNAttributeType.organizationalUnitName)
        subject = certificate.subject.description
        issuer = certificate.issuer.description
        issuerCommonName = certificate.issuer.firstValue(of: .RDNAttributeType.commonName)
        serialHex = certificate.serialNumber.bytes.hex
        notBefore = certificate.notValidBefore
        notAfter = certificate.notValidAfter
        sha256Fingerprint = SHA256.hash(data: certificate.derBytes).hex
        keyAlgorithm = certificate.publicKey.algorithmName
        let uid = certificate.subject.firstValue(of: .RDNAttributeType.userID)
        self.uid = uid
        agencyCode = uid.flatMap { CertificateInfo.isAgencyCode($0) ? $0 : nil }
    }

    /// Whether `text` has the shape of an agency code: four dot-separated groups `ddd.dd.dd.Xdd`
    /// (letters and digits, upper-case), such as `000.00.00.G22` or `000.00.00.H41`.
    public static func isAgencyCode(_ text: String) -> Bool {
        let groups = text.split(separator: ".", omittingEmptySubsequences: false)
        guard groups.count == 4, [3, 2, 2, 3] == groups.map(\.count) else { return false }
        return groups.allSatisfy { $0.allSatisfy { ($0.isASCII && $0.isNumber) || ("A"..."Z").contains($0) } }
    }
}

extension ASN1ObjectIdentifier.RDNAttributeType {
    /// userId / UID (RFC 4519), where GovOffice puts the agency code or username.
    public static let userID: ASN1ObjectIdentifier = [0, 9, 2342, 19_200_300, 100, 1, 1]
}

extension DistinguishedName {
    /// The first attribute value of a type, as text; nil when absent or not a string.
    func firstValue(of type: ASN1ObjectIdentifier) -> String? {
        for rdn in self {
            for attribute in rdn where attribute.type == type {
                if let text = String(attribute.value) { return text }
                // DirectoryString variants other than UTF8/Printable/IA5 (BMP, Teletex) come as ANY.
                return attribute.value.description
            }
        }
        return nil
    }

    /// All attribute values of a type, in order.
    func values(of type: ASN1ObjectIdentifier) -> [String] {
        flatMap { $0.filter { $0.type == type }.map { String($0.value) ?? $0.value.description } }
    }
}

extension Certificate {
    /// The DER encoding; swift-certificates keeps the parsed bytes, so this re-serialises exactly.
    public var derBytes: [UInt8] {
        var serializer = DER.Serializer()
        // Serialising a parsed or freshly built certificate cannot fail; an empty result would make
        // fingerprints differ rather than crash.
        do { try serializer.serialize(self) } catch { return [] }
        return serializer.serializedBytes
    }

    /// The certificate as one PEM block.
    public var pemString: String {
        PEMDocument(type: "CERTIFICATE", derBytes: derBytes).pemString
    }
}

extension Certificate.PublicKey {
    /// A short name for the key: "RSA 2048", "ECDSA P-256", …
    var algorithmName: String {
        if let rsa = _RSA.Signing.PublicKey(self) { return "RSA \(rsa.keySizeInBits)" }
        if P256.Signing.PublicKey(self) != nil { return "ECDSA P-256" }
        if P384.Signing.PublicKey(self) != nil { return "ECDSA P-384" }
        if P521.Signing.PublicKey(self) != nil { return "ECDSA P-521" }
        if Curve25519.Signing.PublicKey(self) != nil { return "Ed25519" }
        return "unknown"
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hexadecimal.
    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    /// Bytes from hexadecimal text (upper or lower case, optional `:` separators); nil when invalid.
    init?(hex text: String) {
        let clean = text.filter { $0 != ":" && $0 != " " }
        guard clean.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = clean.startIndex
        while index < clean.endIndex {
            let next = clean.index(index, offsetBy: 2)
            guard let byte = UInt8(clean[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self = bytes
    }
}
