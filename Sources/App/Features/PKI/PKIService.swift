import Fluent
import Foundation
import GovCore
import NIOConcurrencyHelpers
import PKI
import Vapor
import X509

/// The deployment's PKI: trusted CAs (database and trust folder), CRLs, locally revoked serials,
/// certificates bound to agencies, and the validator built from them. Other subsystems ask it
/// "is this signer trusted, and for which agency?" and never read its tables.
struct PKIService: Sendable {
    let db: any Database
    let config: AppConfig
    let ocsp: (any OCSPClient)?
    /// This node's copy of the default validator; nil builds a fresh one every time.
    var cache: ValidatorCache? = nil

    /// Building the validator reads every anchor, CRL and revoked serial and re-checks each CRL's
    /// signature: too much for every message the hub verifies. A node keeps its validator for a few
    /// seconds and drops it at once when this node changes the PKI; another node's change is seen
    /// within `lifetime`.
    final class ValidatorCache: Sendable {
        let lifetime: Duration
        private let entry = NIOLockedValueBox<(validator: CertificateValidator, expires: ContinuousClock.Instant)?>(nil)

        init(lifetime: Duration = .seconds(5)) { self.lifetime = lifetime }

        func get() -> CertificateValidator? {
            entry.withLockedValue { value in
                guard let value, value.expires > .now else { return nil }
                return value.validator
            }
        }

        func put(_ validator: CertificateValidator) {
            entry.withLockedValue { $0 = (validator, .now + lifetime) }
        }

        func invalidate() { entry.withLockedValue { $0 = nil } }
    }

    // MARK: Trust

    /// Every trusted CA: the database's, then the trust folder's.
    func trustStore() async throws -> TrustStore {
        var store = TrustStore()
        for record in try await TrustAnchorRecord.query(on: db).sort(\.$createdAt).all() {
            try store.add(pem: record.pem, demo: record.isDemo, source: record.source)
        }
        if let folder = config.trustDirectory {
            do {
                try store.load(folder: URL(fileURLWithPath: folder))
            } catch {
                throw GovError("trust_folder_unreadable", .invalid,
                               vi: "Không đọc được thư mục chứng thư tin cậy \(folder): \(error.vi)",
                               en: "The trust folder \(folder) cannot be read: \(error.en)")
            }
        }
        return store
    }

    /// Adds the CA certificates of a PEM text (one or several). A certificate that is not a CA is
    /// refused: trusting a leaf would let it vouch for itself.
    @discardableResult
    func addAnchors(pem: String, source: String, actor: AuditActor) async throws -> [TrustAnchorRecord] {
        let certificates: [Certificate]
        do {
            certificates = try CertificateReader.certificates(pem: pem)
        } catch {
            throw Self.govError(error)
        }
        guard !certificates.isEmpty else {
            throw GovError("certificate_missing", .invalid, vi: "Tệp không chứa chứng thư số nào (PEM).",
                           en: "The file holds no certificate (PEM).")
        }
        defer { cache?.invalidate() }
        return try await db.atomically { tx -> [TrustAnchorRecord] in
            var added: [TrustAnchorRecord] = []
            for certificate in certificates {
                let info = CertificateInfo(certificate)
                guard Self.isCA(certificate) else {
                    throw GovError("certificate_not_ca", .invalid,
                                   vi: "Chứng thư \(info.subject) không phải của tổ chức cung cấp dịch vụ chứng thực (CA).",
                                   en: "The certificate \(info.subject) is not a CA certificate.")
                }
                if try await TrustAnchorRecord.query(on: tx).filter(\.$fingerprint == info.sha256Fingerprint).first() != nil {
                    continue
                }
                let record = TrustAnchorRecord(
                    fingerprint: info.sha256Fingerprint, subject: info.subject, issuer: info.issuer,
                    isRoot: certificate.subject == certificate.issuer, isDemo: TrustStore.looksLikeDemo(certificate),
                    pem: certificate.pemString, notAfter: info.notAfter, source: source)
                try await record.create(on: tx)
                try await AuditLog.append("pki.trust.add", entity: "trust_anchor", id: info.sha256Fingerprint,
                                          details: ["subject": info.subject, "source": source], by: actor, on: tx)
                added.append(record)
            }
            return added
        }
    }

