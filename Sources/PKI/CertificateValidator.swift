import Crypto
import Foundation
import GovCore
import SwiftASN1
@_spi(FixedExpiryValidationTime) @_spi(DisableValidityCheck) import X509

/// Remarks on a validation that do not make it fail (GovCore's warning: code, vi, en).
extension GovWarning {
    /// The chain ends at a demo root: fine for training, never for real documents.
    public static let demoTrustAnchor = GovWarning(
        "demo_trust_anchor", vi: "Chứng thư số thuộc hệ thống CA thử nghiệm (demo), không có giá trị pháp lý",
        en: "The chain ends at a demo CA; not valid for real documents")
    /// The leaf has no keyUsage extension (RFC 5280 then allows any use).
    public static let noKeyUsage = GovWarning(
        "key_usage_absent", vi: "Chứng thư số không khai báo mục đích sử dụng khóa",
        en: "The certificate has no keyUsage extension")
}

/// The settings of a validation.
public struct ValidationOptions: Sendable {
    /// When the signature was made (CMS signing time, XML-DSig time…); nil validates at `now` only.
    public var signingTime: Date?
    /// Validate at the signing time only (archives: a certificate expired since signing is then
    /// accepted). By default the chain must be valid both at the signing time and now.
    public var onlyAtSigningTime: Bool = false
    /// "Now"; nil takes the clock when validating (tests fix it).
    public var now: Date?
    /// Administrators' locally revoked certificates.
    public var localRevocations = LocalRevocationList()
    /// The latest CRL per CA.
    public var crls = CRLStore()
    /// Where to ask OCSP responders; nil disables OCSP.
    public var ocsp: (any OCSPClient)?
    /// What an unobtainable OCSP answer does.
    public var failureMode: RevocationFailureMode = .soft
    /// Whether to check revocation at all.
    public var checkRevocation = true

    /// Default options: validate now, soft-fail revocation, no CRLs, no OCSP.
    public init(signingTime: Date? = nil, onlyAtSigningTime: Bool = false, now: Date? = nil,
                localRevocations: LocalRevocationList = LocalRevocationList(), crls: CRLStore = CRLStore(),
                ocsp: (any OCSPClient)? = nil, failureMode: RevocationFailureMode = .soft, checkRevocation: Bool = true) {
        self.signingTime = signingTime
        self.onlyAtSigningTime = onlyAtSigningTime
        self.now = now
        self.localRevocations = localRevocations
        self.crls = crls
        self.ocsp = ocsp
        self.failureMode = failureMode
        self.checkRevocation = checkRevocation
    }
}

/// The result of validating a certificate.
public struct CertificateValidation: Sendable {
    /// Valid, or the first reason it is not.
    public enum Status: Sendable, Equatable {
        /// Every check passed.
        case valid
        /// A check failed.
        case invalid(PKIError)
    }

    /// The chain from the leaf to the trust anchor (only the leaf when no chain was found).
    public let chain: [Certificate]
    /// The verdict.
    public let status: Status
    /// What revocation checking found.
    public let revocation: RevocationOutcome
    /// Remarks that do not fail the validation.
    public let warnings: [GovWarning]

    /// Whether `status` is `.valid`.
    public var isValid: Bool { status == .valid }
    /// The error when invalid.
    public var error: PKIError? {
        if case .invalid(let error) = status { return error }
        return nil
    }
    /// The leaf's displayed fields (nil only when the chain is empty, i.e. the input did not parse).
    public var leafInfo: CertificateInfo? { chain.first.map(CertificateInfo.init) }
}

/// Validates signing certificates against a `TrustStore`, in this order:
/// 1. a chain to a root of the store (swift-certificates `Verifier` with `RFC5280Policy`: chain
///    signatures, basic and name constraints) → `certificate_untrusted`;
/// 2. validity of every certificate of the chain at the signing time and now (or only at the
///    signing time) → `certificate_expired` / `certificate_not_yet_valid`;
/// 3. the leaf's key usage must allow digitalSignature or nonRepudiation → `certificate_key_usage`;
/// 4. revocation of every non-root certificate: local list, then the issuer's CRL (verified against
///    the issuer found in the chain → `crl_invalid` if it does not verify), then OCSP through
///    swift-certificates' `OCSPVerifierPolicy` → `certificate_revoked`, or `ocsp_unavailable` in
///    hard-fail mode when OCSP could not answer and no current CRL did.
public struct CertificateValidator: Sendable {
    /// The trusted CAs.
    public var trustStore: TrustStore
    /// The settings.
    public var options: ValidationOptions

