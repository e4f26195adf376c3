import Foundation
import PKI
import Testing
import X509

@Suite struct CMSTests {
    let data = Array("Công văn số 123/VPCP — nội dung cần ký".utf8)

    func roundTrip(key: some SigningKey, certificate: Certificate, trust: TrustStore) async throws {
        let signature = try CMSSigner.signDetached(data, certificate: certificate, key: key)
        let result = await CMSVerifier.verifyDetached(signature: signature, data: data, trustStore: trust)
        #expect(result.status == .valid)
        #expect(result.signer == certificate)
        #expect(result.signingTime != nil)
        var tampered = data
        tampered[0] ^= 1
        let bad = await CMSVerifier.verifyDetached(signature: signature, data: tampered, trustStore: trust)
        #expect(bad.status == .invalid(PKIError(.cmsInvalid)))
    }

    @Test func rsaP256AndCustomKeysSignAndVerify() async throws {
        let rsaDemo = try DemoPKI(keyKind: .rsa(bits: 2048), sharedPersonKey: false)
        let rsa = try rsaDemo.issueAgency(code: "000.00.00.G22", name: "Văn phòng Chính phủ")
        try await roundTrip(key: rsa.key, certificate: rsa.certificate, trust: rsaDemo.trustStore)
        let p256 = try sharedDemo.issueAgency(code: "000.00.00.H41", name: "Bộ Nội vụ")
        try await roundTrip(key: p256.key, certificate: p256.certificate, trust: sharedDemo.trustStore)
        let custom = CountingKey(inner: p256.key)
        try await roundTrip(key: custom, certificate: p256.certificate, trust: sharedDemo.trustStore)
        #expect(custom.counter.value == 1)
    }

    @Test func wrongKeyAndErrors() async throws {
        let p256 = try sharedDemo.issueAgency(code: "000.00.00.H41", name: "Bộ Nội vụ")
        #expect(throws: SigningError(.keyCertificateMismatch, vi: "", en: "")) {
            try CMSSigner.signDetached(data, certificate: p256.certificate, key: try SoftwareSigningKey.generate(.p256))
        }
        let garbage = await CMSVerifier.verifyDetached(signature: [0x30, 0x00], data: data, trustStore: sharedDemo.trustStore)
        #expect(garbage.status == .invalid(PKIError(.cmsInvalid)))
        // Intact signature, signer from a CA we do not trust.
        let signature = try CMSSigner.signDetached(data, certificate: p256.certificate, key: p256.key)
        let stranger = try DemoPKI(keyKind: .p256)
        let untrusted = await CMSVerifier.verifyDetached(signature: signature, data: data, trustStore: stranger.trustStore)
        #expect(untrusted.status == .invalid(PKIError(.cmsSignerUntrusted)))
        #expect(untrusted.validation?.error == PKIError(.untrusted))
    }

    @Test func opensslVerifiesOurSignatures() throws {
        let rsaDemo = try DemoPKI(keyKind: .rsa(bits: 2048))
        let dir = try TempDir()
        try dir.write("data.bin", data)
        try dir.write("ca.pem", rsaDemo.root.certificatePEM)
        for issued in [try rsaDemo.issueAgency(code: "000.00.00.G22", name: "VPCP"), try sharedDemo.issuePerson(fullName: "A", username: "a", agencyName: "B")] {
            let trust = issued.key.scheme == .rsaPKCS1SHA256 ? rsaDemo.root.certificatePEM : sharedDemo.root.certificatePEM
            try dir.write("ca.pem", trust)
            try dir.write("sig.p7s", try CMSSigner.signDetached(data, certificate: issued.certificate, key: issued.key))
            let ok = try Tool.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.p7s", "-content", "data.bin",
                                   "-CAfile", "ca.pem", "-purpose", "any", "-out", "/dev/null"], in: dir.url)
            #expect(ok.status == 0, "openssl refused our CMS: \(ok.error)")
            try dir.write("tampered.bin", data + [0x20])
            let bad = try Tool.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.p7s", "-content", "tampered.bin",
                                    "-CAfile", "ca.pem", "-purpose", "any", "-out", "/dev/null"], in: dir.url)
            #expect(bad.status != 0)
        }
    }

    @Test func weVerifyOpenSSLSignatures() async throws {
        let ca = try OpenSSLCA()
        let (_, _, stem) = try ca.issue("OpenSSL signer")
        try ca.dir.write("data.bin", data)
        try Tool.openssl(["cms", "-sign", "-binary", "-outform", "DER", "-in", "data.bin", "-signer", "\(stem).pem",
                          "-inkey", "\(stem).key", "-md", "sha256", "-out", "sig.p7s"], in: ca.dir.url)
        let signature = try ca.dir.read("sig.p7s")
        let result = await CMSVerifier.verifyDetached(signature: signature, data: data, trustStore: ca.trustStore)
        #expect(result.status == .valid, "\(result.status)")
        #expect(result.signer.map { CertificateInfo($0).commonName } == "OpenSSL signer")
        let bad = await CMSVerifier.verifyDetached(signature: signature, data: Array(data.dropLast()), trustStore: ca.trustStore)
        #expect(bad.status == .invalid(PKIError(.cmsInvalid)))
    }
}

