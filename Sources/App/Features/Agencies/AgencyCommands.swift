import ConsoleKit
import Fluent
import Foundation
import GovCore
import Vapor

/// `govoffice agencies import FILE.csv` and `govoffice agencies export [FILE.csv]`.
struct AgenciesCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "action", help: "import | export")
        var action: String
        @Argument(name: "file", help: "CSV file (export to /dev/stdout to print it)")
        var file: String
        @Flag(name: "dry-run", help: "Chỉ kiểm tra, không ghi / validate only, write nothing")
        var dryRun: Bool
    }

    var help: String { "Nhập/xuất danh bạ cơ quan CSV / import or export the agency directory as CSV" }

    func run(using context: CommandContext, signature: Signature) async throws {
        switch signature.action {
        case "import": try await runImport(context, signature)
        case "export": try await runExport(context, signature)
        default:
            context.console.error("Lệnh không hỗ trợ / unknown action: \(signature.action). Dùng / use: agencies import|export FILE")
            throw ExitStatus(2)
        }
    }

    private func runImport(_ context: CommandContext, _ signature: Signature) async throws {
        let path = signature.file
        guard let data = FileManager.default.contents(atPath: path) else {
            context.console.error("Không đọc được tệp / cannot read file: \(path)")
            throw ExitStatus(2)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            context.console.error("Tệp phải mã hóa UTF-8 / the file must be UTF-8: \(path)")
            throw ExitStatus(2)
        }
        let directory = AgencyDirectory(db: context.application.db)
        let report: AgencyDirectory.ImportReport
        if signature.dryRun {
            report = try await directory.importCSV(text, by: .commandLine, dryRun: true)
        } else {
            let bar = context.console.progressBar(title: "Nhập danh bạ / importing")
            bar.start()
            report = try await directory.importCSV(text, by: .commandLine) { done, total in
                bar.activity.currentProgress = Double(done) / Double(max(total, 1))
            }
            if report.succeeded { bar.succeed() } else { bar.fail() }
        }
        for warning in report.warnings {
            context.console.warning("Dòng/line \(warning.line)\(warning.column.map { " [\($0)]" } ?? ""): \(warning.vi) / \(warning.en)")
        }
        for error in report.errors {
            context.console.error("Dòng/line \(error.line)\(error.column.map { " [\($0)]" } ?? ""): \(error.code): \(error.vi) / \(error.en)")
        }
        guard report.succeeded else {
            context.console.error("Không nhập gì: \(report.errors.count) lỗi / nothing imported: \(report.errors.count) errors")
            throw ExitStatus(1)
        }
        if signature.dryRun {
            context.console.success("Tệp hợp lệ / the file is valid (dry run, nothing written)")
        } else {
            context.console.success("Đã nhập / imported: \(report.created) mới / created, \(report.updated) cập nhật / updated")
        }
    }

    private func runExport(_ context: CommandContext, _ signature: Signature) async throws {
        let csv = try await AgencyDirectory(db: context.application.db).exportCSV()
        let path = signature.file
        if path == "/dev/stdout" {
            context.console.output(csv.consoleText(), newLine: false)
        } else {
            try csv.write(toFile: path, atomically: true, encoding: .utf8)
            context.console.success("Đã xuất / exported to \(path)")
        }
    }
}

/// `govoffice users create`: the first administrator of a PostgreSQL install, and scripted accounts.
struct UsersCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "action", help: "create | password")
        var action: String
        @Option(name: "username", help: "tên đăng nhập / username")
        var username: String?
        @Option(name: "name", help: "họ tên / full name")
        var name: String?
        @Option(name: "agency", help: "mã cơ quan / agency code")
        var agency: String?
        @Option(name: "roles", help: "vai trò, cách nhau bởi dấu phẩy / comma-separated roles, e.g. system_admin")
        var roles: String?
    }

    var help: String {
        "Tạo tài khoản, đặt mật khẩu (mật khẩu từ GOVOFFICE_NEW_PASSWORD) / create an account, set a password (from GOVOFFICE_NEW_PASSWORD)"
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        guard let password = ProcessInfo.processInfo.environment["GOVOFFICE_NEW_PASSWORD"], !password.isEmpty else {
            context.console.error("Đặt mật khẩu trong biến GOVOFFICE_NEW_PASSWORD / set GOVOFFICE_NEW_PASSWORD")
            throw ExitStatus(2)
        }
        if signature.action == "password", let username = signature.username {
            // The way out of the demo's published passwords on a server reached only over SSH.
            do {
                guard let user = try await User.query(on: context.application.db)
                    .filter(\.$username == (try Username.normalize(username))).first() else {
                    context.console.error("user_not_found: Không có người dùng \(username) / no such user")
                    throw ExitStatus(1)
                }
                try await context.application.accounts.setPassword(user, to: password, actor: .commandLine)
                context.console.success("Đã đặt mật khẩu mới / password set: \(user.username)")
                return
            } catch let error as GovError {
                context.console.error("\(error.code): \(error.vi) / \(error.en)")
                throw ExitStatus(1)
            }
        }
        guard signature.action == "create", let username = signature.username, let name = signature.name,
              let rolesText = signature.roles else {
            context.console.error("Dùng / use: users create --username U --name \"Họ tên\" --agency CODE --roles system_admin | users password --username U")
            throw ExitStatus(2)
        }
        do {
            let roles = try UserAdminController.parseRoles(rolesText.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
            let user = try await context.application.accounts.create(
                .init(username: username, fullName: name, email: nil, position: nil, agencyCode: signature.agency,
                      departmentCode: nil, roles: roles, password: password),
                by: nil, actor: .commandLine)
            context.console.success("Đã tạo / created: \(user.username)")
        } catch let error as GovError {
            context.console.error("\(error.code): \(error.vi) / \(error.en)")
            throw ExitStatus(1)
        }
    }
}