    /// A validator.
    public init(trustStore: TrustStore, options: ValidationOptions = ValidationOptions()) {
        self.trustStore = trustStore
        self.options = options
    }

    /// Validates a PEM text whose first certificate is the leaf and the others untrusted
    /// intermediates. Unparseable input gives `certificate_malformed`.
    public func validate(pem: String) async -> CertificateValidation {
        do throws(PKIError) {
            let certificates = try CertificateReader.certificates(pem: pem)
            return await validate(certificates[0], intermediates: Array(certificates.dropFirst()))
        } catch {
            return CertificateValidation(chain: [], status: .invalid(error), revocation: .notChecked, warnings: [])
        }
    }

    /// Validates a DER leaf. Unparseable input gives `certificate_malformed`.
    public func validate(der: [UInt8], intermediates: [Certificate] = []) async -> CertificateValidation {
        do throws(PKIError) {
            return await validate(try CertificateReader.certificate(der: der), intermediates: intermediates)
        } catch {
            return CertificateValidation(chain: [], status: .invalid(error), revocation: .notChecked, warnings: [])
        }
    }

    /// Validates `leaf`, with `intermediates` (untrusted, e.g. from a signature) helping to build
    /// the chain.
    public func validate(_ leaf: Certificate, intermediates: [Certificate] = []) async -> CertificateValidation {
        let now = options.now ?? Date()
        var warnings: [GovWarning] = []
        func fail(_ error: PKIError, chain: [Certificate], revocation: RevocationOutcome = .notChecked) -> CertificateValidation {
            CertificateValidation(chain: chain, status: .invalid(error), revocation: revocation, warnings: warnings)
        }

        // Extensions are parsed lazily by swift-certificates; a broken one is a malformed certificate.
        let keyUsage: KeyUsage?
        do {
            keyUsage = try leaf.extensions.keyUsage
            _ = try leaf.extensions.basicConstraints
            _ = try leaf.extensions.authorityInformationAccess
        } catch {
            return fail(PKIError(.malformed, detail: "\(error)"), chain: [leaf])
        }

        let roots = CertificateStore(trustStore.roots)
        let untrusted = CertificateStore(intermediates + trustStore.intermediates)

        // 1. Trust, without time.
        var structural = Verifier(rootCertificates: roots) { RFC5280Policy.withValidityCheckDisabled() }
        guard case .validCertificate(let structuralChain) = await structural.validate(leaf: leaf, intermediates: untrusted) else {
            return fail(PKIError(.untrusted, detail: "no chain from \(leaf.subject) to a trusted root"), chain: [leaf])
        }
        var chain = Array(structuralChain)
        if let root = chain.last, trustStore.isDemo(root) { warnings.append(.demoTrustAnchor) }

        // 2. Time.
        var times: [(label: String, date: Date)] = []
        if let signingTime = options.signingTime { times.append(("signing time", signingTime)) }
        if options.signingTime == nil || !options.onlyAtSigningTime { times.append(("now", now)) }
        for (label, date) in times {
            var timed = Verifier(rootCertificates: roots) { RFC5280Policy(fixedExpiryValidationTime: date) }
            switch await timed.validate(leaf: leaf, intermediates: untrusted) {
            case .validCertificate(let validChain):
                chain = Array(validChain)
            case .couldNotValidate:
                return fail(Self.timeError(chain: chain, at: date, label: label), chain: chain)
            }
        }

        // 3. Key usage.
        if let keyUsage {
            guard keyUsage.digitalSignature || keyUsage.nonRepudiation else {
                return fail(PKIError(.keyUsage, detail: "keyUsage \(keyUsage)"), chain: chain)
            }
        } else {
            warnings.append(.noKeyUsage)
        }

        // 4. Revocation.
        guard options.checkRevocation else {
            return CertificateValidation(chain: chain, status: .valid, revocation: .notChecked, warnings: warnings)
        }
        return await checkRevocation(chain: chain, now: now, warnings: warnings)
    }

