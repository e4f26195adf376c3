import Crypto
import Foundation
import PKI
import Testing
import X509

@Suite struct TrustStoreTests {
    @Test func loadsFolderWithSeveralCertificatesPerFileAndDER() throws {
        let a = try OpenSSLCA(name: "CA A")
        let other = try DemoPKI(keyKind: .p256)
        let dir = try TempDir()
        try dir.write("bundle.pem", try a.dir.text("ca.pem") + "\n" + other.root.certificatePEM)
        try Tool.openssl(["x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.crt"], in: a.dir.url)
        try dir.write("a.crt", try a.dir.read("ca.crt"))
        try dir.write("notes.txt", "ignored")
        var store = TrustStore()
        try store.load(folder: dir.url)
        #expect(store.certificates.count == 2) // the DER copy of CA A is not duplicated
        #expect(store.roots.count == 2)
        #expect(store.isDemo(other.root.certificate))
        #expect(!store.isDemo(a.certificate))
        let fingerprint = CertificateInfo(a.certificate).sha256Fingerprint
        let removed = store.remove(fingerprint: fingerprint.uppercased())
        #expect(removed)
        #expect(store.certificates == [other.root.certificate])
        let removedAgain = store.remove(fingerprint: fingerprint)
        #expect(!removedAgain)
        try store.add(pem: store.pemRepresentation)
        #expect(store.certificates.count == 1)
    }

    @Test func malformedFileFailsAndLeavesStoreUnchanged() throws {
        let dir = try TempDir()
        try dir.write("good.pem", sharedDemo.root.certificatePEM)
        try dir.write("z-bad.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        var store = TrustStore()
        #expect(throws: PKIError(.malformed)) { try store.load(folder: dir.url) }
        #expect(store.certificates.isEmpty)
    }

    @Test func demoFlagByMarkOrByOrganisation() throws {
        let ca = try OpenSSLCA(name: "Plain CA")
        var store = TrustStore()
        store.add(ca.certificate, demo: true)
        #expect(store.anchors[0].isDemo)
        #expect(TrustStore.looksLikeDemo(sharedDemo.root.certificate))
        #expect(!TrustStore.looksLikeDemo(ca.certificate))
    }
}

@Suite struct CertificateInfoTests {
    @Test func readsNamesAgencyCodeAndFingerprint() throws {
        let issued = try sharedDemo.issueAgency(code: "000.00.00.G22", name: "Văn phòng Chính phủ")
        let info = CertificateInfo(issued.certificate)
        #expect(info.commonName == "Văn phòng Chính phủ")
        #expect(info.organization == "Văn phòng Chính phủ")
        #expect(info.agencyCode == "000.00.00.G22")
        #expect(info.issuerCommonName == "GovOffice Demo Root CA")
        #expect(info.keyAlgorithm == "ECDSA P-256")
        #expect(info.serialHex == Array(issued.certificate.serialNumber.bytes).map { String(format: "%02x", $0) }.joined())
        // Fingerprint and serial agree with openssl.
        let dir = try TempDir()
        try dir.write("c.pem", issued.certificatePEM)
        let fp = String(decoding: try Tool.openssl(["x509", "-in", "c.pem", "-noout", "-fingerprint", "-sha256"], in: dir.url), as: UTF8.self)
        #expect(fp.lowercased().filter { $0 != ":" }.contains(info.sha256Fingerprint))
        let serial = String(decoding: try Tool.openssl(["x509", "-in", "c.pem", "-noout", "-serial"], in: dir.url), as: UTF8.self)
        #expect(serial.lowercased().contains(info.serialHex.drop { $0 == "0" }))
        let subject = String(decoding: try Tool.openssl(["x509", "-in", "c.pem", "-noout", "-subject", "-nameopt", "RFC2253"], in: dir.url), as: UTF8.self)
        #expect(subject.contains("UID=000.00.00.G22"))
    }

    @Test func personUIDIsNotAnAgencyCode() throws {
        let person = try sharedDemo.issuePerson(fullName: "Nguyễn Văn An", username: "an.nv", agencyName: "Bộ Nội vụ", unit: "Văn phòng")
        let info = CertificateInfo(person.certificate)
        #expect(info.commonName == "Nguyễn Văn An")
        #expect(info.uid == "an.nv")
        #expect(info.agencyCode == nil)
        #expect(info.organization == "Bộ Nội vụ")
        #expect(info.organizationalUnit == "Văn phòng")
        #expect(CertificateInfo.isAgencyCode("000.00.00.H41"))
        #expect(!CertificateInfo.isAgencyCode("000.00.00"))
    }
}
