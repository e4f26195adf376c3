import Foundation
import GovCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Vapor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns a webhook's host name into addresses. The hub checks what a name resolves to, not the
/// name, and then connects to the address it checked; tests inject a fixed table so that nothing
/// is looked up and nothing outside loopback is ever contacted.
protocol WebhookResolver: Sendable {
    /// The addresses of `host` (never empty: a name without addresses throws).
    func addresses(of host: String) async throws -> [IPAddress]
}

/// The system's resolver (`getaddrinfo`, so /etc/hosts and the configured DNS), run on NIO's
/// blocking thread pool.
struct SystemWebhookResolver: WebhookResolver {
    struct NoAddress: Error {}

    func addresses(of host: String) async throws -> [IPAddress] {
        try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            #else
            hints.ai_socktype = SOCK_STREAM
            #endif
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { throw NoAddress() }
            defer { freeaddrinfo(first) }
            var found: [IPAddress] = []
            var cursor: UnsafeMutablePointer<addrinfo>? = first
            while let entry = cursor {
                if let sockaddr = entry.pointee.ai_addr {
                    switch Int32(sockaddr.pointee.sa_family) {
                    case AF_INET:
                        let raw = sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                        if let address = withUnsafeBytes(of: raw, { IPAddress(bytes: Array($0)) }) { found.append(address) }
                    case AF_INET6:
                        let raw = sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                        if let address = withUnsafeBytes(of: raw, { IPAddress(bytes: Array($0)) }) { found.append(address) }
                    default:
                        break
                    }
                }
                cursor = entry.pointee.ai_next
            }
            var seen = Set<IPAddress>()
            let unique = found.filter { seen.insert($0).inserted }
            guard !unique.isEmpty else { throw NoAddress() }
            return unique
        }
    }
}

/// Where a webhook push may go: the URL's host resolved and every address it resolved to checked
/// against the policy (public addresses, plus `GOVOFFICE_WEBHOOK_ALLOW`; never the hub's own).
/// Used at registration and again before every push, because a name may resolve elsewhere later
/// (DNS rebinding); the push then connects to `address`, the one that was checked.
struct WebhookAddressGuard: Sendable {
    let resolver: any WebhookResolver
    let policy: AddressPolicy

    /// A checked destination: the URL's host name (kept for the Host header and TLS) and the
    /// address the connection must go to.
    struct Target: Sendable {
        var host: String
        var address: IPAddress
        /// Whether the URL named an address rather than a host name.
        var isLiteral: Bool
    }

    /// Why a destination is refused; `code` is what the agency sees (registration error, the
    /// delivery's last error and dead letter).
    struct Refusal: Error, Sendable {
        var code: String
        var error: GovError
    }

    /// The checked target of `url`, or why it is refused. Every address the name resolves to must be
    /// acceptable: a name that answers a public address and a private one is refused, not half-used.
    func check(_ url: URL) async -> Result<Target, Refusal> {
        // The host as written: a percent-encoded host could be read one way here and another way by
        // the HTTP client, so only plain names and addresses are accepted.
        guard var host = url.host(percentEncoded: true), !host.isEmpty else { return .failure(Self.refusal("not_resolved")) }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard host.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-.:".unicodeScalars.contains($0)) }) else {
            return .failure(Self.refusal("invalid_host"))
        }
        if let literal = IPAddress(host) {
            if let category = policy.refusal(for: literal) { return .failure(Self.refusal(category.rawValue)) }
            return .success(Target(host: host, address: literal, isLiteral: true))
        }
        let addresses: [IPAddress]
        do {
            addresses = try await resolver.addresses(of: host)
        } catch {
            return .failure(Self.refusal("not_resolved"))
        }
        guard let first = addresses.first else { return .failure(Self.refusal("not_resolved")) }
        for address in addresses {
            if let category = policy.refusal(for: address) { return .failure(Self.refusal(category.rawValue)) }
        }
        return .success(Target(host: host, address: first, isLiteral: false))
    }

    /// The refusal `webhook_address_<category>`, with a message an agency's integrator can act on.
    static func refusal(_ category: String) -> Refusal {
        let allow = "GOVOFFICE_WEBHOOK_ALLOW"
        let text: (vi: String, en: String)
        switch category {
        case AddressCategory.loopback.rawValue:
            text = ("URL webhook trỏ về địa chỉ loopback của chính máy chủ trục.", "The webhook URL points at a loopback address of the hub's own machine.")
        case AddressCategory.private.rawValue:
            text = ("URL webhook trỏ vào mạng nội bộ mà quản trị trục chưa cho phép (\(allow)).",
                        "The webhook URL points into a private network the hub's operator has not allowed (\(allow)).")
        case AddressCategory.linkLocal.rawValue:
            text = ("URL webhook trỏ vào địa chỉ link-local (169.254.0.0/16, fe80::/10, kể cả dịch vụ metadata đám mây).",
                        "The webhook URL points at a link-local address (169.254.0.0/16, fe80::/10, cloud metadata included).")
        case AddressCategory.own.rawValue:
            text = ("URL webhook trỏ về một địa chỉ của chính máy chủ trục.", "The webhook URL points at one of the hub's own addresses.")
        case "invalid_host":
            text = ("Tên máy trong URL webhook chỉ được gồm chữ, số, '-' và '.', hoặc là một địa chỉ IP (không mã hóa %).",
                    "The webhook URL's host may hold only letters, digits, '-' and '.', or be an IP address (no %-encoding).")
        case "not_resolved":
            text = ("Không phân giải được tên máy trong URL webhook.", "The webhook URL's host name does not resolve.")
        case "redirect":
            text = ("Webhook trả lời chuyển hướng (3xx); trục không đi theo chuyển hướng.",
                        "The webhook answered with a redirect (3xx); the hub does not follow redirects.")
        default:
            text = ("URL webhook trỏ vào địa chỉ không thể là đích (\(category)).",
                        "The webhook URL points at an address that cannot be a destination (\(category)).")
        }
        let code = "webhook_address_" + category
        return Refusal(code: code, error: GovError(code, .invalid, vi: text.vi, en: text.en))
    }
}

extension Application {
    private struct ResolverKey: StorageKey { typealias Value = any WebhookResolver }

    /// How webhook host names are resolved; the system resolver unless a test put a table here.
    var webhookResolver: any WebhookResolver {
        get { storage[ResolverKey.self] ?? SystemWebhookResolver() }
        set { storage[ResolverKey.self] = newValue }
    }

    /// The check for webhook destinations under this configuration. The hub's own addresses are
    /// read at each check (interfaces come and go) from the interfaces and the listening address.
    var webhookGuard: WebhookAddressGuard {
        var own = Set<IPAddress>()
        if let devices = try? NIOCore.System.enumerateDevices() {
            for device in devices {
                if let text = device.address?.ipAddress, let address = IPAddress(text) { own.insert(address) }
            }
        }
        if let listening = IPAddress(http.server.configuration.hostname) { own.insert(listening) }
        return WebhookAddressGuard(resolver: webhookResolver,
                                   policy: AddressPolicy(allowed: govConfig.hub.webhookAllow, ownAddresses: own))
    }
}
