import Foundation
import SwiftASN1
import X509

/// Reads certificates from PEM text (several blocks allowed) or DER bytes.
public enum CertificateReader {
    /// All `CERTIFICATE` blocks of a PEM text, in order. Throws `certificate_malformed` when the
    /// text holds no certificate or a block does not parse.
    public static func certificates(pem: String) throws(PKIError) -> [Certificate] {
        let blocks: [PEMDocument]
        do {
            blocks = try PEMDocument.parseMultiple(pemString: pem)
        } catch {
            throw PKIError(.malformed, detail: "not PEM: \(error)")
        }
        var result: [Certificate] = []
        for block in blocks where block.discriminator == "CERTIFICATE" || block.discriminator == "X509 CERTIFICATE" {
            do {
                result.append(try Certificate(derEncoded: block.derBytes))
            } catch {
                throw PKIError(.malformed, detail: "\(error)")
            }
        }
        guard !result.isEmpty else { throw PKIError(.malformed, detail: "no CERTIFICATE block") }
        return result
    }

    /// One certificate from DER bytes. Throws `certificate_malformed`.
    public static func certificate(der: [UInt8]) throws(PKIError) -> Certificate {
        do {
            return try Certificate(derEncoded: der)
        } catch {
            throw PKIError(.malformed, detail: "\(error)")
        }
    }

    /// Certificates from file contents that may be PEM (one or more blocks) or a single DER
    /// certificate (as `.crt`/`.cer` files often are).
    public static func certificates(fileContents bytes: [UInt8]) throws(PKIError) -> [Certificate] {
        if bytes.first == 0x30 {
            return [try certificate(der: bytes)]
        }
        return try certificates(pem: String(decoding: bytes, as: UTF8.self))
    }
}

/// The certificates GovOffice trusts: root CAs (trust anchors) and intermediate CA certificates
/// (helpers for building chains: an intermediate is trusted only through a root). A value type;
/// the App persists it (as PEM) and hands copies to validators.
///
/// Demo rule: an anchor is a demo anchor when it was added with `demo: true` (the demo PKI does
/// this) or when its subject's organisation (O) begins with "GovOffice Demo". Demo anchors are
/// shown with a warning and validations through them carry the `demo_trust_anchor` warning.
public struct TrustStore: Sendable, Equatable {
    /// One trusted CA certificate.
    public struct Anchor: Sendable, Equatable {
        /// The CA certificate.
        public let certificate: Certificate
        /// Whether this is a demo CA (see the demo rule on `TrustStore`).
        public let isDemo: Bool
        /// Where it came from (file path, "demo", "admin upload"…), for display.
        public let source: String?

        /// Self-issued and self-signed: a trust anchor. Otherwise an intermediate.
        public var isRoot: Bool { certificate.isSelfSigned }
        /// The displayed fields.
        public var info: CertificateInfo { CertificateInfo(certificate) }
    }

    /// All anchors, roots and intermediates, in insertion order (no duplicates).
    public private(set) var anchors: [Anchor] = []

    /// An empty store.
    public init() {}

    /// A store holding these certificates (none marked demo explicitly).
    public init(_ certificates: [Certificate]) {
        for certificate in certificates { add(certificate) }
    }

    /// The organisation prefix that marks a demo CA.
    public static let demoOrganizationPrefix = "GovOffice Demo"

    /// Whether a certificate falls under the demo rule by its subject.
    public static func looksLikeDemo(_ certificate: Certificate) -> Bool {
        certificate.subject.values(of: .RDNAttributeType.organizationName)
            .contains { $0.hasPrefix(demoOrganizationPrefix) }
    }

    /// Adds a certificate (ignored when already present). `demo` forces the demo flag on; the
    /// subject rule applies anyway.
    public mutating func add(_ certificate: Certificate, demo: Bool = false, source: String? = nil) {
        guard !anchors.contains(where: { $0.certificate == certificate }) else { return }
        anchors.append(Anchor(certificate: certificate, isDemo: demo || Self.looksLikeDemo(certificate), source: source))
    }

    /// Adds every certificate of a PEM text. Throws `certificate_malformed` (nothing is added then).
    public mutating func add(pem: String, demo: Bool = false, source: String? = nil) throws(PKIError) {
        for certificate in try CertificateReader.certificates(pem: pem) {
            add(certificate, demo: demo, source: source)
        }
    }

    /// Removes the certificate with this SHA-256 fingerprint (hex, any case, `:` allowed).
    /// Returns whether one was removed.
    @discardableResult
    public mutating func remove(fingerprint: String) -> Bool {
        let wanted = fingerprint.lowercased().filter { $0 != ":" }
        let before = anchors.count
        anchors.removeAll { $0.info.sha256Fingerprint == wanted }
        return anchors.count != before
    }

    /// Removes a certificate. Returns whether it was present.
    @discardableResult
    public mutating func remove(_ certificate: Certificate) -> Bool {
        let before = anchors.count
        anchors.removeAll { $0.certificate == certificate }
        return anchors.count != before
    }

    /// Loads every `*.pem`, `*.crt` and `*.cer` file of a folder (not recursive; PEM with several
    /// certificates or a single DER certificate per file). Files are read in name order. Throws
    /// `certificate_malformed` naming the first bad file; the store is unchanged then.
    public mutating func load(folder: URL, demo: Bool = false) throws(PKIError) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        } catch {
            throw PKIError(.malformed, vi: "Không đọc được thư mục chứng thư", en: "Cannot read \(folder.path): \(error)")
        }
        var copy = self
        for name in names {
            let ext = (name as NSString).pathExtension.lowercased()
            guard ["pem", "crt", "cer"].contains(ext) else { continue }
            let url = folder.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw PKIError(.malformed, vi: "Không đọc được tệp \(name)", en: "Cannot read \(url.path)")
            }
            do throws(PKIError) {
                for certificate in try CertificateReader.certificates(fileContents: Array(data)) {
                    copy.add(certificate, demo: demo, source: url.path)
                }
            } catch {
                throw PKIError(.malformed, vi: "Tệp \(name): \(error.vi)", en: "\(url.path): \(error.en)")
            }
        }
        self = copy
    }

    /// The root (self-signed) certificates: the trust anchors.
    public var roots: [Certificate] { anchors.filter(\.isRoot).map(\.certificate) }
    /// The intermediate CA certificates.
    public var intermediates: [Certificate] { anchors.filter { !$0.isRoot }.map(\.certificate) }
    /// All certificates.
    public var certificates: [Certificate] { anchors.map(\.certificate) }

    /// Whether this certificate is a demo anchor of the store.
    public func isDemo(_ certificate: Certificate) -> Bool {
        anchors.first { $0.certificate == certificate }?.isDemo ?? Self.looksLikeDemo(certificate)
    }

    /// All certificates as one PEM text (what the App persists).
    public var pemRepresentation: String {
        anchors.map(\.certificate.pemString).joined(separator: "\n")
    }
}

extension Certificate {
    /// Self-issued and the signature verifies with its own key.
    var isSelfSigned: Bool {
        subject == issuer && publicKey.isValidSignature(signature, for: self)
    }
}
