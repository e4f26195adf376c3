import Foundation
import SwiftASN1
import X509

/// Why a certificate was revoked (RFC 5280 CRLReason, shared by CRLs, OCSP and the local list).
public enum RevocationReason: Int, Sendable, Codable, CaseIterable {
    /// No reason given.
    case unspecified = 0
    /// The subject's key was compromised.
    case keyCompromise = 1
    /// The CA's key was compromised.
    case caCompromise = 2
    /// The subject changed organisation.
    case affiliationChanged = 3
    /// Replaced by a new certificate.
    case superseded = 4
    /// No longer needed.
    case cessationOfOperation = 5
    /// Temporarily suspended.
    case certificateHold = 6
    /// Delta CRL: removed from a hold (treated as not revoked by CRL processing).
    case removeFromCRL = 8
    /// Privileges withdrawn.
    case privilegeWithdrawn = 9
    /// Attribute authority compromised.
    case aaCompromise = 10

    /// The name used in RFC 5280 (and openssl), e.g. `keyCompromise`.
    public var name: String {
        switch self {
        case .unspecified: return "unspecified"
        case .keyCompromise: return "keyCompromise"
        case .caCompromise: return "cACompromise"
        case .affiliationChanged: return "affiliationChanged"
        case .superseded: return "superseded"
        case .cessationOfOperation: return "cessationOfOperation"
        case .certificateHold: return "certificateHold"
        case .removeFromCRL: return "removeFromCRL"
        case .privilegeWithdrawn: return "privilegeWithdrawn"
        case .aaCompromise: return "aACompromise"
        }
    }
}

/// An X.509 v2 certificate revocation list (RFC 5280 §5), parsed from DER or PEM. Parsing checks
/// the structure only; `verify(issuer:)` checks the signature. Extensions are kept raw; unknown
/// non-critical ones are tolerated.
public struct CRL: Sendable, Hashable {
    /// One revoked certificate.
    public struct Entry: Sendable, Hashable {
        /// Serial number of the revoked certificate (big-endian bytes as encoded).
        public let serialNumber: [UInt8]
        /// When it was revoked.
        public let revocationDate: Date
        /// The reasonCode entry extension, when present.
        public let reason: RevocationReason?
        /// The entry's extensions, raw.
        public let extensions: [RawExtension]

        /// The serial number as lower-case hexadecimal.
        public var serialHex: String { serialNumber.hex }
    }

    /// An extension kept as its OID, criticality and DER value.
    public struct RawExtension: Sendable, Hashable {
        /// The extension OID.
        public let oid: ASN1ObjectIdentifier
        /// The critical flag.
        public let critical: Bool
        /// The extnValue contents (the DER of the extension value).
        public let value: [UInt8]
    }

    /// The issuer name.
    public let issuer: DistinguishedName
    /// When this CRL was issued.
    public let thisUpdate: Date
    /// When the next CRL is due (nil when the CRL does not say).
    public let nextUpdate: Date?
    /// The revoked certificates.
    public let entries: [Entry]
    /// The CRL's own extensions, raw (CRL number, authority key identifier…).
    public let extensions: [RawExtension]
    /// The cRLNumber extension, big-endian bytes, when present.
    public let crlNumber: [UInt8]?
    /// The authority key identifier's keyIdentifier, when present.
    public let authorityKeyIdentifier: [UInt8]?
    /// The DER of the whole CRL.
    public let derBytes: [UInt8]

    let tbsBytes: ArraySlice<UInt8>
    let signatureAlgorithmOID: ASN1ObjectIdentifier
    let signatureBytes: [UInt8]

