import Foundation
import PKI
import Testing
import X509

@Suite struct CertificateValidatorTests {
    let demo = sharedDemo
    func person() throws -> DemoPKI.Issued {
        try demo.issuePerson(fullName: "Trần Thị Bình", username: "binh.tt", agencyName: "Bộ Tư pháp")
    }

    @Test func validDemoChainWarnsDemo() async throws {
        let result = await CertificateValidator(trustStore: demo.trustStore).validate(try person().certificate)
        #expect(result.status == .valid)
        #expect(result.chain.count == 2)
        #expect(result.warnings.contains(.demoTrustAnchor))
        #expect(result.revocation == .notChecked)
    }

    @Test func unknownCAIsUntrusted() async throws {
        let stranger = try DemoPKI(keyKind: .p256)
        let leaf = try stranger.issueAgency(code: "000.00.00.G01", name: "X").certificate
        let result = await CertificateValidator(trustStore: demo.trustStore).validate(leaf)
        #expect(result.error == PKIError(.untrusted))
    }

    @Test func expiredAndNotYetValid() async throws {
        let key = try SoftwareSigningKey.generate(.p256)
        let now = Date()
        // A root from a month ago, so it was valid at the signing time below.
        let demo = try DemoPKI(keyKind: .p256, now: now.addingTimeInterval(-30 * 86400))
        let old = try demo.issue(subject: DistinguishedName { CommonName("Old") }, key: key,
                                 notBefore: now.addingTimeInterval(-10 * 86400), notAfter: now.addingTimeInterval(-86400))
        let future = try demo.issue(subject: DistinguishedName { CommonName("Future") }, key: key,
                                    notBefore: now.addingTimeInterval(86400), notAfter: now.addingTimeInterval(10 * 86400))
        let validator = CertificateValidator(trustStore: demo.trustStore)
        #expect(await validator.validate(old).error == PKIError(.expired))
        #expect(await validator.validate(future).error == PKIError(.notYetValid))

        // Signed while valid: fails by default (must be valid now too), passes at signing time only.
        var options = ValidationOptions(signingTime: now.addingTimeInterval(-2 * 86400))
        #expect(await CertificateValidator(trustStore: demo.trustStore, options: options).validate(old).error == PKIError(.expired))
        options.onlyAtSigningTime = true
        #expect(await CertificateValidator(trustStore: demo.trustStore, options: options).validate(old).status == .valid)
    }

    @Test func keyUsageMustAllowSigning() async throws {
        let leaf = try demo.issue(subject: DistinguishedName { CommonName("Encrypt only") }, key: try SoftwareSigningKey.generate(.p256),
                                  notBefore: Date().addingTimeInterval(-60), notAfter: Date().addingTimeInterval(3600),
                                  keyUsage: KeyUsage(keyEncipherment: true))
        let result = await CertificateValidator(trustStore: demo.trustStore).validate(leaf)
        #expect(result.error == PKIError(.keyUsage))
    }

    @Test func malformedInput() async throws {
        let validator = CertificateValidator(trustStore: demo.trustStore)
        #expect(await validator.validate(pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").error == PKIError(.malformed))
        #expect(await validator.validate(der: [0x30, 0x03, 0x02, 0x01]).error == PKIError(.malformed))
        #expect(await validator.validate(pem: "").error == PKIError(.malformed))
    }

    @Test func localRevokedListByNameAndKeyID() async throws {
        let leaf = try person().certificate
        var list = LocalRevocationList()
        list.add(LocalRevocationEntry(certificate: leaf, reason: .keyCompromise, date: Date()))
        var result = await CertificateValidator(trustStore: demo.trustStore, options: ValidationOptions(localRevocations: list)).validate(leaf)
        #expect(result.error == PKIError(.revoked))
        #expect(result.revocation == .revoked(reason: .keyCompromise, date: list.entries[0].date, source: .localList))

        let keyID = try #require(try demo.root.certificate.extensions.subjectKeyIdentifier).keyIdentifier
        let byKey = LocalRevocationList([LocalRevocationEntry(issuer: .keyIdentifier(Array(keyID).map { String(format: "%02X", $0) }.joined(separator: ":")),
                                                              serialHex: Array(leaf.serialNumber.bytes).map { String(format: "%02x", $0) }.joined(),
                                                              reason: .superseded, date: Date())])
        result = await CertificateValidator(trustStore: demo.trustStore, options: ValidationOptions(localRevocations: byKey)).validate(leaf)
        #expect(result.error == PKIError(.revoked))
        // Codable round trip (the App persists the list).
        let decoded = try JSONDecoder().decode(LocalRevocationList.self, from: JSONEncoder().encode(byKey))
        #expect(decoded == byKey)
        var removed = byKey
        removed.remove(issuer: byKey.entries[0].issuer, serialHex: byKey.entries[0].serialHex)
        #expect(removed.entries.isEmpty)
    }

    @Test func errorCodesAreStableAndBilingual() {
        #expect(PKIError.Code.allCases.map(\.rawValue) == [
            "certificate_untrusted", "certificate_expired", "certificate_not_yet_valid", "certificate_revoked",
            "certificate_key_usage", "certificate_malformed", "ocsp_unavailable", "crl_invalid", "cms_invalid",
            "cms_signer_untrusted",
        ])
        for code in PKIError.Code.allCases {
            let error = PKIError(code, detail: "x")
            #expect(!error.vi.isEmpty && error.en.hasSuffix(": x"))
            #expect(error == PKIError(code, vi: "khác", en: "other"))
        }
    }
}
