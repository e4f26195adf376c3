import Crypto
import Foundation
import PKI
import SwiftASN1
import Testing
import X509
import _CryptoExtras

@Suite struct SoftwareSigningKeyTests {
    let digest = Array(SHA256.hash(data: Array("GovOffice".utf8)))

    @Test func readsPKCS1AndPKCS8RSAAndSignsPKCS1v15() throws {
        let dir = try TempDir()
        try Tool.openssl(["genrsa", "-traditional", "-out", "pkcs1.pem", "2048"], in: dir.url)
        try Tool.openssl(["pkcs8", "-topk8", "-nocrypt", "-in", "pkcs1.pem", "-out", "pkcs8.pem"], in: dir.url)
        #expect(try dir.text("pkcs1.pem").contains("BEGIN RSA PRIVATE KEY"))
        let a = try SoftwareSigningKey(pem: dir.text("pkcs1.pem"))
        let b = try SoftwareSigningKey(pem: dir.text("pkcs8.pem"))
        #expect(a.scheme == .rsaPKCS1SHA256)
        #expect(a.publicKeyDER == b.publicKeyDER)
        #expect(a.keySizeInBits == 2048)
        let signature = try a.sign(digest: digest)
        let publicKey = try _RSA.Signing.PublicKey(derRepresentation: a.publicKeyDER)
        #expect(publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature),
                                           for: SHA256.hash(data: Array("GovOffice".utf8)), padding: .insecurePKCS1v1_5))
        // Same key through openssl: PKCS#1 v1.5 is deterministic, so the signatures are identical.
        try dir.write("data.bin", "GovOffice")
        let openssl = try Tool.openssl(["dgst", "-sha256", "-sign", "pkcs1.pem", "data.bin"], in: dir.url)
        #expect(Array(openssl) == signature)
        // PEM round trip.
        #expect(try SoftwareSigningKey(pem: a.pemRepresentation).publicKeyDER == a.publicKeyDER)
    }

    @Test func readsSEC1AndPKCS8P256AndReturnsRawRS() throws {
        let dir = try TempDir()
        try Tool.openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "sec1.pem"], in: dir.url)
        try Tool.openssl(["pkcs8", "-topk8", "-nocrypt", "-in", "sec1.pem", "-out", "pkcs8.pem"], in: dir.url)
        #expect(try dir.text("sec1.pem").contains("BEGIN EC PRIVATE KEY"))
        let a = try SoftwareSigningKey(pem: dir.text("sec1.pem"))
        let b = try SoftwareSigningKey(pem: dir.text("pkcs8.pem"))
        #expect(a.scheme == .ecdsaP256SHA256)
        #expect(a.publicKeyDER == b.publicKeyDER)
        let signature = try a.sign(digest: digest)
        #expect(signature.count == 64)
        let publicKey = try P256.Signing.PublicKey(derRepresentation: a.publicKeyDER)
        #expect(publicKey.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: signature),
                                           for: SHA256.hash(data: Array("GovOffice".utf8))))
        #expect(try SoftwareSigningKey(pem: b.pemRepresentation).publicKeyDER == a.publicKeyDER)
    }

    @Test func refusesSmallRSAOtherCurvesAndGarbage() throws {
        let dir = try TempDir()
        try Tool.openssl(["genrsa", "-traditional", "-out", "small.pem", "1024"], in: dir.url)
        try Tool.openssl(["ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", "p384.pem"], in: dir.url)
        try Tool.openssl(["pkcs8", "-topk8", "-nocrypt", "-in", "small.pem", "-out", "small8.pem"], in: dir.url)
        for file in ["small.pem", "small8.pem", "p384.pem"] {
            #expect(throws: SigningError(.keyUnreadable, vi: "", en: "")) { try SoftwareSigningKey(pem: dir.text(file)) }
        }
        #expect(throws: SigningError(.keyUnreadable, vi: "", en: "")) { try SoftwareSigningKey(pem: "not a key") }
        #expect(throws: SigningError(.keyUnreadable, vi: "", en: "")) {
            try SoftwareSigningKey(pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        }
    }

    @Test func generatesAndRefusesBadDigests() throws {
        let key = try SoftwareSigningKey.generate(scheme: .ecdsaP256SHA256)
        #expect(key.scheme == .ecdsaP256SHA256)
        #expect(throws: SigningError(.signingFailed, vi: "", en: "")) { try key.sign(digest: [1, 2, 3]) }
        #expect(throws: SigningError(.unsupportedScheme, vi: "", en: "")) { try SoftwareSigningKey.generate(scheme: .rsaPKCS1SHA1) }
        #expect(!key.description.contains("BEGIN"))
    }
}

@Suite struct BridgeTests {
    @Test func customKeyIssuesCertificateThroughSwiftCertificates() throws {
        let key = CountingKey(inner: try SoftwareSigningKey.generate(.p256))
        let certificate = try sharedDemo.issue(subject: DistinguishedName { CommonName("Token holder") }, key: key,
                                               notBefore: Date(), notAfter: Date().addingTimeInterval(3600))
        // Issuing is signed by the root; now let the custom key sign a certificate of its own.
        let selfSigned = try Certificate(version: .v3, serialNumber: .init(), publicKey: certificate.publicKey,
                                         notValidBefore: Date(), notValidAfter: Date().addingTimeInterval(60),
                                         issuer: certificate.subject, subject: certificate.subject,
                                         signatureAlgorithm: .ecdsaWithSHA256, extensions: Certificate.Extensions(),
                                         issuerPrivateKey: try key.certificatePrivateKey())
        #expect(key.counter.value == 1)
        #expect(selfSigned.publicKey.isValidSignature(selfSigned.signature, for: selfSigned))
        let bridge = try CertificateSigningKey(key)
        #expect(throws: (any Error).self) { try bridge.serializeAsPEM(discriminator: "PRIVATE KEY") }
    }
}
