import Foundation
import PKI
import X509

/// A software key and its certificate chain, read from PEM text: what `govoffice sign --key --cert`
/// and an office's connection sign with.
enum SigningMaterial {
    /// The key and the chain (DER, signer first). Throws `SigningError` or `PKIError` as read.
    static func software(keyPEM: String, certificatesPEM: String) throws -> (any SigningKey, [[UInt8]]) {
        let key = try SoftwareSigningKey(pem: keyPEM)
        let chain = try CertificateReader.certificates(pem: certificatesPEM).map(\.derBytes)
        guard !chain.isEmpty else { throw PKIError(.malformed, vi: "Không có chứng thư số.", en: "No certificate.") }
        return (key, chain)
    }
}
