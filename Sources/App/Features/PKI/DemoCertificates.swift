import Fluent
import Foundation
import GovCore
import PKI
import Vapor

/// `govoffice pki demo`: a demo root CA, a certificate for every agency and every person of the
/// directory, and a hub seal, written under `GOVOFFICE_PKI_DIR` and registered (trusted root, bindings). Running
/// it again reuses the root, and binds (without re-issuing) whoever already has a certificate file.
enum DemoCertificates {
    struct Result {
        var directory: String
        var agencies: Int
        var people: Int
        var reusedRoot: Bool

        var summary: String {
            """
            CA mẫu / demo CA: \(directory)/root-ca.pem\(reusedRoot ? " (dùng lại / reused)" : "")
            Chứng thư mới / new certificates: \(agencies) cơ quan / agencies, \(people) người / people
            Khóa / keys: \(directory)/agencies/CODE.key, \(directory)/people/USERNAME.key (chỉ dùng thử / demo only)
            Con dấu trục / hub seal: GOVOFFICE_HUB_SEAL_KEY=\(directory)/hub/hub-seal.key GOVOFFICE_HUB_SEAL_CERT=\(directory)/hub/hub-seal.pem
            Ký thử / try: govoffice sign --key \(directory)/agencies/000.00.00.G22.key --cert \(directory)/agencies/000.00.00.G22.pem IN.edxml OUT.edxml
            CẢNH BÁO: CA mẫu chỉ để dùng thử, không có giá trị pháp lý. / WARNING: the demo CA is for trying GovOffice only; its signatures have no legal value.
            """
        }
    }

    /// The demo root CA of `directory`: the one written there before, or a new one written now.
    /// `pki demo` and the hub's demo seal share it, so the seal chains to the CA `pki demo` trusts.
    static func root(in directory: String) throws -> (demo: DemoPKI, reused: Bool) {
        let rootCert = "\(directory)/root-ca.pem", rootKey = "\(directory)/root-ca.key"
        if FileManager.default.fileExists(atPath: rootCert), FileManager.default.fileExists(atPath: rootKey) {
            return (try DemoPKI(rootCertificatePEM: try ToolFiles.text(rootCert), rootKeyPEM: try ToolFiles.text(rootKey)), true)
        }
        let demo = try DemoPKI()
        try ToolFiles.writePEM([demo.root.certificatePEM], to: rootCert)
        try ToolFiles.writePEM([demo.root.keyPEM], to: rootKey, secret: true)
        return (demo, false)
    }

    static func create(_ app: Application) async throws -> Result {
        let directory = app.govConfig.pkiDirectory
        let files = FileManager.default
        let (demo, reused) = try root(in: directory)
        let pki = app.pki
        try await pki.addAnchors(pem: demo.root.certificatePEM, source: "demo", actor: .commandLine)
        let directoryService = AgencyDirectory(db: app.db)

        var agencies = 0
        for agency in try await Agency.query(on: app.db).sort(\.$code).all() where agency.state == "active" {
            let base = "\(directory)/agencies/\(agency.code)"
            guard !files.fileExists(atPath: base + ".pem") else {
                // Made for another database that shares this folder (a hub and its offices): bind
                // it here too, or this database refuses the agency's signatures (binding is idempotent).
                _ = try await pki.bind(certificatePEM: try ToolFiles.text(base + ".pem"), agencyCode: agency.code, kind: "agency",
                                       username: nil, actor: .commandLine, agencies: directoryService)
                continue
            }
            let issued = try demo.issueAgency(code: agency.code, name: agency.name)
            try ToolFiles.writePEM([issued.keyPEM], to: base + ".key", secret: true)
            try ToolFiles.writePEM([issued.certificatePEM, demo.root.certificatePEM], to: base + ".pem")
            try await pki.bind(certificatePEM: issued.certificatePEM, agencyCode: agency.code, kind: "agency", username: nil,
                               actor: .commandLine, agencies: directoryService)
            agencies += 1
        }
        var people = 0
        for user in try await User.query(on: app.db).with(\.$agency).sort(\.$username).all() {
            guard let agency = user.agency else { continue }
            let base = "\(directory)/people/\(user.username)"
            guard !files.fileExists(atPath: base + ".pem") else {
                _ = try await pki.bind(certificatePEM: try ToolFiles.text(base + ".pem"), agencyCode: agency.code, kind: "person",
                                       username: user.username, actor: .commandLine, agencies: directoryService)
                continue
            }
            let issued = try demo.issuePerson(fullName: user.fullName, username: user.username, agencyName: agency.name)
            try ToolFiles.writePEM([issued.keyPEM], to: base + ".key", secret: true)
            try ToolFiles.writePEM([issued.certificatePEM, demo.root.certificatePEM], to: base + ".pem")
            try await pki.bind(certificatePEM: issued.certificatePEM, agencyCode: agency.code, kind: "person",
                               username: user.username, actor: .commandLine, agencies: directoryService)
            people += 1
        }
        // The hub's seal too, so that a server outside demo mode can be pointed at it.
        try HubSeal.makeDemo(in: directory)
        return Result(directory: directory, agencies: agencies, people: people, reusedRoot: reused)
    }
}