    /// Stops trusting a CA.
    func removeAnchor(fingerprint: String, actor: AuditActor) async throws {
        guard let record = try await TrustAnchorRecord.query(on: db).filter(\.$fingerprint == fingerprint).first() else {
            throw GovError("trust_anchor_not_found", .notFound, vi: "Không có CA tin cậy này.",
                           en: "No such trusted CA.")
        }
        defer { cache?.invalidate() }
        try await db.atomically { tx in
            try await record.delete(on: tx)
            try await AuditLog.append("pki.trust.remove", entity: "trust_anchor", id: fingerprint,
                                      details: ["subject": record.subject], by: actor, on: tx)
        }
    }

    func anchors() async throws -> [TrustAnchorRecord] {
        try await TrustAnchorRecord.query(on: db).sort(\.$subject).all()
    }

    /// Whether a demo CA is trusted (the server warns when this holds outside demo mode).
    func trustsDemoCA() async throws -> Bool {
        try await trustStore().anchors.contains(where: \.isDemo)
    }

    // MARK: Revocation

    /// Imports a CRL (DER or PEM) after checking its signature against a trusted CA; it replaces
    /// the previous list of the same issuer unless it is older.
    func importCRL(_ bytes: [UInt8], actor: AuditActor) async throws -> RevocationListRecord {
        let crl: CRL
        do {
            crl = try CRL(bytes: bytes)
        } catch {
            throw Self.govError(error)
        }
        // Adding to a store checks the signature against the trusted CA of that name.
        var check = CRLStore()
        let store = try await trustStore()
        do throws(PKIError) {
            try check.add(crl, trustStore: store)
        } catch {
            throw Self.govError(error)
        }
        let issuerName = String(describing: crl.issuer)
        defer { cache?.invalidate() }
        let record = try await db.atomically { tx -> RevocationListRecord in
            if let existing = try await RevocationListRecord.query(on: tx).filter(\.$issuer == issuerName).first() {
                guard crl.thisUpdate >= existing.thisUpdate else {
                    throw GovError("crl_older", .conflict,
                                   vi: "Đã có danh sách thu hồi mới hơn của CA này.",
                                   en: "A newer CRL of this CA is already imported.")
                }
                try await existing.delete(on: tx)
            }
            let record = RevocationListRecord(issuer: issuerName, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate,
                                              entries: crl.entries.count, der: crl.derBytes)
            try await record.create(on: tx)
            try await AuditLog.append("pki.crl.import", entity: "revocation_list", id: issuerName,
                                      details: ["entries": String(crl.entries.count)], by: actor, on: tx)
            return record
        }
        return record
    }

    func revocationLists() async throws -> [RevocationListRecord] {
        try await RevocationListRecord.query(on: db).sort(\.$issuer).all()
    }

    /// Marks one certificate revoked locally, by issuer name and serial (hex).
    func revokeSerial(issuer: String, serial rawSerial: String, reason: RevocationReason, actor: AuditActor) async throws {
        let serial = rawSerial.lowercased().filter { $0 != ":" && !$0.isWhitespace }
        guard !serial.isEmpty, serial.count <= 64, serial.allSatisfy(\.isHexDigit) else {
            throw GovError("serial_invalid", .invalid, vi: "Số hiệu chứng thư phải là chuỗi thập lục phân.",
                           en: "The certificate serial must be hexadecimal.")
        }
        let issuerName = issuer.trimmingCharacters(in: .whitespaces)
        guard !issuerName.isEmpty else {
            throw GovError("issuer_missing", .invalid, vi: "Cần nêu tổ chức phát hành (CA).", en: "The issuer (CA) is required.")
        }
        defer { cache?.invalidate() }
        try await db.atomically { tx in
            if try await RevokedSerialRecord.query(on: tx).filter(\.$issuer == issuerName).filter(\.$serial == serial).first() != nil {
                return
            }
            try await RevokedSerialRecord(issuer: issuerName, serial: serial, reason: reason.name, revokedAt: Date()).create(on: tx)
            try await AuditLog.append("pki.revoke", entity: "certificate", id: serial,
                                      details: ["issuer": issuerName, "reason": reason.name], by: actor, on: tx)
        }
    }

