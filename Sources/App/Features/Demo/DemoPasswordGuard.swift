import Fluent
import Foundation
import GovCore
import NIOConcurrencyHelpers
import Vapor

/// The demo accounts' password is published in the README. While any of them still has it, the server is a
/// demo: it listens only on loopback unless the operator says `GOVOFFICE_DEMO=on`, and administrators see a
/// banner until the passwords are changed.
enum DemoPasswordGuard {
    /// A demo account that still opens with the published password: enough to say who may change it.
    struct OpenAccount: Sendable, Hashable {
        var id: UUID
        var username: String
        var agencyID: UUID?
        var roles: Set<Role>
    }

    /// The demo accounts that are active and still open with the published password. Only the published
    /// usernames are tried, one bcrypt check per distinct hash (the seeder shares one).
    static func accountsWithPublishedPassword(_ app: Application) async throws -> [OpenAccount] {
        let names = DemoSeeder.accounts.map(\.username)
        let users = try await User.query(on: app.db).filter(\.$username ~~ names)
            .filter(\.$state == UserState.active.rawValue).all()
        var open: [OpenAccount] = []
        for (hash, group) in Dictionary(grouping: users, by: \.passwordHash) {
            if (try? await app.password.async.verify(DemoSeeder.password, created: hash)) == true {
                open += group.compactMap { user in
                    user.id.map { OpenAccount(id: $0, username: user.username, agencyID: user.$agency.id, roles: user.roleSet) }
                }
            }
        }
        return open.sorted { $0.username < $1.username }
    }

    /// The open accounts `principal` could change (AccessPolicy.canManageAccount), for the banner: an
    /// agency admin is shown its own agency's, never a system admin's it could not reset.
    static func banner(_ open: [OpenAccount], for principal: Principal) -> [OpenAccount] {
        open.filter { account in
            guard let agencyID = account.agencyID ?? (principal.isSystemAdmin ? principal.agencyID : nil) else { return false }
            return AccessPolicy.canManageAccount(ofAgency: agencyID, holding: account.roles, principal)
        }
    }

    /// Whether `host` (as given to `serve --hostname`) is a loopback address.
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }

    /// The address `serve` will listen on, read from its arguments as Vapor's serve command reads them
    /// (`--hostname`/`-H`, `--bind`/`-b host:port`), else the configured default.
    static func listeningHost(_ app: Application) -> String {
        let args = Array(app.environment.arguments.dropFirst())
        for (index, arg) in args.enumerated() {
            let next = index + 1 < args.count ? args[index + 1] : nil
            switch arg {
            case "--hostname", "-H": if let next { return next }
            case "--bind", "-b":
                if let next {
                    if next.hasPrefix("["), let end = next.firstIndex(of: "]") { return String(next[...end]) }
                    return String(next.split(separator: ":").first ?? "")
                }
            case "--unix-socket": return "localhost"
            default:
                if arg.hasPrefix("--hostname=") { return String(arg.dropFirst("--hostname=".count)) }
                if arg.hasPrefix("--bind=") { return String(arg.dropFirst("--bind=".count).split(separator: ":").first ?? "") }
            }
        }
        return app.http.server.configuration.hostname
    }

    /// At `serve`: remembers which demo accounts are open (for the banner) and refuses to listen beyond
    /// loopback while any is, unless `GOVOFFICE_DEMO=on` was set on purpose.
    static func check(_ app: Application) async throws {
        // Before `migrate` has run on PostgreSQL there are no accounts to worry about.
        let open = (try? await accountsWithPublishedPassword(app)) ?? []
        app.demoPasswordAccounts.withLockedValue { $0 = open }
        if let refusal = refusal(open: Set(open.map(\.username)), host: listeningHost(app), demo: app.govConfig.demo) {
            throw refusal
        }
    }

    /// The rule: open demo accounts keep the server on loopback unless demo mode was asked for explicitly.
    static func refusal(open: Set<String>, host: String, demo: AppConfig.DemoMode) -> DemoPasswordRefusal? {
        guard !open.isEmpty, !isLoopback(host), demo != .on else { return nil }
        return DemoPasswordRefusal(host: host, accounts: open.sorted())
    }
}

/// `serve` on a non-loopback address while demo accounts still have the published password.
struct DemoPasswordRefusal: Error, CustomStringConvertible {
    let host: String
    let accounts: [String]
    var description: String {
        """
        Không mở máy chủ ra địa chỉ \(host): các tài khoản mẫu \(accounts.joined(separator: ", ")) vẫn dùng mật khẩu \
        công khai trong README. Hãy đổi mật khẩu của chúng (trang Người dùng, hoặc `GOVOFFICE_NEW_PASSWORD=… govoffice users password --username U`), hoặc đặt \
        GOVOFFICE_DEMO=on nếu đây đúng là máy chạy thử. / Refusing to listen on \(host): the demo accounts \
        \(accounts.joined(separator: ", ")) still have the password published in the README. Change their passwords, \
        or set GOVOFFICE_DEMO=on if this really is a demo machine.
        """
    }
}

extension Application {
    private struct DemoPasswordAccountsKey: StorageKey {
        typealias Value = NIOLockedValueBox<[DemoPasswordGuard.OpenAccount]>
    }

    /// The demo accounts that still had the published password at start-up, less those reset since.
    var demoPasswordAccounts: NIOLockedValueBox<[DemoPasswordGuard.OpenAccount]> {
        if let box = storage[DemoPasswordAccountsKey.self] { return box }
        let box = NIOLockedValueBox<[DemoPasswordGuard.OpenAccount]>([])
        storage[DemoPasswordAccountsKey.self] = box
        return box
    }
}
