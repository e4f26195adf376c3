import ExchangeClient
import Foundation
import Testing

@Suite struct WebhookSignatureTests {
    // Computed independently with Python: hmac.new(b"webhook-secret-0123456789",
    // b"v2\n1795421700\n6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f\ndocument\n42\n" + body, hashlib.sha256).hexdigest()
    static let body = Data(#"<?xml version="1.0" encoding="UTF-8"?><edXML><Header>Văn bản</Header></edXML>"#.utf8)
    static let secret = "webhook-secret-0123456789"
    static let timestamp = 1_795_421_700
    static let expected = "v2=180db8ab04d84e75308582166565fa9a8e7b578f95888f3d706dfc94d6e2bfc3"
    static let envelope = WebhookSignature.Envelope(messageID: "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f", kind: "document", sequence: "42")
    static let now = Date(timeIntervalSince1970: TimeInterval(timestamp + 10))

    @Test func knownVector() {
        #expect(WebhookSignature.sign(body: Self.body, secret: Self.secret, timestamp: Self.timestamp, envelope: Self.envelope) == Self.expected)
        // hmac.new(b"key", b"v2\n0\n\n\n\n", hashlib.sha256): an empty body still binds the timestamp.
        #expect(WebhookSignature.sign(body: Data(), secret: "key", timestamp: 0,
                                      envelope: .init(messageID: "", kind: "", sequence: ""))
            == "v2=25295851c7a3c83c0c72192dbb78dfdf116b7ee569ba15e07489665990880040")
    }

    @Test func verifiesItsOwnSignature() {
        #expect(WebhookSignature.verify(body: Self.body, secret: Self.secret, timestamp: Self.timestamp, envelope: Self.envelope,
                                        header: Self.expected, now: Self.now))
        // Upper-case hex and surrounding spaces are the same signature.
        #expect(WebhookSignature.verify(body: Self.body, secret: Self.secret, timestamp: Self.timestamp, envelope: Self.envelope,
                                        header: "  " + Self.expected.uppercased() + " ", now: Self.now))
    }

    @Test func wrongSecretRefused() {
        #expect(!WebhookSignature.verify(body: Self.body, secret: "webhook-secret-0123456780", timestamp: Self.timestamp, envelope: Self.envelope,
                                         header: Self.expected, now: Self.now))
        #expect(!WebhookSignature.verify(body: Self.body, secret: "", timestamp: Self.timestamp, envelope: Self.envelope,
                                         header: WebhookSignature.sign(body: Self.body, secret: "", timestamp: Self.timestamp, envelope: Self.envelope),
                                         now: Self.now))
    }

    @Test func tamperedBodyRefused() {
        var body = Self.body
        body[body.startIndex + 10] ^= 0x01
        #expect(!WebhookSignature.verify(body: body, secret: Self.secret, timestamp: Self.timestamp, envelope: Self.envelope,
                                         header: Self.expected, now: Self.now))
        #expect(!WebhookSignature.verify(body: Self.body + Data(" ".utf8), secret: Self.secret, timestamp: Self.timestamp, envelope: Self.envelope,
                                         header: Self.expected, now: Self.now))
    }

    @Test func otherTimestampRefused() {
        // Same body and secret, but the signature was made for another time: a replay with a fresh header.
        #expect(!WebhookSignature.verify(body: Self.body, secret: Self.secret, timestamp: Self.timestamp + 1, envelope: Self.envelope,
                                         header: Self.expected, now: Self.now))
    }

    @Test func staleAndFutureTimestampsRefused() {
        let signedAt = Date(timeIntervalSince1970: TimeInterval(Self.timestamp))
        #expect(WebhookSignature.verify(body: Self.body, secret: Self.secret, timestamp: Self.timestamp, envelope: Self.envelope,
                                        header: Self.expected, now: signedAt.addingTimeInterval(300)))
        #expect(!WebhookSignature.verify(body: Self.body, secret: Self.secret, timestamp: Self.timestamp, envelope: Self.envelope,
                                         header: Self.expected, now: signedAt.addingTimeInterval(301)))
        #expect(!WebhookSignature.verify(body: Self.body, secret: Self.secret, timestamp: Self.timestamp, envelope: Self.envelope,
                                         header: Self.expected, now: signedAt.addingTimeInterval(-301)))
        #expect(!WebhookSignature.verify(body: Self.body, secret: Self.secret, timestamp: Self.timestamp, envelope: Self.envelope,
                                         header: Self.expected, now: signedAt.addingTimeInterval(61), tolerance: .seconds(60)))
    }

    @Test(arguments: [
        "",
        "v2=",
        "180db8ab04d84e75308582166565fa9a8e7b578f95888f3d706dfc94d6e2bfc3",
        // The same MAC under another scheme name: the first scheme is not accepted any more.
        "sha256=180db8ab04d84e75308582166565fa9a8e7b578f95888f3d706dfc94d6e2bfc3",
        "v1=180db8ab04d84e75308582166565fa9a8e7b578f95888f3d706dfc94d6e2bfc3",
        "v2=180db8ab04d84e75308582166565fa9a8e7b578f95888f3d706dfc94d6e2bfc",
        "v2=180db8ab04d84e75308582166565fa9a8e7b578f95888f3d706dfc94d6e2bfc300",
        "v2=180db8ab04d84e75308582166565fa9a8e7b578f95888f3d706dfc94d6e2bfcz",
        "v2=180db8ab04d84e75308582166565fa9a8e7b578f95888f3d706dfc94d6e2bfc\u{00E9}",
        "v2=180db8ab04d84e75308582166565fa9a 7b578f95888f3d706dfc94d6e2bfc3",
        "t=1795421700,v2=180db8ab04d84e75308582166565fa9a8e7b578f95888f3d706dfc94d6e2bfc3",
    ])
    func malformedHeaderRefused(header: String) {
        #expect(!WebhookSignature.verify(body: Self.body, secret: Self.secret, timestamp: Self.timestamp, envelope: Self.envelope,
                                         header: header, now: Self.now))
    }

    @Test("A push replayed under another message id, kind or sequence fails verification")
    func changedEnvelopeRefused() {
        for changed in [
            WebhookSignature.Envelope(messageID: "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e50", kind: "document", sequence: "42"),
            WebhookSignature.Envelope(messageID: "6F1C2D3E-4A5B-4C6D-8E7F-0A1B2C3D4E5F", kind: "document", sequence: "42"),
            WebhookSignature.Envelope(messageID: "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f", kind: "status", sequence: "42"),
            WebhookSignature.Envelope(messageID: "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f", kind: "document", sequence: "43"),
            WebhookSignature.Envelope(messageID: "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f", kind: "document", sequence: "042"),
            // Moving the separator between fields must not give the same signed bytes.
            WebhookSignature.Envelope(messageID: "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f\ndocument", kind: "", sequence: "42"),
        ] {
            #expect(!WebhookSignature.verify(body: Self.body, secret: Self.secret, timestamp: Self.timestamp, envelope: changed,
                                             header: Self.expected, now: Self.now), "\(changed)")
        }
        #expect(WebhookSignature.verify(body: Self.body, secret: Self.secret, timestamp: Self.timestamp, envelope: Self.envelope,
                                        header: Self.expected, now: Self.now))
    }

    @Test func headerNames() {
        #expect(WebhookSignature.signatureHeader == "X-GovOffice-Signature")
        #expect(WebhookSignature.timestampHeader == "X-GovOffice-Timestamp")
        #expect(WebhookSignature.messageIDHeader == "X-GovOffice-Message-Id")
        #expect(WebhookSignature.sequenceHeader == "X-GovOffice-Sequence")
        #expect(WebhookSignature.kindHeader == "X-GovOffice-Kind")
    }
}