    func revokedSerials() async throws -> [RevokedSerialRecord] {
        try await RevokedSerialRecord.query(on: db).sort(\.$createdAt, .descending).all()
    }

    /// The validator with everything this deployment knows.
    func validator(signingTime: Date? = nil, now: Date? = nil) async throws -> CertificateValidator {
        let cacheable = signingTime == nil && now == nil
        if cacheable, let cached = cache?.get() { return cached }
        let made = try await makeValidator(signingTime: signingTime, now: now)
        if cacheable { cache?.put(made) }
        return made
    }

    private func makeValidator(signingTime: Date?, now: Date?) async throws -> CertificateValidator {
        var options = ValidationOptions()
        options.signingTime = signingTime
        options.now = now
        let store = try await trustStore()
        var crls = CRLStore()
        for record in try await RevocationListRecord.query(on: db).all() {
            // Checked on import; checked again here because a CA may have been removed since.
            guard let der = Data(base64Encoded: record.derBase64), let crl = try? CRL(der: Array(der)) else { continue }
            try? crls.add(crl, trustStore: store)
        }
        options.crls = crls
        var local = LocalRevocationList()
        for record in try await RevokedSerialRecord.query(on: db).all() {
            local.add(LocalRevocationEntry(issuer: .name(record.issuer), serialHex: record.serial,
                                           reason: RevocationReason.named(record.reason) ?? .unspecified,
                                           date: record.revokedAt))
        }
        options.localRevocations = local
        switch config.ocspMode {
        case .off:
            options.ocsp = nil
        case .soft:
            options.ocsp = ocsp
            options.failureMode = .soft
        case .hard:
            options.ocsp = ocsp
            options.failureMode = .hard
        }
        return CertificateValidator(trustStore: store, options: options)
    }

    // MARK: Agency bindings

    /// Binds a signing certificate to an agency (its seal, or a person of it). The certificate
    /// must chain to a trusted CA now.
    @discardableResult
    func bind(certificatePEM: String, agencyCode: String, kind: String, username: String?, actor: AuditActor,
              agencies: AgencyDirectory) async throws -> AgencyCertificateRecord {
        guard ["agency", "person"].contains(kind) else {
            throw GovError("binding_kind_invalid", .invalid, vi: "Loại chứng thư phải là agency hoặc person.",
                           en: "The certificate kind must be agency or person.")
        }
        guard try await agencies.find(code: agencyCode) != nil else {
            throw GovError("agency_not_found", .notFound, vi: "Không có cơ quan mã \(agencyCode).",
                           en: "No agency has the code \(agencyCode).")
        }
        let certificate: Certificate
        do {
            guard let first = try CertificateReader.certificates(pem: certificatePEM).first else {
                throw PKIError(.malformed, detail: "no certificate")
            }
            certificate = first
        } catch let error as PKIError {
            throw Self.govError(error)
        }
        let validation = await (try await validator()).validate(certificate)
        if let error = validation.error { throw Self.govError(error) }
        let info = CertificateInfo(certificate)
        return try await db.atomically { tx -> AgencyCertificateRecord in
            if let existing = try await AgencyCertificateRecord.query(on: tx)
                .filter(\.$fingerprint == info.sha256Fingerprint).first() {
                guard existing.agencyCode == agencyCode else {
                    throw GovError("certificate_bound_elsewhere", .conflict,
                                   vi: "Chứng thư đã gắn với cơ quan \(existing.agencyCode).",
                                   en: "The certificate is already bound to agency \(existing.agencyCode).")
                }
                return existing
            }
            let record = AgencyCertificateRecord(
                agencyCode: agencyCode, kind: kind, username: username, fingerprint: info.sha256Fingerprint,
                subject: info.subject, issuer: info.issuer, serial: info.serialHex, notAfter: info.notAfter,
                pem: certificate.pemString)
            try await record.create(on: tx)
            try await AuditLog.append("pki.bind", entity: "agency_certificate", id: info.sha256Fingerprint,
                                      details: ["kind": kind, "subject": info.subject], agencyCode: agencyCode,
                                      by: actor, on: tx)
            return record
        }
    }