    /// Parses a CRL from DER, or from PEM (`X509 CRL` block) when the bytes are text. Throws
    /// `crl_invalid` on any structural problem.
    public init(bytes: [UInt8]) throws(PKIError) {
        if bytes.first == 0x30 {
            try self.init(der: bytes)
            return
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let block: PEMDocument
        do {
            guard let found = try PEMDocument.parseMultiple(pemString: text).first(where: { $0.discriminator == "X509 CRL" }) else {
                throw PKIError(.crlInvalid, detail: "no X509 CRL block")
            }
            block = found
        } catch let error as PKIError {
            throw error
        } catch {
            throw PKIError(.crlInvalid, detail: "not DER nor PEM: \(error)")
        }
        try self.init(der: block.derBytes)
    }

    /// Parses a DER CRL. Throws `crl_invalid`.
    public init(der: [UInt8]) throws(PKIError) {
        do {
            self = try CRL.parse(der)
        } catch let error as PKIError {
            throw error
        } catch {
            throw PKIError(.crlInvalid, detail: "\(error)")
        }
    }

    private init(issuer: DistinguishedName, thisUpdate: Date, nextUpdate: Date?, entries: [Entry],
                 extensions: [RawExtension], derBytes: [UInt8], tbsBytes: ArraySlice<UInt8>,
                 signatureAlgorithmOID: ASN1ObjectIdentifier, signatureBytes: [UInt8]) throws {
        self.issuer = issuer
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        self.entries = entries
        self.extensions = extensions
        self.derBytes = derBytes
        self.tbsBytes = tbsBytes
        self.signatureAlgorithmOID = signatureAlgorithmOID
        self.signatureBytes = signatureBytes
        crlNumber = try extensions.first { $0.oid == .crlNumber }.map { ext in
            Array(try ArraySlice<UInt8>(derEncoded: ext.value[...]))
        }
        authorityKeyIdentifier = try extensions.first { $0.oid == Certificate.Extension.authorityKeyIdentifierOID }.map { ext in
            let aki = try AuthorityKeyIdentifier(Certificate.Extension(oid: ext.oid, critical: ext.critical, value: ext.value[...]))
            return aki.keyIdentifier.map(Array.init) ?? []
        }
        // RFC 5280 §5.3: a critical entry extension we do not understand makes the CRL unusable.
        let knownEntryExtensions: [ASN1ObjectIdentifier] = [.crlReason, .invalidityDate, .certificateIssuer]
        for entry in entries {
            if let unknown = entry.extensions.first(where: { $0.critical && !knownEntryExtensions.contains($0.oid) }) {
                throw PKIError(.crlInvalid, detail: "unknown critical entry extension \(unknown.oid)")
            }
        }
        let knownCRLExtensions: [ASN1ObjectIdentifier] = [
            // issuingDistributionPoint is not processed, so a critical one (scoped CRL) is refused.
            .crlNumber, Certificate.Extension.authorityKeyIdentifierOID,
        ]
        if let unknown = extensions.first(where: { $0.critical && !knownCRLExtensions.contains($0.oid) }) {
            throw PKIError(.crlInvalid, detail: "unknown critical CRL extension \(unknown.oid)")
        }
        if extensions.contains(where: { $0.oid == .deltaCRLIndicator }) {
            throw PKIError(.crlInvalid, detail: "delta CRLs are not supported")
        }
    }

    private static func parse(_ der: [UInt8]) throws -> CRL {
        let root = try DER.parse(der)
        return try DER.sequence(root, identifier: .sequence) { nodes in
            guard let tbsNode = nodes.next() else { throw PKIError(.crlInvalid, detail: "empty CRL") }
            let outerAlgorithm = try parseAlgorithm(&nodes)
            let signature = try ASN1BitString(derEncoded: &nodes)
            guard nodes.next() == nil else { throw PKIError(.crlInvalid, detail: "trailing data in CertificateList") }
            guard signature.paddingBits == 0 else { throw PKIError(.crlInvalid, detail: "signature has padding bits") }

            return try DER.sequence(tbsNode, identifier: .sequence) { tbs in
                var version = 0
                var next = tbs.next()
                if let node = next, node.identifier == .integer {
                    version = try Int(derEncoded: node)
                    next = tbs.next()
                }
                guard version == 1 || version == 0 else { throw PKIError(.crlInvalid, detail: "unsupported CRL version \(version + 1)") }
                guard let algorithmNode = next else { throw PKIError(.crlInvalid, detail: "missing signature algorithm") }
                let innerAlgorithm = try CRL.algorithmOID(algorithmNode)
                guard innerAlgorithm == outerAlgorithm else {
                    throw PKIError(.crlInvalid, detail: "signature algorithms of TBSCertList and CertificateList differ")
                }
                guard let issuerNode = tbs.next() else { throw PKIError(.crlInvalid, detail: "missing issuer") }
                let issuer = try DistinguishedName(derEncoded: issuerNode)
                guard let thisNode = tbs.next() else { throw PKIError(.crlInvalid, detail: "missing thisUpdate") }
                let thisUpdate = try parseTime(thisNode)
                var nextUpdate: Date?
                var entries: [Entry] = []
                var extensions: [RawExtension] = []
                var node = tbs.next()
                if let current = node, current.identifier == .utcTime || current.identifier == .generalizedTime {
                    nextUpdate = try parseTime(current)
                    node = tbs.next()
                }
                if let current = node, current.identifier == .sequence {
                    entries = try CRL.children(current).map(parseEntry)
                    node = tbs.next()
                }
                if let current = node, current.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
                    guard version == 1 else { throw PKIError(.crlInvalid, detail: "extensions in a v1 CRL") }
                    extensions = try DER.explicitlyTagged(current, tagNumber: 0, tagClass: .contextSpecific) { inner in
                        try parseExtensions(inner)
                    }
                    node = tbs.next()
                }
                guard node == nil else { throw PKIError(.crlInvalid, detail: "unexpected field in TBSCertList") }
                return try CRL(issuer: issuer, thisUpdate: thisUpdate, nextUpdate: nextUpdate, entries: entries,
                               extensions: extensions, derBytes: der, tbsBytes: tbsNode.encodedBytes,
                               signatureAlgorithmOID: outerAlgorithm, signatureBytes: Array(signature.bytes))
            }
        }
    }

