import Foundation
import SwiftASN1
import X509

/// What an OCSP transport returned.
public enum OCSPFetchResult: Sendable {
    /// The responder's DER-encoded OCSPResponse (whatever its status; it is verified later).
    case response([UInt8])
    /// No response (network error, timeout, HTTP error); the reason is for logs and warnings.
    case unavailable(String)
}

/// Sends DER OCSP requests to responders. The App implements it with HTTP (POST
/// `application/ocsp-request`, no deadline of its own: the validation bounds the total time);
/// tests implement it in process.
///
/// Why not swift-certificates' `OCSPRequester` directly: its result type is opaque, so neither a
/// cache nor the validator could tell a response from a failure. `CertificateValidator` adapts an
/// `OCSPClient` to `OCSPRequester` and runs swift-certificates' `OCSPVerifierPolicy`, which
/// verifies the response (signature, responder, certificate id, nonce, freshness).
public protocol OCSPClient: Sendable {
    /// Sends `request` (DER OCSPRequest) to the responder at `uri`.
    func fetch(request: [UInt8], uri: String) async -> OCSPFetchResult
}

/// An `OCSPClient` that remembers responses per (issuer key hash, serial) until their
/// nextUpdate, so a burst of validations asks the responder once.
///
/// Only responses without a nonce are cached: the validator sends a fresh nonce with every
/// request and swift-certificates rejects a response whose nonce differs, so replaying a nonced
/// response could only fail. Pre-produced responses (RFC 5019, what large CAs serve) carry no
/// nonce. Responses without nextUpdate are not cached either (they are not valid for reuse).
public actor CachingOCSPClient: OCSPClient {
    struct Key: Hashable {
        let issuerKeyHash: [UInt8]
        let serial: [UInt8]
    }

    struct Entry {
        let bytes: [UInt8]
        let nextUpdate: Date
    }

    private let upstream: any OCSPClient
    private let clock: @Sendable () -> Date
    private var entries: [Key: Entry] = [:]
    /// How many requests went to the upstream client (for monitoring and tests).
    public private(set) var upstreamRequests = 0

    /// Wraps `upstream`. `clock` gives the current time (tests move it forward).
    public init(_ upstream: any OCSPClient, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.upstream = upstream
        self.clock = clock
    }

    /// Answers from the cache when the request asks about one certificate whose cached response is
    /// still current; otherwise asks the upstream client and caches a cacheable answer.
    public func fetch(request: [UInt8], uri: String) async -> OCSPFetchResult {
        let now = clock()
        let keys = (try? OCSPMessages.requestCertIDs(request)) ?? []
        if keys.count == 1, let entry = entries[keys[0]], entry.nextUpdate > now {
            return .response(entry.bytes)
        }
        upstreamRequests += 1
        let result = await upstream.fetch(request: request, uri: uri)
        if case .response(let bytes) = result, let parsed = try? OCSPMessages.response(bytes),
           parsed.status == 0, !parsed.hasNonce {
            for single in parsed.responses {
                guard let next = single.nextUpdate, next > now, keys.contains(single.key) else { continue }
                entries[single.key] = Entry(bytes: bytes, nextUpdate: next)
            }
        }
        return result
    }

    /// Forgets every cached response.
    public func removeAll() {
        entries.removeAll()
    }
}

/// A read-only view of OCSP messages, enough to key the cache and to describe an outcome the
/// swift-certificates policy has already verified (its own OCSP types are internal). Nothing here
/// decides validity.
enum OCSPMessages {
    struct Single {
        let key: CachingOCSPClient.Key
        /// 0 good, 1 revoked, 2 unknown.
        let status: Int
        let revocationTime: Date?
        let reason: RevocationReason?
        let thisUpdate: Date
        let nextUpdate: Date?
    }

    struct Response {
        /// OCSPResponseStatus (0 successful).
        let status: Int
        let responses: [Single]
        let hasNonce: Bool
    }

