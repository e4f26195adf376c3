import Foundation
import GovCore
import PKI
import Testing
import VaporTesting
import X509
import XMLSecurity

@testable import App

/// The deployment-level verdict on signed edXML: XML signature + chain + revocation + the
/// agency binding, checked against the sender. Module tests cover each part alone; these prove
/// that the parts are wired together and that each bad input gets its own code.
@Suite("Signature check (hub and CLI)", .serialized)
struct SignatureCheckTests {
    static let sample = try! Data(contentsOf: URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/edxml/edoc_new_0.edxml"))
    static let sender = "000.00.00.G22"

    /// A demo root trusted by `app`, and G22's certificate bound to G22.
    struct Fixture {
        let demo: DemoPKI
        let g22: DemoPKI.Issued

        func sign(_ issued: DemoPKI.Issued) throws -> Data {
            try sign(issued.certificate, key: issued.key)
        }

        func sign(_ certificate: Certificate, key: SoftwareSigningKey) throws -> Data {
            try XMLSigner.signEdXML(SignatureCheckTests.sample, key: key,
                                    certificateChainDER: [certificate.derBytes, demo.root.certificate.derBytes])
        }
    }

    static let shared: (DemoPKI, DemoPKI.Issued) = {
        let demo = try! DemoPKI()
        return (demo, try! demo.issueAgency(code: sender, name: "Văn phòng Chính phủ"))
    }()

    func withPKI(_ adjust: @escaping (inout AppConfig) -> Void = { _ in },
                 _ body: @escaping (Application, Fixture) async throws -> Void) async throws {
        try await withTestApp(adjust: adjust) { app in
            let (demo, g22) = Self.shared
            try await app.pki.addAnchors(pem: demo.root.certificatePEM, source: "test", actor: .commandLine)
            try await app.pki.bind(certificatePEM: g22.certificatePEM, agencyCode: Self.sender, kind: "agency",
                                   username: nil, actor: .commandLine, agencies: AgencyDirectory(db: app.db))
            try await body(app, Fixture(demo: demo, g22: g22))
        }
    }

    func check(_ app: Application, _ document: Data, sender: String? = sender,
               policy: AppConfig.UnsignedPolicy = .refuse) async throws -> SignatureReport {
        try await SignatureCheck(pki: app.pki, unsignedPolicy: policy).check(document, sender: sender)
    }

    @Test func aBoundAgencySignatureIsValid() async throws {
        try await withPKI { app, fixture in
            let report = try await check(app, try fixture.sign(fixture.g22))
            #expect(report.status == "valid")
            #expect(report.agencyCode == Self.sender)
            #expect(report.agencyBound)
            #expect(report.chain.count == 2)
            #expect(report.scheme == "rsa-sha256")
            #expect(report.warnings.contains("demo_trust_anchor"))
        }
    }

    @Test func anotherAgencysCertificateIsRefused() async throws {
        try await withPKI { app, fixture in
            let report = try await check(app, try fixture.sign(fixture.g22), sender: "000.00.00.H41")
            #expect(report.status == "invalid")
            #expect(report.code == "certificate_agency_mismatch")
        }
    }

    @Test func aPersonsCertificateOfTheAgencyDoesNotSignAsItsSeal() async throws {
        try await withPKI { app, fixture in
            // Bound to G22, but as a person's certificate: it may sign ballots, never the agency's envelope.
            let person = try fixture.demo.issuePerson(fullName: "Nguyễn Văn Chuyên Viên", username: "g22.chuyenvien",
                                                      agencyName: "Văn phòng Chính phủ")
            try await app.pki.bind(certificatePEM: person.certificatePEM, agencyCode: Self.sender, kind: "person",
                                   username: "g22.chuyenvien", actor: .commandLine, agencies: AgencyDirectory(db: app.db))
            let report = try await check(app, try fixture.sign(person))
            #expect(report.status == "invalid")
            #expect(report.code == "certificate_not_seal")
            #expect(!report.isAcceptable)
        }
    }

    @Test func anUnboundCertificateIsRefused() async throws {
        try await withPKI { app, fixture in
            let other = try fixture.demo.issueAgency(code: "000.00.00.H41", name: "UBND tỉnh Thanh Hóa")
            let report = try await check(app, try fixture.sign(other), sender: "000.00.00.H41")
            #expect(report.code == "certificate_unbound")
        }
    }

    @Test func noSignatureFollowsThePolicy() async throws {
        try await withPKI { app, _ in
            let refused = try await check(app, Self.sample, policy: .refuse)
            #expect(refused.status == "invalid")
            #expect(refused.code == "signature_missing")
            let warned = try await check(app, Self.sample, policy: .warn)
            #expect(warned.status == "unsigned")
            #expect(warned.warnings == ["signature_missing"])
            #expect(warned.isAcceptable)
        }
    }

    @Test func aChangedByteIsRefused() async throws {
        try await withPKI { app, fixture in
            let signed = String(decoding: try fixture.sign(fixture.g22), as: UTF8.self)
            let tampered = Data(signed.replacingOccurrences(of: "Hà Nội", with: "Hà Nam").utf8)
            #expect(try await check(app, tampered).code == "signature_invalid")
        }
    }

    @Test func anUnknownCAIsRefused() async throws {
        try await withPKI { app, _ in
            let stranger = try DemoPKI()
            let issued = try stranger.issueAgency(code: Self.sender, name: "Giả mạo")
            let signed = try XMLSigner.signEdXML(Self.sample, key: issued.key, certificateChainDER: [issued.certificate.derBytes])
            #expect(try await check(app, signed).code == "certificate_untrusted")
        }
    }

    @Test func anExpiredCertificateIsRefused() async throws {
        try await withPKI { app, fixture in
            let key = try SoftwareSigningKey.generate()
            let expired = try fixture.demo.issue(
                subject: try DistinguishedName { CommonName("Hết hạn"); UserID(Self.sender) }, key: key,
                notBefore: Date(timeIntervalSinceNow: -86400 * 30), notAfter: Date(timeIntervalSinceNow: -86400))
            #expect(try await check(app, try fixture.sign(expired, key: key)).code == "certificate_expired")
        }
    }

    @Test func aCertificateWithoutSigningKeyUsageIsRefused() async throws {
        try await withPKI { app, fixture in
            let key = try SoftwareSigningKey.generate()
            let wrongUsage = try fixture.demo.issue(
                subject: try DistinguishedName { CommonName("Chỉ mã hóa"); UserID(Self.sender) }, key: key,
                notBefore: Date(timeIntervalSinceNow: -60), notAfter: Date(timeIntervalSinceNow: 86400),
                keyUsage: KeyUsage(keyEncipherment: true))
            #expect(try await check(app, try fixture.sign(wrongUsage, key: key)).code == "certificate_key_usage")
        }
    }

    @Test func aLocallyRevokedCertificateIsRefused() async throws {
        try await withPKI { app, fixture in
            let info = CertificateInfo(fixture.g22.certificate)
            try await app.pki.revokeSerial(issuer: info.issuer, serial: info.serialHex, reason: .keyCompromise,
                                           actor: .commandLine)
            let report = try await check(app, try fixture.sign(fixture.g22))
            #expect(report.code == "certificate_revoked")
            #expect(report.revocation.hasPrefix("revoked (local"))
        }
    }

    @Test func twoSignaturesAreRefused() async throws {
        try await withPKI { app, fixture in
            let signed = String(decoding: try fixture.sign(fixture.g22), as: UTF8.self)
            // A second copy of the XML-DSig element, as a wrapping attack would add. (The sample
            // also carries an edXML-namespace <Signature> of the VPCP SDK, which is not XML-DSig.)
            guard let start = signed.range(of: "<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\""),
                  let end = signed.range(of: "</Signature>", options: .backwards) else {
                Issue.record("no signature element")
                return
            }
            let element = String(signed[start.lowerBound..<end.upperBound])
            let doubled = signed.replacingCharacters(in: start.lowerBound..<end.upperBound, with: element + element)
            #expect(try await check(app, Data(doubled.utf8)).code == "signature_multiple")
        }
    }

    @Test func aNonCACertificateCannotBeTrusted() async throws {
        try await withPKI { app, fixture in
            await #expect(throws: GovError.self) {
                try await app.pki.addAnchors(pem: fixture.g22.certificatePEM, source: "test", actor: .commandLine)
            }
        }
    }

