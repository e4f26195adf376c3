import ExchangeClient
import Foundation
import Testing

@Suite struct WebhookSignatureTests {
    // Computed independently with Python:
    // hmac.new(b"webhook-secret-0123456789", b"1795421700." + body, hashlib.sha256).hexdigest()
    static let body = Data(#"<?xml version="1.0" encoding="UTF-8"?><edXML><Header>Văn bản</Header></edXML>"#.utf8)
    static let secret = "webhook-secret-0123456789"
    static let timestamp = 1_795_421_700
    static let expected = "sha256=99da23233525db27c467f6fd52c2a6e204fade79b59080dfb80aafd27110b2cd"
    static let now = Date(timeIntervalSince1970: TimeInterval(timestamp + 10))

    @Test func knownVector() {
        #expect(WebhookSignature.sign(body: Self.body, secret: Self.secret, timestamp: Self.timestamp) == Self.expected)
        // hmac.new(b"key", b"0.", hashlib.sha256): an empty body still binds the timestamp.
        #expect(WebhookSignature.sign(body: Data(), secret: "key", timestamp: 0)
            == "sha256=85841b4efc3cd7776c3c8f9b7cca9e281c550e5d19889d78e9e669c6337f000d")
    }

    @Test func verifiesItsOwnSignature() {
        #expect(WebhookSignature.verify(body: Self.body, secret: Self.secret, timestamp: Self.timestamp,
                                        header: Self.expected, now: Self.now))
        // Upper-case hex and surrounding spaces are the same signature.
        #expect(WebhookSignature.verify(body: Self.body, secret: Self.secret, timestamp: Self.timestamp,
                                        header: "  " + Self.expected.uppercased() + " ", now: Self.now))
    }

    @Test func wrongSecretRefused() {
        #expect(!WebhookSignature.verify(body: Self.body, secret: "webhook-secret-0123456780", timestamp: Self.timestamp,
                                         header: Self.expected, now: Self.now))
        #expect(!WebhookSignature.verify(body: Self.body, secret: "", timestamp: Self.timestamp,
                                         header: WebhookSignature.sign(body: Self.body, secret: "", timestamp: Self.timestamp),
                                         now: Self.now))
    }

    @Test func tamperedBodyRefused() {
        var body = Self.body
        body[body.startIndex + 10] ^= 0x01
        #expect(!WebhookSignature.verify(body: body, secret: Self.secret, timestamp: Self.timestamp,
                                         header: Self.expected, now: Self.now))
        #expect(!WebhookSignature.verify(body: Self.body + Data(" ".utf8), secret: Self.secret, timestamp: Self.timestamp,
                                         header: Self.expected, now: Self.now))
    }

    @Test func otherTimestampRefused() {
        // Same body and secret, but the signature was made for another time: a replay with a fresh header.
        #expect(!WebhookSignature.verify(body: Self.body, secret: Self.secret, timestamp: Self.timestamp + 1,
                                         header: Self.expected, now: Self.now))
    }

    @Test func staleAndFutureTimestampsRefused() {
        let signedAt = Date(timeIntervalSince1970: TimeInterval(Self.timestamp))
        #expect(WebhookSignature.verify(body: Self.body, secret: Self.secret, timestamp: Self.timestamp,
                                        header: Self.expected, now: signedAt.addingTimeInterval(300)))
        #expect(!WebhookSignature.verify(body: Self.body, secret: Self.secret, timestamp: Self.timestamp,
                                         header: Self.expected, now: signedAt.addingTimeInterval(301)))
        #expect(!WebhookSignature.verify(body: Self.body, secret: Self.secret, timestamp: Self.timestamp,
                                         header: Self.expected, now: signedAt.addingTimeInterval(-301)))
        #expect(!WebhookSignature.verify(body: Self.body, secret: Self.secret, timestamp: Self.timestamp,
                                         header: Self.expected, now: signedAt.addingTimeInterval(61), tolerance: .seconds(60)))
    }

    @Test(arguments: [
        "",
        "sha256=",
        "99da23233525db27c467f6fd52c2a6e204fade79b59080dfb80aafd27110b2cd",
        "sha1=99da23233525db27c467f6fd52c2a6e204fade79b59080dfb80aafd27110b2cd",
        "sha256=99da23233525db27c467f6fd52c2a6e204fade79b59080dfb80aafd27110b2c",
        "sha256=99da23233525db27c467f6fd52c2a6e204fade79b59080dfb80aafd27110b2cd00",
        "sha256=99da23233525db27c467f6fd52c2a6e204fade79b59080dfb80aafd27110b2cz",
        "sha256=99da23233525db27c467f6fd52c2a6e204fade79b59080dfb80aafd27110b2c\u{00E9}",
        "sha256=99da23233525db27c467f6fd52c2a6e2 4fade79b59080dfb80aafd27110b2cd",
        "t=1795421700,v1=99da23233525db27c467f6fd52c2a6e204fade79b59080dfb80aafd27110b2cd",
    ])
    func malformedHeaderRefused(header: String) {
        #expect(!WebhookSignature.verify(body: Self.body, secret: Self.secret, timestamp: Self.timestamp,
                                         header: header, now: Self.now))
    }

    @Test func headerNames() {
        #expect(WebhookSignature.signatureHeader == "X-GovOffice-Signature")
        #expect(WebhookSignature.timestampHeader == "X-GovOffice-Timestamp")
        #expect(WebhookSignature.messageIDHeader == "X-GovOffice-Message-Id")
        #expect(WebhookSignature.sequenceHeader == "X-GovOffice-Sequence")
        #expect(WebhookSignature.kindHeader == "X-GovOffice-Kind")
    }
}