    /// The elements of a SEQUENCE node.
    static func children(_ node: ASN1Node) throws -> [ASN1Node] {
        try DER.sequence(node, identifier: .sequence) { nodes in
            var result: [ASN1Node] = []
            while let next = nodes.next() { result.append(next) }
            return result
        }
    }

    private static func parseAlgorithm(_ nodes: inout ASN1NodeCollection.Iterator) throws -> ASN1ObjectIdentifier {
        guard let node = nodes.next() else { throw PKIError(.crlInvalid, detail: "missing algorithm") }
        return try algorithmOID(node)
    }

    /// The OID of an AlgorithmIdentifier; the parameters (NULL for RSA, absent for ECDSA) are skipped.
    static func algorithmOID(_ node: ASN1Node) throws -> ASN1ObjectIdentifier {
        try DER.sequence(node, identifier: .sequence) { nodes in
            let oid = try ASN1ObjectIdentifier(derEncoded: &nodes)
            while nodes.next() != nil {}
            return oid
        }
    }

    private static func parseEntry(_ node: ASN1Node) throws -> Entry {
        try DER.sequence(node, identifier: .sequence) { nodes in
            let serial = try ArraySlice<UInt8>(derEncoded: &nodes)
            guard let timeNode = nodes.next() else { throw PKIError(.crlInvalid, detail: "entry without date") }
            let date = try parseTime(timeNode)
            var extensions: [RawExtension] = []
            if let extNode = nodes.next() {
                extensions = try parseExtensions(extNode)
            }
            var reason: RevocationReason?
            if let ext = extensions.first(where: { $0.oid == .crlReason }) {
                let value = try ASN1Enumerated.parse(ext.value)
                guard let known = RevocationReason(rawValue: value) else {
                    throw PKIError(.crlInvalid, detail: "unknown CRL reason \(value)")
                }
                reason = known
            }
            return Entry(serialNumber: Array(serial), revocationDate: date, reason: reason, extensions: extensions)
        }
    }