    @Test func theDemoCAIsReportedAsDemo() async throws {
        try await withPKI { app, _ in
            let trustsDemo = try await app.pki.trustsDemoCA()
            #expect(trustsDemo)
        }
    }
}

@Suite("PKI admin page")
struct PKIAdminPageTests {
    @Test func systemAdminsManageTrustRevocationAndBindings() async throws {
        try await withTestApp { app in
            let (demo, g22) = SignatureCheckTests.shared
            let admin = TestBrowser(app)
            try await admin.login("admin")
            let empty = try await admin.get("/admin/pki")
            #expect(empty.status == .ok)
            #expect(empty.text.contains("Hạ tầng khóa công khai"))

            let trusted = try await admin.post("/admin/pki/trust", [("pem", demo.root.certificatePEM)])
            #expect(trusted.status == .ok)
            #expect(trusted.text.contains("Đã tin cậy 1 CA."))
            #expect(trusted.text.contains(">MẪU<"))
            // Tests run outside demo mode: the page warns.
            #expect(trusted.text.contains("id=\"demo-warning\""))

            let leaf = try await admin.post("/admin/pki/trust", [("pem", g22.certificatePEM)])
            #expect(leaf.status == .badRequest)
            #expect(leaf.text.contains("certificate_not_ca"))

            let bound = try await admin.post("/admin/pki/bind", [("agency_code", "000.00.00.G22"), ("kind", "agency"),
                                                                 ("username", ""), ("pem", g22.certificatePEM)])
            #expect(bound.status == .ok)
            #expect(bound.text.contains("Đã gắn chứng thư với cơ quan 000.00.00.G22."))

            let info = CertificateInfo(g22.certificate)
            let revoked = try await admin.post("/admin/pki/revoke", [("issuer", info.issuer), ("serial", info.serialHex),
                                                                     ("reason", "keyCompromise")])
            #expect(revoked.status == .ok)
            #expect(revoked.text.contains(info.serialHex))
            let badSerial = try await admin.post("/admin/pki/revoke", [("issuer", info.issuer), ("serial", "xyz"),
                                                                       ("reason", "keyCompromise")])
            #expect(badSerial.status == .badRequest)
            #expect(badSerial.text.contains("serial_invalid"))

            let garbage = try await admin.post("/admin/pki/crl", [("pem", "not a CRL")])
            #expect(garbage.status == .badRequest)
            #expect(garbage.text.contains("crl_invalid"))
        }
    }

    @Test func othersMayNotSeeIt() async throws {
        try await withTestApp { app in
            let agencyAdmin = TestBrowser(app)
            try await agencyAdmin.login("g22.quantri")
            #expect(try await agencyAdmin.get("/admin/pki").status == .forbidden)
            #expect(try await agencyAdmin.post("/admin/pki/trust", [("pem", "x")]).status == .forbidden)
        }
    }
}
