import Foundation
import PKI
import Testing
import X509

@Suite struct CRLTests {
    @Test func parsesOpenSSLCRLInPEMAndDERAndRevokes() async throws {
        let ca = try OpenSSLCA()
        let (good, _, _) = try ca.issue("Good")
        let (bad, _, badStem) = try ca.issue("Bad")
        try ca.revoke(badStem, reason: "keyCompromise")
        let pem = try ca.crl()
        let der = try ca.crl(der: true)
        let fromPEM = try CRL(bytes: pem)
        let fromDER = try CRL(bytes: der)
        #expect(fromPEM.issuer == ca.certificate.subject)
        #expect(fromDER.entries.count == 1)
        #expect(fromDER.entries[0].reason == .keyCompromise)
        #expect(fromDER.entry(serialNumber: Array(bad.serialNumber.bytes)) != nil)
        #expect(fromDER.entry(serialNumber: Array(good.serialNumber.bytes)) == nil)
        #expect(fromDER.nextUpdate != nil && fromDER.thisUpdate < fromDER.nextUpdate!)
        #expect(fromDER.crlNumber != nil)
        try fromDER.verify(issuer: ca.certificate)

        var store = CRLStore()
        try store.add(fromPEM, trustStore: ca.trustStore)
        let options = ValidationOptions(crls: store)
        let validator = CertificateValidator(trustStore: ca.trustStore, options: options)
        let revoked = await validator.validate(bad)
        #expect(revoked.error == PKIError(.revoked))
        if case .revoked(let reason, let date, let source) = revoked.revocation {
            #expect(reason == .keyCompromise)
            #expect(date != nil)
            #expect(source == .crl)
        } else {
            Issue.record("expected revoked, got \(revoked.revocation)")
        }
        let fine = await validator.validate(good)
        #expect(fine.status == .valid)
        #expect(fine.revocation == .good(source: .crl))
    }

    @Test func keepsTheNewestCRL() throws {
        let ca = try OpenSSLCA()
        let first = try CRL(bytes: ca.crl(der: true))
        let (_, _, stem) = try ca.issue("Later")
        try ca.revoke(stem)
        let second = try CRL(bytes: ca.crl(der: true))
        var store = CRLStore()
        try store.add(second, trustStore: ca.trustStore)
        try store.add(first, trustStore: ca.trustStore)
        #expect(store.crl(issuer: ca.certificate.subject)?.entries.count == 1)
    }

    @Test func invalidCRLs() async throws {
        let ca = try OpenSSLCA(name: "Same Name CA")
        let impostor = try OpenSSLCA(name: "Same Name CA")
        // Malformed.
        #expect(throws: PKIError(.crlInvalid)) { try CRL(bytes: Array("garbage".utf8)) }
        #expect(throws: PKIError(.crlInvalid)) { try CRL(bytes: [0x30, 0x03, 0x02, 0x01, 0x01]) }
        // Bad signature: flip the last byte.
        var der = try ca.crl(der: true)
        der[der.count - 1] ^= 0xff
        let tampered = try CRL(bytes: der)
        #expect(throws: PKIError(.crlInvalid)) { try tampered.verify(issuer: ca.certificate) }
        var store = CRLStore()
        #expect(throws: PKIError(.crlInvalid)) { try store.add(tampered, trustStore: ca.trustStore) }
        // Wrong issuer: same name, other key; and a CA the store does not know.
        let foreign = try CRL(bytes: impostor.crl())
        #expect(throws: PKIError(.crlInvalid)) { try store.add(foreign, trustStore: ca.trustStore) }
        #expect(throws: PKIError(.crlInvalid)) { try store.add(foreign, trustStore: TrustStore()) }
        #expect(throws: PKIError(.crlInvalid)) { try foreign.verify(issuer: sharedDemo.root.certificate) }
    }

