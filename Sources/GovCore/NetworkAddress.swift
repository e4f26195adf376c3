import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address, held as its 4 or 16 network-order bytes.
///
/// Text is parsed by the C library's `inet_pton`, which accepts only the canonical forms
/// (dotted-quad decimal for IPv4): the legacy forms `getaddrinfo` also accepts ("127.1",
/// "0x7f000001", "2130706433") are names here, and a name is classified by what it resolves to.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    /// The address with these bytes; nil unless there are 4 or 16.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses `1.2.3.4`, `::1`, `::ffff:1.2.3.4` and a bracketed `[::1]` as found in URLs. A zone
    /// (`fe80::1%eth0`) is refused: it only makes sense on link-local addresses, which are refused anyway.
    public init?(_ text: String) {
        var text = text
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        guard !text.isEmpty, !text.contains("%") else { return nil }
        if text.contains(":") {
            var raw = in6_addr()
            guard inet_pton(AF_INET6, text, &raw) == 1 else { return nil }
            bytes = withUnsafeBytes(of: &raw) { Array($0) }
        } else {
            var raw = in_addr()
            guard inet_pton(AF_INET, text, &raw) == 1 else { return nil }
            bytes = withUnsafeBytes(of: &raw) { Array($0) }
        }
    }

    /// Whether this is an IPv4 address.
    public var isIPv4: Bool { bytes.count == 4 }

    /// The canonical text (`inet_ntop`), without brackets.
    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = isIPv4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return bytes.map(String.init).joined(separator: ".") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The IPv4 address inside an IPv6 form that reaches it: IPv4-mapped (`::ffff:a.b.c.d`),
    /// IPv4-compatible (`::a.b.c.d`, deprecated but still routed by some stacks), NAT64
    /// (`64:ff9b::a.b.c.d`) and 6to4 (`2002:aabb:ccdd::`). Nil for IPv4 and other IPv6 addresses.
    public var embeddedIPv4: IPAddress? {
        guard bytes.count == 16 else { return nil }
        let zeros10 = bytes[0..<10].allSatisfy { $0 == 0 }
        if zeros10, bytes[10] == 0xff, bytes[11] == 0xff { return IPAddress(bytes: Array(bytes[12..<16])) }
        // `::` and `::1` are IPv6's own unspecified and loopback addresses, not IPv4-compatible ones.
        if zeros10, bytes[10] == 0, bytes[11] == 0, bytes[12..<15].contains(where: { $0 != 0 }) {
            return IPAddress(bytes: Array(bytes[12..<16]))
        }
        if bytes[0..<12] == [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0][...] {
            return IPAddress(bytes: Array(bytes[12..<16]))
        }
        if bytes[0] == 0x20, bytes[1] == 0x02 { return IPAddress(bytes: Array(bytes[2..<6])) }
        return nil
    }
}

/// A block of addresses written `address/prefix` (`10.0.0.0/8`, `fd00::/8`); a bare address is a
/// block of one. An IPv4 block also holds the IPv4-mapped IPv6 forms of its addresses.
public struct CIDRBlock: Hashable, Sendable, CustomStringConvertible {
    /// The first address of the block (host bits cleared).
    public let network: IPAddress
    /// How many leading bits are fixed.
    public let prefixLength: Int

    /// Parses `a.b.c.d/n` (n 0…32), `v6/n` (n 0…128) or a bare address. Host bits after the prefix
    /// are cleared, so `10.1.2.3/8` is `10.0.0.0/8`.
    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let address = IPAddress(String(parts[0])) else { return nil }
        let width = address.bytes.count * 8
        var length = width
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].allSatisfy(\.isASCII), parts[1].allSatisfy(\.isNumber),
                  parts[1].count <= 3, let parsed = Int(parts[1]), (0...width).contains(parsed) else { return nil }
            length = parsed
        }
        self.init(network: address, prefixLength: length)
    }

    /// The block of `network`'s first `prefixLength` bits.
    public init(network: IPAddress, prefixLength: Int) {
        let width = network.bytes.count * 8
        let length = max(0, min(prefixLength, width))
        self.network = IPAddress(bytes: Self.masked(network.bytes, length)) ?? network
        self.prefixLength = length
    }

    /// Whether `address` lies in the block (through its IPv4-mapped form for an IPv4 block).
    public func contains(_ address: IPAddress) -> Bool {
        var candidate = address
        if network.isIPv4, !address.isIPv4 {
            guard address.bytes[0..<10].allSatisfy({ $0 == 0 }), address.bytes[10] == 0xff, address.bytes[11] == 0xff,
                  let inner = IPAddress(bytes: Array(address.bytes[12..<16])) else { return false }
            candidate = inner
        }
        guard candidate.bytes.count == network.bytes.count else { return false }
        return Self.masked(candidate.bytes, prefixLength) == network.bytes
    }

    /// `network/prefix`.
    public var description: String { "\(network)/\(prefixLength)" }

    /// A comma-separated list (`GOVOFFICE_WEBHOOK_ALLOW`); spaces and empty items are ignored.
    /// Throws `CIDRListError` naming the first entry that is not a block.
    public static func parseList(_ text: String) throws(CIDRListError) -> [CIDRBlock] {
        var blocks: [CIDRBlock] = []
        for item in text.split(separator: ",") {
            let entry = item.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty { continue }
            guard let block = CIDRBlock(entry) else { throw CIDRListError(entry: entry) }
            blocks.append(block)
        }
        return blocks
    }

    private static func masked(_ bytes: [UInt8], _ length: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bitsHere = max(0, min(8, length - index * 8))
            return bitsHere == 8 ? byte : byte & UInt8(truncatingIfNeeded: 0xff << (8 - bitsHere))
        }
    }
}

