import Foundation
import X509

/// Where a revocation answer came from.
public enum RevocationSource: String, Sendable, Codable, Equatable {
    /// The local revoked-serials list kept by the administrators.
    case localList = "local"
    /// A CRL from the CRL store.
    case crl
    /// An OCSP responder.
    case ocsp
}

/// The revocation status found for a certificate chain.
public enum RevocationOutcome: Sendable, Equatable {
    /// Every checked certificate of the chain is known good; the source of the leaf's answer.
    case good(source: RevocationSource)
    /// A certificate of the chain is revoked.
    case revoked(reason: RevocationReason?, date: Date?, source: RevocationSource)
    /// Some status could not be obtained and the policy is soft-fail: accepted, with the reason.
    case unknown(why: String)
    /// No revocation source applied (no local entry, no CRL for the issuer, no OCSP).
    case notChecked
}

/// Whether an unobtainable OCSP answer makes validation fail.
public enum RevocationFailureMode: String, Sendable, Codable {
    /// Unavailable OCSP gives `RevocationOutcome.unknown` and the certificate is accepted.
    case soft
    /// Unavailable OCSP gives `ocsp_unavailable`.
    case hard
}

/// One certificate that the administrators revoked locally (for instance after a report of a lost
/// token, before the CA's CRL says so). The issuer is named either by its distinguished name
/// (RFC 4514 text as swift-certificates prints it) or by its key identifier (hex of the issuer's
/// subject key identifier, i.e. the certificate's authority key identifier).
public struct LocalRevocationEntry: Sendable, Codable, Hashable {
    /// How the issuer is named.
    public enum Issuer: Sendable, Codable, Hashable {
        /// The issuer's distinguished name, RFC 4514 text.
        case name(String)
        /// The issuer's key identifier, lower-case hex.
        case keyIdentifier(String)
    }

    /// The issuing CA.
    public let issuer: Issuer
    /// Serial number, lower-case hex without leading zero bytes.
    public let serialHex: String
    /// Why it was revoked.
    public let reason: RevocationReason
    /// When it takes effect.
    public let date: Date

    /// An entry; the serial may be given in any case with `:` separators.
    public init(issuer: Issuer, serialHex: String, reason: RevocationReason, date: Date) {
        switch issuer {
        case .name(let name): self.issuer = .name(name)
        case .keyIdentifier(let id): self.issuer = .keyIdentifier(id.lowercased().filter { $0 != ":" })
        }
        let bytes = [UInt8](hex: serialHex) ?? []
        self.serialHex = bytes.isEmpty ? serialHex.lowercased() : bytes.normalizedSerial.hex
        self.reason = reason
        self.date = date
    }

    /// An entry naming the certificate's issuer by DN and its serial.
    public init(certificate: Certificate, reason: RevocationReason, date: Date) {
        self.init(issuer: .name(certificate.issuer.description),
                  serialHex: Array(certificate.serialNumber.bytes).hex, reason: reason, date: date)
    }

    /// Whether this entry revokes `certificate`.
    public func matches(_ certificate: Certificate) -> Bool {
        guard Array(certificate.serialNumber.bytes).normalizedSerial.hex == serialHex else { return false }
        switch issuer {
        case .name(let name):
            return certificate.issuer.description == name
        case .keyIdentifier(let id):
            guard let aki = try? certificate.extensions.authorityKeyIdentifier,
                  let keyID = aki.keyIdentifier else { return false }
            return Array(keyID).hex == id
        }
    }
}

/// The locally revoked certificates. A value type the App persists (it is Codable).
public struct LocalRevocationList: Sendable, Codable, Equatable {
    /// The entries.
    public private(set) var entries: [LocalRevocationEntry]

    /// A list with these entries.
    public init(_ entries: [LocalRevocationEntry] = []) {
        self.entries = entries
    }

    /// Adds an entry (an identical one is not repeated).
    public mutating func add(_ entry: LocalRevocationEntry) {
        if !entries.contains(entry) { entries.append(entry) }
    }

    /// Removes every entry for this issuer and serial.
    public mutating func remove(issuer: LocalRevocationEntry.Issuer, serialHex: String) {
        let probe = LocalRevocationEntry(issuer: issuer, serialHex: serialHex, reason: .unspecified, date: Date())
        entries.removeAll { $0.issuer == probe.issuer && $0.serialHex == probe.serialHex }
    }

    /// The entry revoking `certificate`, if any.
    public func entry(for certificate: Certificate) -> LocalRevocationEntry? {
        entries.first { $0.matches(certificate) }
    }
}