    @Test func crlOfAnotherKeyIsRefusedDuringValidation() async throws {
        // A store filled elsewhere (the impostor's trust store) holds a CRL the chain's CA did not sign.
        let ca = try OpenSSLCA(name: "Twin CA")
        let twin = try OpenSSLCA(name: "Twin CA")
        let (leaf, _, _) = try ca.issue("Leaf")
        var store = CRLStore()
        try store.add(CRL(bytes: twin.crl()), trustStore: twin.trustStore)
        let result = await CertificateValidator(trustStore: ca.trustStore, options: ValidationOptions(crls: store)).validate(leaf)
        #expect(result.error == PKIError(.crlInvalid))
    }
}

@Suite struct OCSPTests {
    @Test func goodAndRevokedThroughOpenSSLResponder() async throws {
        let ca = try OpenSSLCA()
        let (good, _, _) = try ca.issue("OCSP Good", extensions: "leaf_ocsp")
        let (bad, _, badStem) = try ca.issue("OCSP Bad", extensions: "leaf_ocsp")
        try ca.revoke(badStem, reason: "superseded")
        let client = TestOCSPClient(ca: ca)
        let validator = CertificateValidator(trustStore: ca.trustStore, options: ValidationOptions(ocsp: client, failureMode: .hard))
        let fine = await validator.validate(good)
        #expect(fine.status == .valid)
        #expect(fine.revocation == .good(source: .ocsp))
        let revoked = await validator.validate(bad)
        #expect(revoked.error == PKIError(.revoked))
        if case .revoked(let reason, let date, let source) = revoked.revocation {
            #expect(reason == .superseded)
            #expect(date != nil)
            #expect(source == .ocsp)
        } else {
            Issue.record("expected revoked, got \(revoked.revocation)")
        }
        #expect(client.counter.value >= 2)
    }

    @Test func unavailableSoftAndHard() async throws {
        let ca = try OpenSSLCA()
        let (leaf, _, _) = try ca.issue("OCSP Leaf", extensions: "leaf_ocsp")
        let down = TestOCSPClient(ca: nil)
        let soft = await CertificateValidator(trustStore: ca.trustStore, options: ValidationOptions(ocsp: down, failureMode: .soft)).validate(leaf)
        #expect(soft.status == .valid)
        if case .unknown = soft.revocation {} else { Issue.record("expected unknown, got \(soft.revocation)") }
        let hard = await CertificateValidator(trustStore: ca.trustStore, options: ValidationOptions(ocsp: down, failureMode: .hard)).validate(leaf)
        #expect(hard.error == PKIError(.ocspUnavailable))
        // A response from a responder that is not the CA is "unavailable" too.
        let other = try OpenSSLCA()
        let wrong = await CertificateValidator(trustStore: ca.trustStore,
                                               options: ValidationOptions(ocsp: TestOCSPClient(ca: other), failureMode: .hard)).validate(leaf)
        #expect(wrong.error == PKIError(.ocspUnavailable))
    }

    @Test func cachingClientReusesNonceFreeResponsesUntilNextUpdate() async throws {
        let ca = try OpenSSLCA()
        let (_, _, stem) = try ca.issue("Cached", extensions: "leaf_ocsp")
        // openssl makes a nonce-free request; its response carries no nonce, so it is cacheable.
        try Tool.openssl(["ocsp", "-issuer", "ca.pem", "-cert", "\(stem).pem", "-no_nonce", "-reqout", "plain.req"], in: ca.dir.url)
        let request = try ca.dir.read("plain.req")
        let upstream = TestOCSPClient(ca: ca)
        let clock = Clock()
        let cache = CachingOCSPClient(upstream, clock: { clock.now })
        for _ in 0..<3 {
            guard case .response = await cache.fetch(request: request, uri: OpenSSLCA.ocspURI) else {
                Issue.record("no response"); return
            }
        }
        #expect(upstream.counter.value == 1)
        clock.now = Date().addingTimeInterval(2 * 86400) // past nextUpdate (-ndays 1)
        _ = await cache.fetch(request: request, uri: OpenSSLCA.ocspURI)
        #expect(upstream.counter.value == 2)
        #expect(await cache.upstreamRequests == 2)
    }
}

final class Clock: @unchecked Sendable {
    private let lock = NSLock()
    private var value = Date()
    var now: Date {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