/// An entry of a CIDR list that is not an address block.
public struct CIDRListError: Error, Sendable, Equatable {
    /// The offending entry, as written.
    public let entry: String

    /// The error for `entry`.
    public init(entry: String) { self.entry = entry }
}

/// Where an address leads, for deciding whether the hub may connect to it on an agency's behalf.
/// The raw value is the suffix of the refusal code (`webhook_address_<raw>`).
public enum AddressCategory: String, Sendable, CaseIterable {
    /// A routable public address.
    case publicAddress = "public"
    /// The hub's own machine: 127.0.0.0/8, ::1.
    case loopback
    /// Private networks: 10/8, 172.16/12, 192.168/16, CGNAT 100.64/10, unique-local fc00::/7,
    /// deprecated site-local fec0::/10.
    case `private`
    /// Link-local: 169.254/16 (cloud metadata services live at 169.254.169.254), fe80::/10.
    case linkLocal = "link_local"
    /// 0.0.0.0/8, `::`: "this host" on many stacks.
    case unspecified
    /// 224/4, ff00::/8.
    case multicast
    /// 255.255.255.255.
    case broadcast
    /// Reserved for future use (240/4) or for the IETF's own protocols (192.0.0.0/24).
    case reserved
    /// One of the hub's own interface or listening addresses.
    case own
}

/// Classifies addresses and decides which ones an outgoing connection made for someone else (a
/// webhook push) may reach: public addresses, and whatever the operator lists in `allowed`;
/// never unspecified, multicast or broadcast addresses.
public struct AddressPolicy: Sendable {
    /// Blocks the operator opened (`GOVOFFICE_WEBHOOK_ALLOW`): agency systems on the government's
    /// private network, the test harnesses' loopback receivers.
    public var allowed: [CIDRBlock]
    /// The hub's own addresses (its interfaces, what it listens on).
    public var ownAddresses: Set<IPAddress>

    /// A policy opening `allowed` and refusing `ownAddresses`.
    public init(allowed: [CIDRBlock] = [], ownAddresses: Set<IPAddress> = []) {
        self.allowed = allowed
        self.ownAddresses = ownAddresses
    }

    /// What kind of address this is by its numbers alone; IPv6 forms that carry an IPv4 address
    /// (mapped, compatible, NAT64, 6to4) are the IPv4 address's category.
    public static func category(of address: IPAddress) -> AddressCategory {
        if let inner = address.embeddedIPv4 { return category(of: inner) }
        let b = address.bytes
        if address.isIPv4 {
            switch b[0] {
            case 0: return .unspecified
            case 10: return .private
            case 127: return .loopback
            case 100 where b[1] & 0xc0 == 64: return .private
            case 169 where b[1] == 254: return .linkLocal
            case 172 where b[1] & 0xf0 == 16: return .private
            case 192 where b[1] == 168: return .private
            case 192 where b[1] == 0 && b[2] == 0: return .reserved
            case 224...239: return .multicast
            case 255 where b == [255, 255, 255, 255]: return .broadcast
            case 240...255: return .reserved
            default: return .publicAddress
            }
        }
        if b.allSatisfy({ $0 == 0 }) { return .unspecified }
        if b[0..<15].allSatisfy({ $0 == 0 }), b[15] == 1 { return .loopback }
        if b[0] == 0xff { return .multicast }
        if b[0] == 0xfe, b[1] & 0xc0 == 0x80 { return .linkLocal }
        if b[0] == 0xfe, b[1] & 0xc0 == 0xc0 { return .private }
        if b[0] & 0xfe == 0xfc { return .private }
        return .publicAddress
    }

    /// Nil when a connection to `address` is permitted, else why not. The hub's own addresses
    /// count as `.own` even when public; the allow-list opens every category except unspecified,
    /// multicast and broadcast, which are never a destination.
    public func refusal(for address: IPAddress) -> AddressCategory? {
        var category = Self.category(of: address)
        if category == .publicAddress, isOwn(address) { category = .own }
        if category == .publicAddress { return nil }
        if [.unspecified, .multicast, .broadcast].contains(category) { return category }
        let candidates = [address] + (address.embeddedIPv4.map { [$0] } ?? [])
        if candidates.contains(where: { candidate in allowed.contains { $0.contains(candidate) } }) { return nil }
        return category
    }

    private func isOwn(_ address: IPAddress) -> Bool {
        if ownAddresses.contains(address) { return true }
        if let inner = address.embeddedIPv4, ownAddresses.contains(inner) { return true }
        return false
    }
}