    static func timeError(chain: [Certificate], at date: Date, label: String) -> PKIError {
        let stamp = ISO8601DateFormatter().string(from: date)
        for certificate in chain {
            if certificate.notValidAfter < date {
                return PKIError(.expired, detail: "\(certificate.subject) expired \(ISO8601DateFormatter().string(from: certificate.notValidAfter)), checked at \(label) \(stamp)")
            }
            if certificate.notValidBefore > date {
                return PKIError(.notYetValid, detail: "\(certificate.subject) valid from \(ISO8601DateFormatter().string(from: certificate.notValidBefore)), checked at \(label) \(stamp)")
            }
        }
        return PKIError(.untrusted, detail: "no chain valid at \(label) \(stamp)")
    }

    /// Per-certificate revocation knowledge while checking.
    enum Status {
        case good(RevocationSource)
        case revoked(RevocationReason?, Date?, RevocationSource)
        case unknown(String)
        case notChecked
    }

    private func checkRevocation(chain: [Certificate], now: Date, warnings inWarnings: [GovWarning]) async -> CertificateValidation {
        var warnings = inWarnings
        let subjects = Array(chain.dropLast())
        var statuses = [Status](repeating: .notChecked, count: subjects.count)

        // A revocation after the signing time does not touch a signature validated at signing
        // time only, unless the key was compromised.
        func counts(_ reason: RevocationReason?, _ date: Date?) -> Bool {
            guard options.onlyAtSigningTime, let signingTime = options.signingTime, let date,
                  reason != .keyCompromise, reason != .caCompromise else { return true }
            if date > signingTime {
                warnings.append(GovWarning("revoked_after_signing", vi: "Chứng thư số bị thu hồi sau thời điểm ký",
                                                  en: "The certificate was revoked after the signing time"))
                return false
            }
            return true
        }

        for (index, certificate) in subjects.enumerated() {
            let issuer = chain[index + 1]
            if let entry = options.localRevocations.entry(for: certificate), counts(entry.reason, entry.date) {
                statuses[index] = .revoked(entry.reason, entry.date, .localList)
                continue
            }
            if let crl = options.crls.crl(issuer: issuer.subject) {
                do throws(PKIError) {
                    try crl.verify(issuer: issuer)
                } catch {
                    return CertificateValidation(chain: chain, status: .invalid(error), revocation: .notChecked, warnings: warnings)
                }
                if let entry = crl.entry(serialNumber: Array(certificate.serialNumber.bytes)),
                   counts(entry.reason, entry.revocationDate) {
                    statuses[index] = .revoked(entry.reason, entry.revocationDate, .crl)
                } else if crl.isCurrent(at: now) {
                    statuses[index] = .good(.crl)
                } else {
                    warnings.append(GovWarning("crl_stale", vi: "CRL của \(issuer.subject) đã quá hạn cập nhật",
                                                      en: "The CRL of \(issuer.subject) is past its nextUpdate"))
                    statuses[index] = .unknown("CRL of \(issuer.subject) is past its nextUpdate")
                }
            }
        }

        if let client = options.ocsp, !statuses.contains(where: { if case .revoked = $0 { return true } else { return false } }) {
            let withOCSP = subjects.indices.filter { subjects[$0].ocspURI != nil }
            if !withOCSP.isEmpty {
                let ocsp = await runOCSP(chain: chain, client: client, now: now)
                switch ocsp {
                case .allGood:
                    for index in withOCSP { statuses[index] = .good(.ocsp) }
                case .revoked(let key, let reason, let date):
                    for index in withOCSP where Self.ocspKey(subjects[index], issuer: chain[index + 1]) == key || key == nil {
                        if counts(reason, date) { statuses[index] = .revoked(reason, date, .ocsp) }
                        break
                    }
                case .unavailable(let why):
                    for index in withOCSP {
                        if case .good(.crl) = statuses[index] {
                            warnings.append(GovWarning("ocsp_unavailable_crl_used", vi: "Không truy vấn được OCSP; đã dùng CRL",
                                                              en: "OCSP unavailable (\(why)); the current CRL answered"))
                            continue
                        }
                        if options.failureMode == .hard {
                            return CertificateValidation(chain: chain, status: .invalid(PKIError(.ocspUnavailable, detail: why)),
                                                         revocation: .unknown(why: why), warnings: warnings)
                        }
                        statuses[index] = .unknown("OCSP: \(why)")
                    }
                }
            }
        }

        for status in statuses {
            if case .revoked(let reason, let date, let source) = status {
                let detail = "\(source.rawValue)\(reason.map { ", reason \($0.name)" } ?? "")"
                return CertificateValidation(chain: chain, status: .invalid(PKIError(.revoked, detail: detail)),
                                             revocation: .revoked(reason: reason, date: date, source: source), warnings: warnings)
            }
        }
        let outcome: RevocationOutcome
        if let why = statuses.lazy.compactMap({ if case .unknown(let why) = $0 { return why } else { return nil } }).first {
            outcome = .unknown(why: why)
        } else if let first = statuses.first, case .good(let source) = first {
            outcome = .good(source: source)
        } else {
            outcome = .notChecked
        }
        return CertificateValidation(chain: chain, status: .valid, revocation: outcome, warnings: warnings)
    }

