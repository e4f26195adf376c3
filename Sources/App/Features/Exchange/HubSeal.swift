import Foundation
import GovCore
import NIOConcurrencyHelpers
import PKI
import Vapor
import X509

/// The hub's own seal: the key and certificate that sign every receipt (CMS, detached). Read from
/// `GOVOFFICE_HUB_SEAL_KEY`/`_CERT`; without them, in demo mode only, a P-256 seal issued by the
/// demo CA is made once under the PKI folder and reused, so receipts work out of the box. Outside
/// demo mode a missing seal is an error: `serve` refuses to start (`requireConfigured`).
struct HubSeal: Sendable {
    let key: SoftwareSigningKey
    let chain: [Certificate]
    let chainPEM: String
    let isDemo: Bool

    /// Signs `receipt` and returns the DER CMS SignedData (detached, with the seal's chain).
    func sign(_ receipt: Data, at time: Date) throws -> [UInt8] {
        guard let leaf = chain.first else { throw Self.unusable("no certificate") }
        do {
            return try CMSSigner.signDetached(receipt, certificate: leaf, key: key, intermediates: Array(chain.dropFirst()),
                                              signingTime: time)
        } catch {
            throw GovError("hub_seal_failed", .conflict, vi: "Trục không ký được biên nhận: \(error.vi)",
                           en: "The hub could not sign the receipt: \(error.en)")
        }
    }

    static func load(config: AppConfig) throws -> HubSeal {
        if let keyPath = config.hub.sealKeyPath, let certPath = config.hub.sealCertificatePath {
            return try read(keyPath: keyPath, certificatePath: certPath, isDemo: false)
        }
        try requireConfigured(config)
        let (keyPath, certPath) = try makeDemo(in: config.pkiDirectory)
        return try read(keyPath: keyPath, certificatePath: certPath, isDemo: true)
    }

    /// Outside demo mode the seal must be configured: a demo seal signs receipts that nobody
    /// outside the demo can rely on, and making one silently hid a missing production setting.
    static func requireConfigured(_ config: AppConfig) throws {
        guard !config.isDemoMode, config.hub.sealKeyPath == nil || config.hub.sealCertificatePath == nil else { return }
        throw GovError("hub_seal_missing", .conflict,
                       vi: "Ngoài chế độ dùng thử, trục cần con dấu: đặt GOVOFFICE_HUB_SEAL_KEY và GOVOFFICE_HUB_SEAL_CERT (khóa PEM, chuỗi chứng thư PEM), hoặc GOVOFFICE_DEMO=on cho bản dùng thử.",
                       en: "Outside demo mode the hub needs a seal: set GOVOFFICE_HUB_SEAL_KEY and GOVOFFICE_HUB_SEAL_CERT (PEM key, PEM certificate chain), or GOVOFFICE_DEMO=on for a demo.")
    }

    /// The demo seal of `directory` (`hub/hub-seal.key`, `hub/hub-seal.pem`), issued by the demo CA
    /// now unless it is there already; `pki demo` makes it too, so a harness can configure it.
    @discardableResult
    static func makeDemo(in directory: String) throws -> (keyPath: String, certPath: String) {
        let folder = "\(directory)/hub"
        let keyPath = "\(folder)/hub-seal.key", certPath = "\(folder)/hub-seal.pem"
        if FileManager.default.fileExists(atPath: keyPath), FileManager.default.fileExists(atPath: certPath) {
            return (keyPath, certPath)
        }
        do {
            let demo = try DemoCertificates.root(in: directory).demo
            let key = try SoftwareSigningKey.generate(.p256)
            let subject = try DistinguishedName {
                CountryName("VN")
                OrganizationName(DemoPKI.organization)
                CommonName("GovOffice Hub Seal (demo)")
            }
            let now = Date()
            let certificate = try demo.issue(subject: subject, key: key, notBefore: now.addingTimeInterval(-3600),
                                             notAfter: now.addingTimeInterval(10 * 365 * 86_400))
            try ToolFiles.writePEM([key.pemRepresentation], to: keyPath, secret: true)
            try ToolFiles.writePEM([certificate.pemString, demo.root.certificatePEM], to: certPath)
        } catch let error as ToolFailure {
            throw unusable(error.message)
        } catch {
            throw unusable("\(error)")
        }
        return (keyPath, certPath)
    }

    private static func read(keyPath: String, certificatePath: String, isDemo: Bool) throws -> HubSeal {
        do {
            let key = try SoftwareSigningKey(pem: try ToolFiles.text(keyPath))
            let pem = try ToolFiles.text(certificatePath)
            let chain = try CertificateReader.certificates(pem: pem)
            guard let leaf = chain.first else { throw unusable("no certificate in \(certificatePath)") }
            guard try CertificateSigningKey(key).publicKey == leaf.publicKey else {
                throw unusable("the key \(keyPath) does not belong to \(certificatePath)")
            }
            return HubSeal(key: key, chain: chain, chainPEM: pem, isDemo: isDemo)
        } catch let error as GovError {
            throw error
        } catch let error as ToolFailure {
            throw unusable(error.message)
        } catch {
            throw unusable("\(error)")
        }
    }

    static func unusable(_ why: String) -> GovError {
        GovError("hub_seal_unusable", .conflict, vi: "Không dùng được con dấu của trục: \(why)",
                 en: "The hub's seal cannot be used: \(why)")
    }
}

extension Application {
    private struct HubSealKey: StorageKey { typealias Value = HubSeal }
    private struct HubSealLock: LockKey {}

    /// The hub's seal, loaded (or, for demos, made) on first use.
    func hubSeal() throws -> HubSeal {
        try locks.lock(for: HubSealLock.self).withLock {
            if let seal = storage[HubSealKey.self] { return seal }
            let seal = try HubSeal.load(config: govConfig)
            storage[HubSealKey.self] = seal
            return seal
        }
    }
}
