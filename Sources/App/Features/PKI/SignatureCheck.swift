import Foundation
import GovCore
import PKI
import Vapor
import X509
import XMLSecurity

/// The verdict on a signed edXML message: the XML signature, the signer's chain and revocation,
/// and the agency the certificate is bound to, checked against the sender. This is what the hub
/// asks before accepting a message; the CLI prints it.
struct SignatureReport: Codable, Sendable {
    /// `valid`, `invalid`, or `unsigned` (accepted only under the `warn` policy).
    var status: String
    /// The stable code of the first failure, when not valid.
    var code: String?
    var messageVI: String?
    var messageEN: String?
    /// Who signed (subject CN/O/UID, serial, fingerprint, validity).
    var signer: CertificateInfo?
    /// The agency the certificate is bound to in the directory (or, unbound, from its UID).
    var agencyCode: String?
    /// Whether `agencyCode` comes from a binding (true) or only from the certificate (false).
    var agencyBound: Bool
    /// Subjects from the signer up to the trusted root.
    var chain: [String]
    /// `good (crl)`, `revoked (local)`, `unknown: …`, `not checked`.
    var revocation: String
    var scheme: String?
    /// Warning codes (SHA-1, soft-failed OCSP, no signature under `warn`, demo CA …).
    var warnings: [String]

    var isAcceptable: Bool { status == "valid" || status == "unsigned" }
}

/// Checks edXML signatures with the deployment's PKI.
struct SignatureCheck: Sendable {
    let pki: PKIService
    let unsignedPolicy: AppConfig.UnsignedPolicy

    /// Verifies `document`. `sender` is the agency code the message claims (MessageHeader/From);
    /// when given, the certificate must be bound to that agency. `requireBinding` refuses a
    /// certificate that no administrator bound to an agency.
    func check(_ document: Data, sender: String?, requireBinding: Bool = true) async throws -> SignatureReport {
        var report = SignatureReport(status: "invalid", agencyBound: false, chain: [], revocation: "not checked",
                                     warnings: [])
        func fail(_ code: String, vi: String, en: String) -> SignatureReport {
            report.status = "invalid"
            report.code = code
            report.messageVI = vi
            report.messageEN = en
            return report
        }
        let info: XMLSignatureInfo
        do {
            info = try XMLSignatureVerifier.verifyEdXML(document)
        } catch {
            if error.code == .signatureMissing, unsignedPolicy == .warn {
                report.status = "unsigned"
                report.warnings.append("signature_missing")
                report.messageVI = error.vi
                report.messageEN = error.en
                return report
            }
            return fail(error.code.rawValue, vi: error.vi, en: error.en)
        }
        report.scheme = info.signatureScheme.rawValue
        report.warnings += info.warnings.map(\.code.rawValue)

        let certificates: [Certificate]
        do {
            certificates = try info.certificatesDER.map { (der) throws(PKIError) in try CertificateReader.certificate(der: der) }
        } catch {
            return fail(error.code.rawValue, vi: error.vi, en: error.en)
        }
        guard let leaf = certificates.first else {
            return fail("certificate_missing", vi: "Chữ ký không kèm chứng thư số.", en: "The signature carries no certificate.")
        }
        let signer = CertificateInfo(leaf)
        report.signer = signer

        let validation = await (try await pki.validator()).validate(leaf, intermediates: Array(certificates.dropFirst()))
        report.chain = validation.chain.map { CertificateInfo($0).subject }
        report.revocation = Self.describe(validation.revocation)
        report.warnings += validation.warnings.map(\.code)
        if let error = validation.error {
            return fail(error.code.rawValue, vi: error.vi, en: error.en)
        }

        if let binding = try await pki.boundAgency(fingerprint: signer.sha256Fingerprint) {
            // An edXML envelope speaks for the organisation: only its seal signs it. A person's certificate
            // of the same agency signs what that person signs (ballots, their own PDF signature), never this.
            guard binding.kind == AgencyCertificateRecord.sealKind else {
                report.agencyCode = binding.agencyCode
                return fail("certificate_not_seal",
                            vi: "Chứng thư của \(signer.subject) là chứng thư cá nhân (\(binding.username ?? "")) của cơ quan \(binding.agencyCode), không phải con dấu cơ quan: không được ký gói tin liên thông.",
                            en: "The certificate of \(signer.subject) is a personal certificate (\(binding.username ?? "")) of agency \(binding.agencyCode), not the organisation's seal: it may not sign exchange messages.")
            }
            report.agencyCode = binding.agencyCode
            report.agencyBound = true
        } else {
            report.agencyCode = signer.agencyCode
            if requireBinding {
                return fail("certificate_unbound",
                            vi: "Chứng thư của \(signer.subject) chưa được gắn với cơ quan nào trong danh bạ.",
                            en: "The certificate of \(signer.subject) is not bound to any agency of the directory.")
            }
        }
        if let sender, let agency = report.agencyCode, agency != sender {
            return fail("certificate_agency_mismatch",
                        vi: "Gói tin ghi nơi gửi \(sender) nhưng được ký bằng chứng thư của cơ quan \(agency).",
                        en: "The message says it is from \(sender) but is signed with a certificate of agency \(agency).")
        }
        if let sender, report.agencyCode == nil {
            return fail("certificate_agency_mismatch",
                        vi: "Không xác định được cơ quan của chứng thư ký; nơi gửi ghi \(sender).",
                        en: "The signing certificate names no agency; the message says it is from \(sender).")
        }
        report.status = "valid"
        return report
    }

    static func describe(_ outcome: RevocationOutcome) -> String {
        switch outcome {
        case .good(let source): return "good (\(source.rawValue))"
        case .revoked(let reason, _, let source): return "revoked (\(source.rawValue)\(reason.map { ", \($0.name)" } ?? ""))"
        case .unknown(let why): return "unknown: \(why)"
        case .notChecked: return "not checked"
        }
    }
}

extension Request {
    var signatureCheck: SignatureCheck { SignatureCheck(pki: pki, unsignedPolicy: application.govConfig.unsignedPolicy) }
}

extension Application {
    var signatureCheck: SignatureCheck { SignatureCheck(pki: pki, unsignedPolicy: govConfig.unsignedPolicy) }
}