@Suite struct DemoPKITests {
    @Test func rootIsClearlyDemoAndCertificatesValidate() async throws {
        let demo = try DemoPKI(keyKind: .rsa(bits: 2048))
        let info = CertificateInfo(demo.root.certificate)
        #expect(info.commonName == "GovOffice Demo Root CA")
        #expect(info.organization == "GovOffice Demo")
        #expect(demo.trustStore.anchors[0].isDemo)
        let agency = try demo.issueAgency(code: "000.00.00.G22", name: "Văn phòng Chính phủ")
        let a = try demo.issuePerson(fullName: "Lê Văn C", username: "c.lv", agencyName: "Văn phòng Chính phủ")
        let b = try demo.issuePerson(fullName: "Phạm Thị D", username: "d.pt", agencyName: "Văn phòng Chính phủ")
        #expect(a.key.publicKeyDER == b.key.publicKeyDER) // shared person key (documented)
        #expect(agency.key.publicKeyDER != a.key.publicKeyDER)
        #expect(agency.key.scheme == .rsaPKCS1SHA256)
        let usage = try #require(try agency.certificate.extensions.keyUsage)
        #expect(usage.digitalSignature && usage.nonRepudiation)
        for issued in [agency, a] {
            let result = await CertificateValidator(trustStore: demo.trustStore).validate(issued.certificate)
            #expect(result.status == .valid)
            #expect(result.warnings.contains(.demoTrustAnchor))
        }
        // PEM outputs reload, and a demo root saved as PEM can be reopened.
        #expect(try CertificateReader.certificates(pem: agency.certificatePEM) == [agency.certificate])
        #expect(try SoftwareSigningKey(pem: agency.keyPEM).publicKeyDER == agency.key.publicKeyDER)
        let reopened = try DemoPKI(rootCertificatePEM: demo.root.certificatePEM, rootKeyPEM: demo.root.keyPEM, keyKind: .p256)
        let later = try reopened.issueAgency(code: "000.00.00.H41", name: "Bộ Nội vụ")
        #expect(await CertificateValidator(trustStore: demo.trustStore).validate(later.certificate).status == .valid)
    }

    @Test func distinctPersonKeysWhenAsked() throws {
        let demo = try DemoPKI(keyKind: .p256, sharedPersonKey: false)
        let a = try demo.issuePerson(fullName: "A", username: "a", agencyName: "X")
        let b = try demo.issuePerson(fullName: "B", username: "b", agencyName: "X")
        #expect(a.key.publicKeyDER != b.key.publicKeyDER)
        #expect(a.key.scheme == .ecdsaP256SHA256)
    }
}
