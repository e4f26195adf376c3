import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address range in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`), or a single
/// address (`192.0.2.7`, `::1`), as operators write them in configuration lists.
///
/// Addresses are read by the C library's `inet_pton`, never by hand. An IPv4-mapped IPv6 address
/// (`::ffff:192.0.2.7`, what a dual-stack socket reports for an IPv4 peer) matches IPv4 ranges.
public struct IPAddressRange: Sendable, Hashable, CustomStringConvertible {
    /// The network address, 4 or 16 bytes, with the host bits cleared.
    public let network: [UInt8]
    /// How many leading bits are fixed (0…32 for IPv4, 0…128 for IPv6).
    public let prefixLength: Int

    /// Reads `10.0.0.0/8`, `::1/128` or a bare address (a range of one). Nil when the address or the
    /// prefix length is not valid; host bits set beyond the prefix are cleared (`10.1.2.3/8` is `10.0.0.0/8`).
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = Self.parseAddress(String(parts[0])) else { return nil }
        let maxBits = address.count * 8
        var length = maxBits
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].allSatisfy(\.isASCIIDigit), let bits = Int(parts[1]), bits <= maxBits else {
                return nil
            }
            length = bits
        }
        prefixLength = length
        network = Self.masked(address, bits: length)
    }

    /// Reads a comma-separated list (`127.0.0.0/8, ::1`); nil when any entry is not a range. An empty
    /// text is an empty list.
    public static func parseList(_ text: String) -> [IPAddressRange]? {
        var ranges: [IPAddressRange] = []
        for entry in text.split(separator: ",") {
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let range = IPAddressRange(trimmed) else { return nil }
            ranges.append(range)
        }
        return ranges
    }

    /// The loopback ranges, `127.0.0.0/8` and `::1`.
    public static let loopback: [IPAddressRange] = [IPAddressRange("127.0.0.0/8")!, IPAddressRange("::1")!]

    /// Whether `address` (text, as a socket or a proxy header reports it) lies in this range. An
    /// unreadable address lies in no range.
    public func contains(_ address: String) -> Bool {
        guard let bytes = Self.parseAddress(address) else { return false }
        return contains(bytes: bytes)
    }

    /// Whether the 4- or 16-byte `bytes` lie in this range.
    public func contains(bytes: [UInt8]) -> Bool {
        var candidate = bytes
        if candidate.count == 16, network.count == 4, let v4 = Self.unmappedIPv4(candidate) { candidate = v4 }
        guard candidate.count == network.count else { return false }
        return Self.masked(candidate, bits: prefixLength) == network
    }

    /// `network/prefixLength`, with the address in its standard text form.
    public var description: String {
        "\(Self.format(network) ?? "?")/\(prefixLength)"
    }

    /// The 4 (IPv4) or 16 (IPv6) bytes of an address in text form; nil when it is neither. IPv6
    /// zone ids (`fe80::1%eth0`) and brackets (`[::1]`) are accepted and dropped.
    public static func parseAddress(_ text: String) -> [UInt8]? {
        var text = text.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let percent = text.firstIndex(of: "%") { text = String(text[..<percent]) }
        guard !text.isEmpty, text.utf8.count < 64 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    /// The text form of 4 or 16 address bytes.
    static func format(_ bytes: [UInt8]) -> String? {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        guard ok else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func unmappedIPv4(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.prefix(10).allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff else { return nil }
        return Array(bytes[12...])
    }

    private static func masked(_ bytes: [UInt8], bits: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let fixed = max(0, min(8, bits - index * 8))
            return fixed == 8 ? byte : byte & ~(UInt8(0xff) >> fixed)
        }
    }
}

/// The client address of a request that may have come through reverse proxies.
///
/// `X-Forwarded-For` is a list each proxy appends its peer to, so only its right-hand end was
/// written by proxies we run: the client is the right-most address, after the socket's peer, that
/// is not one of our trusted proxies. Anything to the left of it was written by the client and
/// may be forged.
public enum ForwardedClient {
    /// The client address: walks `forwardedFor` (every header value, in order, each a comma-separated
    /// list) followed by `peer` from the right, skipping trusted proxies. When the peer itself is not
    /// trusted, the header is ignored and the peer is the client. An entry that is not an address
    /// stops the walk at the last trusted hop (nothing left of garbage is believed).
    public static func address(peer: String?, forwardedFor: [String], trusted: [IPAddressRange]) -> String? {
        guard let peer else { return nil }
        guard isTrusted(peer, trusted) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        var client = peer
        for hop in hops.reversed() {
            guard IPAddressRange.parseAddress(hop) != nil else { return client }
            client = hop
            if !isTrusted(hop, trusted) { return hop }
        }
        return client
    }

    /// Whether `address` lies in one of the `trusted` ranges.
    public static func isTrusted(_ address: String, _ trusted: [IPAddressRange]) -> Bool {
        trusted.contains { $0.contains(address) }
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