    private static func parseExtensions(_ node: ASN1Node) throws -> [RawExtension] {
        try CRL.children(node).map { extNode in
            try DER.sequence(extNode, identifier: .sequence) { nodes in
                let oid = try ASN1ObjectIdentifier(derEncoded: &nodes)
                var critical = false
                var next = nodes.next()
                if let node = next, node.identifier == .boolean {
                    critical = try Bool(derEncoded: node)
                    next = nodes.next()
                }
                guard let valueNode = next else { throw PKIError(.crlInvalid, detail: "extension without value") }
                let value = try ASN1OctetString(derEncoded: valueNode)
                return RawExtension(oid: oid, critical: critical, value: Array(value.bytes))
            }
        }
    }

    static func parseTime(_ node: ASN1Node) throws -> Date {
        switch node.identifier {
        case .utcTime:
            let time = try UTCTime(derEncoded: node)
            return try date(year: time.year, month: time.month, day: time.day, hour: time.hours,
                            minute: time.minutes, second: time.seconds, fraction: 0)
        case .generalizedTime:
            let time = try GeneralizedTime(derEncoded: node)
            return try date(year: time.year, month: time.month, day: time.day, hour: time.hours,
                            minute: time.minutes, second: time.seconds, fraction: time.fractionalSeconds)
        default:
            throw PKIError(.crlInvalid, detail: "expected a time, found \(node.identifier)")
        }
    }

    static func date(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, fraction: Double) throws -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard let date = calendar.date(from: components) else { throw PKIError(.crlInvalid, detail: "invalid date") }
        return date.addingTimeInterval(fraction)
    }

    /// The swift-certificates algorithm for the CRL's signature OID; nil when unsupported.
    var signatureAlgorithm: Certificate.SignatureAlgorithm? {
        switch signatureAlgorithmOID {
        case [1, 2, 840, 113549, 1, 1, 11]: return .sha256WithRSAEncryption
        case [1, 2, 840, 113549, 1, 1, 12]: return .sha384WithRSAEncryption
        case [1, 2, 840, 113549, 1, 1, 13]: return .sha512WithRSAEncryption
        case [1, 2, 840, 113549, 1, 1, 5]: return .sha1WithRSAEncryption
        case [1, 2, 840, 10045, 4, 3, 2]: return .ecdsaWithSHA256
        case [1, 2, 840, 10045, 4, 3, 3]: return .ecdsaWithSHA384
        case [1, 2, 840, 10045, 4, 3, 4]: return .ecdsaWithSHA512
        case [1, 3, 101, 112]: return .ed25519
        default: return nil
        }
    }

    /// Checks that `issuer` issued this CRL: same name, key identifiers agree when both are
    /// present, the CA may sign CRLs (keyUsage cRLSign when the extension is present), and the
    /// signature verifies with its key. Throws `crl_invalid` saying which check failed.
    public func verify(issuer certificate: Certificate) throws(PKIError) {
        guard certificate.subject == issuer else {
            throw PKIError(.crlInvalid, detail: "CRL issuer \(issuer) is not \(certificate.subject)")
        }
        if let aki = authorityKeyIdentifier, !aki.isEmpty,
           let ski = try? certificate.extensions.subjectKeyIdentifier, Array(ski.keyIdentifier) != aki {
            throw PKIError(.crlInvalid, detail: "CRL authority key identifier does not match the issuer's key")
        }
        if let usage = try? certificate.extensions.keyUsage, !usage.cRLSign {
            throw PKIError(.crlInvalid, detail: "issuer certificate may not sign CRLs (keyUsage)")
        }
        guard let algorithm = signatureAlgorithm else {
            throw PKIError(.crlInvalid, detail: "unsupported signature algorithm \(signatureAlgorithmOID)")
        }
        guard certificate.publicKey.isValidSignature(signatureBytes, for: tbsBytes, signatureAlgorithm: algorithm) else {
            throw PKIError(.crlInvalid, detail: "bad CRL signature")
        }
    }

    /// The entry for a serial number, if revoked by this CRL (entries with reason removeFromCRL
    /// are not revocations).
    public func entry(serialNumber: [UInt8]) -> Entry? {
        let wanted = serialNumber.normalizedSerial
        return entries.first { $0.serialNumber.normalizedSerial == wanted && $0.reason != .removeFromCRL }
    }

    /// Whether the CRL is still current at `date` (no nextUpdate counts as current).
    public func isCurrent(at date: Date) -> Bool {
        nextUpdate.map { date <= $0 } ?? true
    }
}