    static let nonceOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 48, 1, 2]
    static let basicOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 48, 1, 1]

    static func tag(_ number: UInt) -> ASN1Identifier {
        ASN1Identifier(tagWithNumber: number, tagClass: .contextSpecific)
    }

    /// The (issuer key hash, serial) of each certificate a DER OCSPRequest asks about.
    static func requestCertIDs(_ der: [UInt8]) throws -> [CachingOCSPClient.Key] {
        let request = try CRL.children(DER.parse(der))
        guard let tbs = request.first else { return [] }
        var keys: [CachingOCSPClient.Key] = []
        for node in try CRL.children(tbs) where node.identifier == .sequence {
            for single in try CRL.children(node) {
                guard let certID = try CRL.children(single).first else { continue }
                keys.append(try certIDKey(certID))
            }
        }
        return keys
    }

    static func certIDKey(_ node: ASN1Node) throws -> CachingOCSPClient.Key {
        let fields = try CRL.children(node)
        guard fields.count == 4 else { throw PKIError(.ocspUnavailable, detail: "bad CertID") }
        let keyHash = try ASN1OctetString(derEncoded: fields[2])
        let serial = try ArraySlice<UInt8>(derEncoded: fields[3])
        return .init(issuerKeyHash: Array(keyHash.bytes), serial: Array(serial).normalizedSerial)
    }

    /// Parses a DER OCSPResponse far enough to read statuses, times and the nonce's presence.
    static func response(_ der: [UInt8]) throws -> Response {
        let top = try CRL.children(DER.parse(der))
        guard let statusNode = top.first else { throw PKIError(.ocspUnavailable, detail: "empty OCSP response") }
        let status = try Int(derEncoded: statusNode, withIdentifier: ASN1Identifier(tagWithNumber: 10, tagClass: .universal))
        guard status == 0, top.count > 1 else { return Response(status: status, responses: [], hasNonce: false) }
        let bytesNode = try DER.explicitlyTagged(top[1], tagNumber: 0, tagClass: .contextSpecific) { $0 }
        let responseBytes = try CRL.children(bytesNode)
        guard responseBytes.count == 2, try ASN1ObjectIdentifier(derEncoded: responseBytes[0]) == basicOID else {
            throw PKIError(.ocspUnavailable, detail: "not a basic OCSP response")
        }
        let basicDER = try ASN1OctetString(derEncoded: responseBytes[1])
        let basic = try CRL.children(DER.parse(basicDER.bytes))
        guard let dataNode = basic.first else { throw PKIError(.ocspUnavailable, detail: "empty BasicOCSPResponse") }
        var singles: [Single] = []
        var hasNonce = false
        // ResponseData: [0] version?, responderID ([1] or [2]), producedAt, responses, [1] extensions?
        // — the [1] after the responses is the extensions, the one before is a responder name.
        var seenResponses = false
        for field in try CRL.children(dataNode) {
            if field.identifier == .sequence {
                singles = try CRL.children(field).map(single)
                seenResponses = true
            } else if seenResponses, field.identifier == tag(1) {
                let extensions = try DER.explicitlyTagged(field, tagNumber: 1, tagClass: .contextSpecific) { try CRL.children($0) }
                hasNonce = try extensions.contains { ext in
                    guard let oid = try CRL.children(ext).first else { return false }
                    return try ASN1ObjectIdentifier(derEncoded: oid) == nonceOID
                }
            }
        }
        return Response(status: status, responses: singles, hasNonce: hasNonce)
    }

    static func single(_ node: ASN1Node) throws -> Single {
        let fields = try CRL.children(node)
        guard fields.count >= 3 else { throw PKIError(.ocspUnavailable, detail: "bad SingleResponse") }
        let key = try certIDKey(fields[0])
        let statusNode = fields[1]
        var status = 2
        var revocationTime: Date?
        var reason: RevocationReason?
        if statusNode.identifier == tag(0) {
            status = 0
        } else if statusNode.identifier == tag(1) {
            status = 1
            let info = try DER.sequence(statusNode, identifier: tag(1)) { nodes in
                var all: [ASN1Node] = []
                while let next = nodes.next() { all.append(next) }
                return all
            }
            if let time = info.first { revocationTime = try CRL.parseTime(time) }
            if info.count > 1 {
                let code = try DER.explicitlyTagged(info[1], tagNumber: 0, tagClass: .contextSpecific) {
                    try Int(derEncoded: $0, withIdentifier: ASN1Identifier(tagWithNumber: 10, tagClass: .universal))
                }
                reason = RevocationReason(rawValue: code)
            }
        }
        let thisUpdate = try CRL.parseTime(fields[2])
        var nextUpdate: Date?
        for field in fields.dropFirst(3) where field.identifier == tag(0) {
            nextUpdate = try DER.explicitlyTagged(field, tagNumber: 0, tagClass: .contextSpecific) { try CRL.parseTime($0) }
        }
        return Single(key: key, status: status, revocationTime: revocationTime, reason: reason,
                      thisUpdate: thisUpdate, nextUpdate: nextUpdate)
    }
}

/// Adapts an `OCSPClient` to swift-certificates' `OCSPRequester` and remembers what happened,
/// so the validator can describe the outcome the policy decided.
final class RecordingOCSPRequester: OCSPRequester, @unchecked Sendable {
    struct Exchange {
        let keys: [CachingOCSPClient.Key]
        let result: OCSPFetchResult
    }

    private let client: any OCSPClient
    // Guarded by `lock`: the policy may query from a child task.
    private let lock = NSLock()
    private var exchanges: [Exchange] = []

    init(_ client: any OCSPClient) {
        self.client = client
    }

    func query(request: [UInt8], uri: String) async -> OCSPRequesterQueryResult {
        let result = await client.fetch(request: request, uri: uri)
        let keys = (try? OCSPMessages.requestCertIDs(request)) ?? []
        lock.withLock { exchanges.append(Exchange(keys: keys, result: result)) }
        switch result {
        case .response(let bytes):
            return .response(bytes)
        case .unavailable(let why):
            // Terminal, so the policy fails and the validator applies its own soft/hard setting.
            return .terminalError(PKIError(.ocspUnavailable, detail: why))
        }
    }

    var recorded: [Exchange] {
        lock.withLock { exchanges }
    }
}
