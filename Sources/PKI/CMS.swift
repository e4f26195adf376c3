import Foundation
import SwiftASN1
// The one file of the module that uses swift-certificates' CMS SPI.
@_spi(CMS) import X509

/// Makes detached CMS (PKCS#7) SignedData signatures.
public enum CMSSigner {
    /// Signs `data` and returns a DER ContentInfo/SignedData without the content (detached), with
    /// signed attributes contentType, messageDigest (SHA-256) and signingTime, the signer's
    /// certificate and `intermediates`. Any `SigningKey` signs (software or token); throws
    /// `SigningError` from the key, `key_certificate_mismatch` when the key is not the
    /// certificate's, or `signing_failed` when encoding fails.
    public static func signDetached(_ data: some DataProtocol, certificate: Certificate, key: some SigningKey,
                                    intermediates: [Certificate] = [], signingTime: Date = Date()) throws(SigningError) -> [UInt8] {
        let bridge = try CertificateSigningKey(key)
        guard bridge.publicKey == certificate.publicKey else {
            throw SigningError(.keyCertificateMismatch, vi: "Khóa không khớp với chứng thư số",
                               en: "The signing key does not belong to \(certificate.subject)")
        }
        do {
            return try CMS.sign(data, signatureAlgorithm: bridge.defaultSignatureAlgorithm,
                                additionalIntermediateCertificates: intermediates, certificate: certificate,
                                privateKey: Certificate.PrivateKey(bridge), signingTime: signingTime, detached: true)
        } catch let error as SigningError {
            throw error
        } catch {
            throw SigningError(.signingFailed, vi: "Không tạo được chữ ký CMS", en: "CMS signing failed: \(error)")
        }
    }
}

/// The result of verifying a CMS signature.
public struct CMSVerification: Sendable {
    /// Valid, or why not: `cms_invalid` (malformed, data changed, bad signature) or
    /// `cms_signer_untrusted` (intact signature, signer certificate refused; `validation` says why).
    public let status: CertificateValidation.Status
    /// The signer's certificate, when the signature could be parsed.
    public let signer: Certificate?
    /// The signingTime signed attribute, when present.
    public let signingTime: Date?
    /// The validation of the signer's certificate (nil when the signature itself failed).
    public let validation: CertificateValidation?

    /// Whether `status` is `.valid`.
    public var isValid: Bool { status == .valid }
}

/// Verifies detached CMS SignedData signatures (DER or BER, e.g. from `openssl cms -sign`).
public enum CMSVerifier {
    /// Checks that `signature` signs `data` (one signer; signed attributes with message digest, or
    /// a signature over the data itself), then validates the signer certificate with the
    /// certificates carried in the signature as intermediates, at the signed signingTime (and now,
    /// unless `options.onlyAtSigningTime`). `options.signingTime`, when set, overrides the signed
    /// attribute (e.g. a trusted timestamp).
    public static func verifyDetached(signature: [UInt8], data: some DataProtocol, trustStore: TrustStore,
                                      options: ValidationOptions = ValidationOptions()) async -> CMSVerification {
        let parsed: CMSSignature
        let signer: CMSSignature.Signer
        do {
            parsed = try CMSSignature(berEncoded: signature[...])
            let signers = try parsed.signers
            guard signers.count == 1, let only = signers.first else {
                return CMSVerification(status: .invalid(PKIError(.cmsInvalid, detail: "expected one signer with its certificate, found \(signers.count)")),
                                       signer: nil, signingTime: nil, validation: nil)
            }
            signer = only
        } catch {
            return CMSVerification(status: .invalid(PKIError(.cmsInvalid, detail: "\(error)")), signer: nil, signingTime: nil, validation: nil)
        }

        // Cryptographic check only: the signer is its own root here and every chain meets the
        // policy; the real certificate validation follows with our validator.
        let bytes = Data(data)
        let cryptographic = await CMS.isValidSignature(
            dataBytes: bytes, signatureBytes: signature, trustRoots: CertificateStore([signer.certificate])
        ) {
            AcceptAnyChain()
        }
        switch cryptographic {
        case .success:
            break
        case .failure(let error):
            return CMSVerification(status: .invalid(PKIError(.cmsInvalid, detail: "\(error)")), signer: signer.certificate,
                                   signingTime: signer.signingTime, validation: nil)
        }

        var validationOptions = options
        if validationOptions.signingTime == nil { validationOptions.signingTime = signer.signingTime }
        let validator = CertificateValidator(trustStore: trustStore, options: validationOptions)
        let intermediates = parsed.certificates.filter { $0 != signer.certificate }
        let validation = await validator.validate(signer.certificate, intermediates: intermediates)
        let status: CertificateValidation.Status
        if let error = validation.error {
            status = .invalid(PKIError(.cmsSignerUntrusted, detail: error.description))
        } else {
            status = .valid
        }
        return CMSVerification(status: status, signer: signer.certificate, signingTime: signer.signingTime, validation: validation)
    }
}

/// Accepts every chain; declares the usual critical extensions handled so that swift-certificates
/// does not refuse the signer before `CertificateValidator` has looked at it.
struct AcceptAnyChain: VerifierPolicy {
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [
        .X509ExtensionID.basicConstraints, .X509ExtensionID.keyUsage, .X509ExtensionID.extendedKeyUsage,
        .X509ExtensionID.nameConstraints, .X509ExtensionID.subjectAlternativeName,
    ]

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) -> PolicyEvaluationResult {
        .meetsPolicy
    }
}
