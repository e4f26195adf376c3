import Foundation

/// The client address of a request that may have come through reverse proxies.
///
/// `X-Forwarded-For` is a list each proxy appends its peer to, so only its right-hand end was
/// written by proxies we run: the client is the right-most address, after the socket's peer, that
/// is not one of our trusted proxies. Anything to the left of it was written by the client and
/// may be forged.
public enum ForwardedClient {
    /// The default trusted proxies: a reverse proxy on the same machine.
    public static let loopback: [CIDRBlock] = [CIDRBlock("127.0.0.0/8")!, CIDRBlock("::1")!]

    /// The client address: walks `forwardedFor` (every header value, in order, each a comma-separated
    /// list) followed by `peer` from the right, skipping trusted proxies. When the peer itself is not
    /// trusted, the header is ignored and the peer is the client. An entry that is not an address
    /// stops the walk at the last trusted hop (nothing left of garbage is believed).
    public static func address(peer: String?, forwardedFor: [String], trusted: [CIDRBlock]) -> String? {
        guard let peer else { return nil }
        guard isTrusted(peer, trusted) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        var client = peer
        for hop in hops.reversed() {
            guard IPAddress(hop) != nil else { return client }
            client = hop
            if !isTrusted(hop, trusted) { return hop }
        }
        return client
    }

    /// Whether `address` lies in one of the `trusted` ranges.
    public static func isTrusted(_ address: String, _ trusted: [CIDRBlock]) -> Bool {
        guard let parsed = IPAddress(address) else { return false }
        return trusted.contains { $0.contains(parsed) }
    }
}
