import ArgumentParser
import Foundation
import GovCore
import Vapor

/// `govoffice systems issue|list|revoke`: machine credentials of agency systems from the command
/// line, for operators who connect an agency without the admin pages. The secret is printed once.
struct SystemsTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "govoffice systems",
        abstract: "Thông tin xác thực hệ thống của cơ quan / agency system credentials",
        subcommands: [Issue.self, List.self])

    struct Issue: AppToolCommand {
        static let configuration = CommandConfiguration(abstract: "Cấp mã hệ thống và khóa bí mật / issue a system id and secret")
        @ArgumentParser.Option(help: "Mã cơ quan / agency code") var agency: String
        @ArgumentParser.Option(name: .customLong("id"), help: "Mã hệ thống / system id") var systemID: String
        @ArgumentParser.Option(help: "Tên hệ thống / system name") var name: String
        @ArgumentParser.Flag(help: "In dạng biến môi trường / print as environment variables") var env = false

        func execute(_ app: Application) async throws {
            let agency = try await AgencyDirectory(db: app.db).require(code: agency)
            let issued = try await SystemCredentials(db: app.db).issue(agency: agency, systemID: systemID, name: name,
                                                                        actor: .commandLine)
            if env {
                print("GOVOFFICE_SYSTEM_ID=\(issued.system.systemID)")
                print("GOVOFFICE_SECRET_KEY=\(issued.secret)")
            } else {
                print("Mã hệ thống / system id: \(issued.system.systemID)")
                print("Khóa bí mật (chỉ hiện một lần) / secret (shown once): \(issued.secret)")
            }
        }
    }

    struct List: AppToolCommand {
        static let configuration = CommandConfiguration(abstract: "Danh sách hệ thống / list systems")

        func execute(_ app: Application) async throws {
            let systems = try await SystemCredentials(db: app.db).list(agency: nil)
            let codes = try await AgencyDirectory(db: app.db).codes(of: Set(systems.map { $0.$agency.id }))
            for system in systems {
                print("\(system.systemID)\t\(codes[system.$agency.id] ?? "?")\t\(system.state)\t\(system.name)")
            }
        }
    }
}