    enum OCSPResult {
        case allGood
        case revoked(key: CachingOCSPClient.Key?, reason: RevocationReason?, date: Date?)
        case unavailable(String)
    }

    static func ocspKey(_ certificate: Certificate, issuer: Certificate) -> CachingOCSPClient.Key {
        CachingOCSPClient.Key(issuerKeyHash: Array(Insecure.SHA1.hash(data: issuer.publicKey.subjectPublicKeyInfoBytes)),
                              serial: Array(certificate.serialNumber.bytes).normalizedSerial)
    }

    private func runOCSP(chain: [Certificate], client: any OCSPClient, now: Date) async -> OCSPResult {
        guard let root = chain.last, let leaf = chain.first else { return .unavailable("empty chain") }
        let recorder = RecordingOCSPRequester(client)
        // Hard mode inside the policy so every problem surfaces; soft/hard is decided by the caller.
        var verifier = Verifier(rootCertificates: CertificateStore([root])) {
            RFC5280Policy.withValidityCheckDisabled()
            OCSPVerifierPolicy(failureMode: .hard, requester: recorder, fixedExpiryValidationTime: now)
        }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(chain.dropFirst().dropLast()))
        switch result {
        case .validCertificate:
            return .allGood
        case .couldNotValidate(let failures):
            let reasons = failures.map { $0.policyFailureReason.description }
            // swift-certificates 1.21.1 words a verified revocation this way; every other failure
            // (transport, bad signature, stale or unknown status) is "unavailable".
            if reasons.contains(where: { $0.hasPrefix("revoked through OCSP") }) {
                for exchange in recorder.recorded {
                    guard case .response(let bytes) = exchange.result, let parsed = try? OCSPMessages.response(bytes) else { continue }
                    if let single = parsed.responses.first(where: { $0.status == 1 && exchange.keys.contains($0.key) }) {
                        return .revoked(key: single.key, reason: single.reason, date: single.revocationTime)
                    }
                }
                return .revoked(key: nil, reason: nil, date: nil)
            }
            return .unavailable(reasons.first ?? "OCSP check failed")
        }
    }
}

extension Certificate {
    /// The first OCSP responder URI of the AIA extension.
    var ocspURI: String? {
        guard let aia = try? extensions.authorityInformationAccess else { return nil }
        for description in aia where description.method == .ocspServer {
            if case .uniformResourceIdentifier(let uri) = description.location { return uri }
        }
        return nil
    }
}
