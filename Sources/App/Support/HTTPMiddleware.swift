import Foundation
import GovCore
import Prometheus
import Vapor

/// Echoes the request id that Vapor puts in every log line, so a person reporting a problem can
/// quote it and an operator can find the matching log lines.
struct RequestIDMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        response.headers.replaceOrAdd(name: "X-Request-Id", value: request.id)
        return response
    }
}

/// Browser hardening on every response: a CSP without unsafe-inline (all assets are local files),
/// no MIME sniffing, no framing, no referrer leaks to other sites.
struct SecurityHeadersMiddleware: AsyncMiddleware {
    static let contentSecurityPolicy = [
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        "font-src 'self'", "connect-src 'self'", "form-action 'self'", "frame-ancestors 'none'",
        "base-uri 'none'", "object-src 'none'",
    ].joined(separator: "; ")

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        let headers = [
            ("Content-Security-Policy", Self.contentSecurityPolicy),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "same-origin"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
            ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
        ]
        for (name, value) in headers { response.headers.replaceOrAdd(name: name, value: value) }
        if request.cameOverHTTPS { response.headers.replaceOrAdd(name: "Strict-Transport-Security", value: "max-age=31536000") }
        if response.headers.first(name: .cacheControl) == nil, !request.url.path.hasPrefix("/css/"),
           !request.url.path.hasPrefix("/img/") {
            response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        }
        return response
    }
}

extension Request {
    /// Whether the browser reached us over HTTPS (directly, or through a trusted proxy).
    var cameOverHTTPS: Bool {
        if url.scheme == "https" { return true }
        // The scheme header counts only when the peer itself is one of our proxies: a client
        // talking to the server directly cannot switch HSTS or Secure cookies on with it.
        if peerIsTrustedProxy, headers["X-Forwarded-Proto"].last?.lowercased() == "https" { return true }
        return application.http.server.configuration.tlsConfiguration != nil
    }

    /// Whether cookies set on this response are marked `Secure` (GOVOFFICE_SECURE_COOKIES).
    var wantsSecureCookies: Bool {
        switch application.govConfig.secureCookies {
        case .always: true
        case .never: false
        case .auto: cameOverHTTPS
        }
    }

    /// Whether forwarding headers are believed on this request: GOVOFFICE_TRUST_PROXY is on and
    /// the socket's peer is one of GOVOFFICE_TRUSTED_PROXIES.
    var peerIsTrustedProxy: Bool {
        let config = application.govConfig
        guard config.trustProxy, let peer = remoteAddress?.ipAddress else { return false }
        return ForwardedClient.isTrusted(peer, config.trustedProxies)
    }

    /// The client address: the socket's peer, or behind trusted proxies the right-most
    /// `X-Forwarded-For` entry that is not one of them (the left-hand entries are the client's
    /// own words and may be forged).
    var clientIP: String? {
        let config = application.govConfig
        let peer = remoteAddress?.ipAddress
        guard config.trustProxy else { return peer }
        return ForwardedClient.address(peer: peer, forwardedFor: headers[.xForwardedFor], trusted: config.trustedProxies)
    }
}

/// Marks every cookie `Secure` when the request came over HTTPS; Vapor's session cookie factory
/// cannot see the request, so this is decided here.
struct CookieSecurityMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        if request.wantsSecureCookies {
            for (name, var value) in response.cookies.all {
                value.isSecure = true
                response.cookies[name] = value
            }
        }
        return response
    }
}

/// Request counts and latency by route, for `/metrics`.
final class HTTPMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    static let buckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .seconds(2), .seconds(5),
    ]

    init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    func record(method: String, route: String, status: UInt, duration: Duration) {
        let labels = [("method", method), ("route", route), ("status", String(status))]
        registry.makeCounter(
            descriptor: .init(namespace: "govoffice", metricName: "http_requests", unitName: "total",
                              helpText: "HTTP requests by route and status"),
            labels: labels
        ).increment()
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "govoffice", metricName: "http_request_duration", unitName: "seconds",
                              helpText: "HTTP request latency by route"),
            labels: [("method", method), ("route", route)], buckets: Self.buckets
        ).record(duration)
    }
}

extension Application {
    private struct MetricsKey: StorageKey { typealias Value = HTTPMetrics }

    /// The Prometheus registry of this application.
    var metrics: HTTPMetrics {
        if let metrics = storage[MetricsKey.self] { return metrics }
        let metrics = HTTPMetrics(registry: PrometheusCollectorRegistry())
        storage[MetricsKey.self] = metrics
        return metrics
    }
}

/// Counts every request under its route pattern (never the raw path, so ids don't explode the
/// number of series); a path that matches no route counts as `unmatched`.
struct MetricsMiddleware: AsyncMiddleware {
    let metrics: HTTPMetrics

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next.respond(to: request)
        let route = request.route.map { "/" + $0.path.map(\.description).joined(separator: "/") } ?? "unmatched"
        metrics.record(method: request.method.rawValue, route: route, status: response.status.code,
                       duration: ContinuousClock.now - start)
        return response
    }
}