/// The latest CRL per issuer name, each verified against its issuer when added.
public struct CRLStore: Sendable, Equatable {
    /// The stored CRLs, one per issuer name.
    public private(set) var crls: [CRL] = []

    /// An empty store.
    public init() {}

    /// Adds a CRL after verifying it against the issuer certificates of `trustStore` (and
    /// `additionalIssuers`, e.g. intermediates from a chain). Keeps the newer CRL of an issuer
    /// (higher CRL number, else later thisUpdate); an older one is ignored. Throws `crl_invalid`
    /// when no known CA issued it or its signature is bad.
    public mutating func add(_ crl: CRL, trustStore: TrustStore, additionalIssuers: [Certificate] = []) throws(PKIError) {
        let candidates = (trustStore.certificates + additionalIssuers).filter { $0.subject == crl.issuer }
        guard !candidates.isEmpty else {
            throw PKIError(.crlInvalid, detail: "no trusted CA named \(crl.issuer)")
        }
        var lastError = PKIError(.crlInvalid)
        var verified = false
        for issuer in candidates {
            do throws(PKIError) {
                try crl.verify(issuer: issuer)
                verified = true
                break
            } catch {
                lastError = error
            }
        }
        guard verified else { throw lastError }
        insert(crl)
    }

    /// Adds a CRL without verification; only for CRLs whose signature the caller just checked.
    mutating func insert(_ crl: CRL) {
        if let index = crls.firstIndex(where: { $0.issuer == crl.issuer }) {
            let old = crls[index]
            let newer: Bool
            if let a = crl.crlNumber?.normalizedSerial, let b = old.crlNumber?.normalizedSerial {
                newer = a.count != b.count ? a.count > b.count : b.lexicographicallyPrecedes(a)
            } else {
                newer = crl.thisUpdate > old.thisUpdate
            }
            if newer { crls[index] = crl }
        } else {
            crls.append(crl)
        }
    }

    /// The CRL of an issuer name.
    public func crl(issuer: DistinguishedName) -> CRL? {
        crls.first { $0.issuer == issuer }
    }

    /// Removes the CRL of an issuer name.
    public mutating func remove(issuer: DistinguishedName) {
        crls.removeAll { $0.issuer == issuer }
    }
}

extension Array where Element == UInt8 {
    /// A serial without leading zero bytes, so `00 8f` and `8f` compare equal.
    var normalizedSerial: [UInt8] {
        let trimmed = Array(drop { $0 == 0 })
        return trimmed.isEmpty ? [0] : trimmed
    }
}

enum ASN1Enumerated {
    /// Reads a DER ENUMERATED (the CRLReason encoding) as an Int.
    static func parse(_ bytes: [UInt8]) throws -> Int {
        let node = try DER.parse(bytes)
        guard node.identifier == ASN1Identifier(tagWithNumber: 10, tagClass: .universal) else {
            throw PKIError(.crlInvalid, detail: "reason is not ENUMERATED")
        }
        return try Int(derEncoded: node, withIdentifier: node.identifier)
    }
}

extension ASN1ObjectIdentifier {
    static let crlNumber: ASN1ObjectIdentifier = [2, 5, 29, 20]
    static let crlReason: ASN1ObjectIdentifier = [2, 5, 29, 21]
    static let invalidityDate: ASN1ObjectIdentifier = [2, 5, 29, 24]
    static let certificateIssuer: ASN1ObjectIdentifier = [2, 5, 29, 29]
    static let deltaCRLIndicator: ASN1ObjectIdentifier = [2, 5, 29, 27]
    static let issuingDistributionPoint: ASN1ObjectIdentifier = [2, 5, 29, 28]
}

extension Certificate.Extension {
    static let authorityKeyIdentifierOID: ASN1ObjectIdentifier = [2, 5, 29, 35]
}
