import Fluent
import Foundation
import GovCore
import Vapor

/// Connecting an agency's office to the hub, and the demo's connections.
extension OfficeService {
    struct ConnectionInput: Sendable {
        var agencyCode: String
        var hubURL: String
        var systemID: String
        var secret: String
        /// Key and certificate files (PEM), or empty when the key is on a token.
        var keyPath: String
        var certPath: String
        /// The token's PKCS#11 module, its label and the key's label (the PIN comes from
        /// GOVOFFICE_PKCS11_PIN in the server's environment).
        var pkcs11Module: String? = nil
        var tokenLabel: String? = nil
        var keyLabel: String? = nil
    }

    /// Creates or replaces the agency's connection; the key and certificate are read once now so
    /// that a wrong path (or a module or key folder the configuration does not allow) fails here
    /// rather than at the first send. The hub secret is stored sealed by `vault`.
    func connect(_ input: ConnectionInput, vault: SecretsVault, config: AppConfig, actor: AuditActor) async throws {
        guard try await AgencyDirectory(db: db).find(code: input.agencyCode) != nil else {
            throw AgencyDirectory.notFound(input.agencyCode)
        }
        guard input.hubURL == OfficeConnection.localHub || URL(string: input.hubURL)?.host != nil else {
            throw GovError("office_hub_url_invalid", .invalid, vi: "Địa chỉ trục không hợp lệ: \(input.hubURL.prefix(100)).",
                           en: "Invalid hub URL: \(input.hubURL.prefix(100)).")
        }
        try OfficeSigner.checkAllowed(keyPath: input.keyPath, pkcs11Module: input.pkcs11Module, config: config)
        do {
            _ = try OfficeSigner.load(keyPath: input.keyPath, certPath: input.certPath, pkcs11Module: input.pkcs11Module,
                                      tokenLabel: input.tokenLabel, keyLabel: input.keyLabel, config: config)
        } catch {
            throw GovError("office_key_unreadable", .invalid, vi: "Không đọc được khóa hoặc chứng thư số: \(error)",
                           en: "The key or certificate cannot be read: \(error)")
        }
        try await db.atomically { tx in
            let connection = try await OfficeConnection.query(on: tx).filter(\.$agencyCode == input.agencyCode).first() ?? OfficeConnection()
            // The id first: the sealed secret is bound to its row.
            let id = connection.id ?? UUID()
            connection.id = id
            connection.agencyCode = input.agencyCode
            connection.hubURL = input.hubURL
            connection.systemID = input.systemID
            connection.secret = try await vault.seal(input.secret, .officeSecret, id: id, on: tx)
            connection.keyPath = input.keyPath
            connection.certPath = input.certPath
            connection.pkcs11Module = input.pkcs11Module
            connection.tokenLabel = input.tokenLabel
            connection.keyLabel = input.keyLabel
            connection.enabled = true
            connection.lastError = nil
            try await connection.save(on: tx)
            try await AuditLog.append("office.connect", entity: "office_connection", id: input.agencyCode,
                                      details: ["hub": input.hubURL, "system_id": input.systemID], agencyCode: input.agencyCode,
                                      by: actor, on: tx)
        }
    }

    func connections() async throws -> [OfficeConnection] {
        try await OfficeConnection.query(on: db).sort(\.$agencyCode).all()
    }
}