    /// The agency a certificate is bound to, by its SHA-256 fingerprint.
    func boundAgency(fingerprint: String) async throws -> AgencyCertificateRecord? {
        try await AgencyCertificateRecord.query(on: db).filter(\.$fingerprint == fingerprint).first()
    }

    func bindings(agencyCode: String? = nil) async throws -> [AgencyCertificateRecord] {
        var query = AgencyCertificateRecord.query(on: db).sort(\.$agencyCode).sort(\.$kind)
        if let agencyCode { query = query.filter(\.$agencyCode == agencyCode) }
        return try await query.all()
    }

    // MARK: Helpers

    static func isCA(_ certificate: Certificate) -> Bool {
        guard let constraints = try? certificate.extensions.basicConstraints else { return false }
        if case .isCertificateAuthority = constraints { return true }
        return false
    }

    /// A PKI error as the app's error (400 with the PKI code).
    static func govError(_ error: PKIError) -> GovError {
        GovError(error.code.rawValue, .invalid, vi: error.vi, en: error.en)
    }
}

extension RevocationReason {
    /// The reason whose `name` is `text`.
    static func named(_ text: String) -> RevocationReason? { allCases.first { $0.name == text } }
}

extension Application {
    private struct OCSPClientKey: StorageKey { typealias Value = CachingOCSPClient }

    /// One OCSP cache per process, over HTTP.
    var ocspClient: CachingOCSPClient {
        if let existing = storage[OCSPClientKey.self] { return existing }
        let made = CachingOCSPClient(HTTPOCSPClient(client: client))
        storage[OCSPClientKey.self] = made
        return made
    }

    var pki: PKIService { PKIService(db: db, config: govConfig, ocsp: ocspClient, cache: pkiValidatorCache) }

    private struct ValidatorCacheKey: StorageKey { typealias Value = PKIService.ValidatorCache }
    private struct ValidatorCacheLock: LockKey {}

    /// This node's validator cache (see `PKIService.ValidatorCache`).
    var pkiValidatorCache: PKIService.ValidatorCache {
        locks.lock(for: ValidatorCacheLock.self).withLock {
            if let cache = storage[ValidatorCacheKey.self] { return cache }
            let cache = PKIService.ValidatorCache()
            storage[ValidatorCacheKey.self] = cache
            return cache
        }
    }

    /// The PKI on another database handle (a transaction, a request's).
    func pkiService(db: any Database) -> PKIService {
        PKIService(db: db, config: govConfig, ocsp: ocspClient, cache: pkiValidatorCache)
    }
}

extension Request {
    var pki: PKIService { application.pkiService(db: db) }
}

/// OCSP over HTTP (RFC 6960 appendix A: POST application/ocsp-request), with a short timeout so
/// a dead responder costs seconds, not minutes.
struct HTTPOCSPClient: OCSPClient {
    let client: any Client

    func fetch(request: [UInt8], uri: String) async -> OCSPFetchResult {
        guard let url = URL(string: uri), url.scheme == "http" || url.scheme == "https" else {
            return .unavailable("not an http(s) OCSP URL: \(uri)")
        }
        do {
            let response = try await client.post(URI(string: uri)) { outgoing in
                outgoing.headers.contentType = HTTPMediaType(type: "application", subType: "ocsp-request")
                outgoing.body = ByteBuffer(bytes: request)
                outgoing.timeout = .seconds(5)
            }
            guard response.status == .ok, var body = response.body, let bytes = body.readBytes(length: body.readableBytes) else {
                return .unavailable("HTTP \(response.status.code) from \(uri)")
            }
            return .response(bytes)
        } catch {
            return .unavailable("\(uri): \(error)")
        }
    }
}
