import Crypto
import Foundation

/// The signature of the hub's webhook pushes, scheme 2: `X-GovOffice-Signature: v2=<hex>` where
/// hex is HMAC-SHA256 keyed with the webhook secret over
///
///     "v2\n" + timestamp + "\n" + message id + "\n" + kind + "\n" + sequence + "\n" + body
///
/// (the values of `X-GovOffice-Timestamp`, `-Message-Id`, `-Kind` and `-Sequence` as sent). Every
/// header a receiver acts on is covered, so a captured push cannot be replayed under another message
/// id or sequence to slip past the receiver's duplicate check. The `v2=` prefix names the scheme;
/// the first scheme (`sha256=`, timestamp and body only) is no longer sent nor accepted. The hub
/// signs with `sign`; agency systems check every push with `verify` before trusting it, then refuse
/// replays as docs/exchange.md describes (time window, remembered message ids and sequences).
public enum WebhookSignature {
    /// The header carrying the signature.
    public static let signatureHeader = "X-GovOffice-Signature"
    /// The header carrying the signing time in unix seconds.
    public static let timestampHeader = "X-GovOffice-Timestamp"
    /// The header carrying the pushed message's id.
    public static let messageIDHeader = "X-GovOffice-Message-Id"
    /// The header carrying the pushed message's inbox sequence.
    public static let sequenceHeader = "X-GovOffice-Sequence"
    /// The header carrying the pushed message's kind (`document` or `status`).
    public static let kindHeader = "X-GovOffice-Kind"
    /// The scheme prefix of the signature header's value.
    public static let scheme = "v2"

    /// The pushed values a signature binds besides the body: what the receiver reads from the
    /// `X-GovOffice-Message-Id`, `-Kind` and `-Sequence` headers.
    public struct Envelope: Sendable, Hashable {
        /// The message id, exactly as in `X-GovOffice-Message-Id` (the hub sends lower case).
        public var messageID: String
        /// `document` or `status`, as in `X-GovOffice-Kind`.
        public var kind: String
        /// The recipient's inbox sequence, as in `X-GovOffice-Sequence`.
        public var sequence: String

        /// An envelope of the three header values as sent or received.
        public init(messageID: String, kind: String, sequence: String) {
            self.messageID = messageID
            self.kind = kind
            self.sequence = sequence
        }
    }

    /// The header value for `body` pushed at `timestamp` (unix seconds) with `envelope`: `v2=` and
    /// 64 lower-case hex digits. The timestamp is inside the MAC so a captured push cannot be
    /// replayed later with a fresh time.
    public static func sign(body: Data, secret: String, timestamp: Int, envelope: Envelope) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: signedBytes(body: body, timestamp: timestamp, envelope: envelope),
                                                  using: SymmetricKey(data: Data(secret.utf8)))
        return scheme + "=" + ExchangeClient.hex(mac)
    }

    /// Whether `header` is a valid signature of `body` and `envelope` at `timestamp` with `secret`,
    /// and `timestamp` is within `tolerance` of `now` (either side, for clock skew). Refuses an empty
    /// secret, a malformed header (anything but `v2=` and 64 hex digits, case-insensitive), header
    /// values containing a line feed (they would blur the signed fields) and stale or future times;
    /// the MAC comparison is constant-time so timing does not reveal how much matched.
    public static func verify(body: Data, secret: String, timestamp: Int, envelope: Envelope, header: String,
                              now: Date = Date(), tolerance: Duration = .seconds(300)) -> Bool {
        guard !secret.isEmpty else { return false }
        guard ![envelope.messageID, envelope.kind, envelope.sequence].contains(where: { $0.contains("\n") }) else { return false }
        let (seconds, attoseconds) = tolerance.components
        let allowed = Double(seconds) + Double(attoseconds) / 1e18
        guard allowed >= 0, abs(now.timeIntervalSince1970 - Double(timestamp)) <= allowed else { return false }
        guard let mac = parse(header) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: signedBytes(body: body, timestamp: timestamp, envelope: envelope),
                                                      using: SymmetricKey(data: Data(secret.utf8)))
    }

    private static func signedBytes(body: Data, timestamp: Int, envelope: Envelope) -> Data {
        var data = Data("\(scheme)\n\(timestamp)\n\(envelope.messageID)\n\(envelope.kind)\n\(envelope.sequence)\n".utf8)
        data.append(body)
        return data
    }

    /// The 32 MAC bytes of `v2=<64 hex>`, nil for anything else.
    private static func parse(_ header: String) -> [UInt8]? {
        let text = header.trimmingCharacters(in: .whitespaces)
        let prefix = scheme + "="
        guard text.count == prefix.count + 64, text.lowercased().hasPrefix(prefix) else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        var high: UInt8?
        for scalar in text.unicodeScalars.dropFirst(prefix.count) {
            let nibble: UInt8
            switch scalar.value {
            case 0x30...0x39: nibble = UInt8(scalar.value - 0x30)
            case 0x61...0x66: nibble = UInt8(scalar.value - 0x61 + 10)
            case 0x41...0x46: nibble = UInt8(scalar.value - 0x41 + 10)
            default: return nil
            }
            if let h = high {
                bytes.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return bytes.count == 32 ? bytes : nil
    }
}