/// `govoffice office connect|list`: an agency's office and the hub it talks to.
struct OfficeCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "action", help: "connect | list | demo")
        var action: String
        @Option(name: "agency", help: "Mã cơ quan / agency code") var agency: String?
        @Option(name: "hub", help: "Địa chỉ trục, hoặc local / hub URL, or local (this server)") var hub: String?
        @Option(name: "system-id", help: "Mã hệ thống (GOVOFFICE_SYSTEM_ID) / system id") var systemID: String?
        // No --secret: a command line is visible to every user of the machine (ps, /proc).
        @Flag(name: "secret-stdin", help: "Đọc khóa bí mật từ đầu vào chuẩn (hoặc GOVOFFICE_SECRET_KEY) / read the secret key from standard input (or GOVOFFICE_SECRET_KEY)")
        var secretStdin: Bool
        @Option(name: "key", help: "Khóa ký PEM của cơ quan / the agency's signing key (PEM)") var key: String?
        @Option(name: "cert", help: "Chứng thư số PEM / certificate chain (PEM)") var cert: String?
        @Option(name: "pkcs11", help: "Thư viện PKCS#11 của token / the token's PKCS#11 module") var pkcs11: String?
        @Option(name: "token", help: "Nhãn token / token label") var token: String?
        @Option(name: "key-label", help: "Nhãn khóa trên token / key label on the token") var keyLabel: String?
    }

    var help: String { "Kết nối sổ văn bản với trục liên thông / connect an agency's document office to the hub" }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        switch signature.action {
        case "connect":
            let env = ProcessInfo.processInfo.environment
            let secret = signature.secretStdin ? readLine(strippingNewline: true) : env["GOVOFFICE_SECRET_KEY"]
            guard let agency = signature.agency, let hub = signature.hub ?? env["GOVOFFICE_HUB_URL"],
                  let systemID = signature.systemID ?? env["GOVOFFICE_SYSTEM_ID"],
                  let secret = secret?.trimmingCharacters(in: .whitespacesAndNewlines), !secret.isEmpty,
                  (signature.key != nil && signature.cert != nil) != (signature.pkcs11 != nil && signature.token != nil) else {
                context.console.error("Cần / needs: --agency --hub --system-id (or GOVOFFICE_HUB_URL, GOVOFFICE_SYSTEM_ID), the secret in GOVOFFICE_SECRET_KEY or on standard input with --secret-stdin, and --key --cert or --pkcs11 --token [--key-label]")
                throw ExitStatus(2)
            }
            do {
                try await app.office.connect(.init(agencyCode: agency, hubURL: hub, systemID: systemID, secret: secret,
                                                   keyPath: signature.key ?? "", certPath: signature.cert ?? "",
                                                   pkcs11Module: signature.pkcs11, tokenLabel: signature.token,
                                                   keyLabel: signature.keyLabel),
                                             vault: app.secrets, config: app.govConfig, actor: .commandLine)
            } catch let error as GovError {
                context.console.error("\(error.code): \(error.vi) / \(error.en)")
                throw ExitStatus(1)
            }
            context.console.print("Đã kết nối / connected: \(agency) → \(hub) (\(systemID))")
        case "demo":
            // Before or beside `serve`: the demo agencies must exist first.
            if try await DemoSeeder.seedIfEmpty(app) { context.console.print(DemoSeeder.banner()) }
            try await DemoOffices.connectIfNone(app)
            for c in try await app.office.connections() { context.console.print("\(c.agencyCode) → \(c.hubURL) (\(c.systemID))") }
        case "list":
            for c in try await app.office.connections() {
                context.console.print("\(c.agencyCode)\t\(c.hubURL)\t\(c.systemID)\t\(c.enabled ? "on" : "off")\t\(c.lastError ?? "")")
            }
        default:
            context.console.error("Lệnh không hỗ trợ / unknown action: \(signature.action). Dùng / use: connect | list | demo")
            throw ExitStatus(2)
        }
    }
}

/// The demo's offices (`govoffice office demo`, or `GOVOFFICE_DEMO_OFFICES=on` at start-up):
/// G22 and H41 each get a system on this server's own hub, their demo
/// certificates, and a connection to "local", so a document sent from one office arrives in the
/// other without any set-up.
enum DemoOffices {
    static let agencies = ["000.00.00.G22", "000.00.00.H41"]

    static func connectIfNone(_ app: Application) async throws {
        guard try await OfficeConnection.query(on: app.db).count() == 0 else { return }
        _ = try await DemoCertificates.create(app)
        let directory = app.govConfig.pkiDirectory
        for code in agencies {
            guard let agency = try await AgencyDirectory(db: app.db).find(code: code) else { continue }
            let systemID = "demo.office.\(code.split(separator: ".").last ?? "")".lowercased()
            guard try await AgencySystem.query(on: app.db).filter(\.$systemID == systemID).first() == nil else { continue }
            let issued = try await SystemCredentials(db: app.db).issue(agency: agency, systemID: systemID,
                                                              name: "Sổ văn bản (dữ liệu mẫu)", actor: .commandLine)
            try await app.office.connect(.init(agencyCode: code, hubURL: OfficeConnection.localHub, systemID: systemID,
                                               secret: issued.secret, keyPath: "\(directory)/agencies/\(code).key",
                                               certPath: "\(directory)/agencies/\(code).pem"),
                                         vault: app.secrets, config: app.govConfig, actor: .commandLine)
        }
    }
}
