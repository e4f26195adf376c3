import Fluent
import FluentSQL
import Foundation
import NIOConcurrencyHelpers
import GovCore
import Vapor

/// Accounts' interface for the rest of the system: sign-in with back-off, and the changes an
/// administrator makes. Every change is audited in the same transaction.
struct AccountService: Sendable {
    let db: any Database
    let app: Application

    static let loginFailed = GovError(
        "login_failed", .unauthorized,
        vi: "Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản không được phép đăng nhập.",
        en: "Wrong username or password, or the account may not sign in.")

    static func loginLocked(seconds: Int) -> GovError {
        GovError("login_locked", .tooManyRequests,
                 vi: "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau \(seconds) giây.",
                 en: "Too many failed sign-ins. Try again in \(seconds) seconds.")
    }

    /// Checks a username and password. The answer and the time it takes are the same whether the
    /// account exists or not. Every attempt is counted as a failure *before* the password is checked, per
    /// username and per client address, with a compare-and-set on the counter row: parallel guesses cannot
    /// all slip in while the first is being checked, and spraying one password over many accounts from one
    /// address is slowed too. A correct password then takes the attempt back.
    func authenticate(username raw: String, password: String, actor: AuditActor) async throws -> User {
        // Keys never collide: usernames have no ':' and invalid ones are marked with '~'.
        let key = (try? Username.normalize(raw)) ?? "~" + String(raw.lowercased().prefix(63))
        let addressKey = actor.ip.map { "addr:" + $0 }
        let config = app.govConfig
        let now = Date()
        let lock = try await claimAttempt(key: key, policy: config.loginThrottle, now: now)
        let addressLock = try await addressKey.asyncMap {
            try await claimAttempt(key: $0, policy: config.addressLoginThrottle, now: now)
        } ?? nil
        let user = try await User.query(on: db).filter(\.$username == key).first()
        let hash: String
        if let user { hash = user.passwordHash } else { hash = try await app.dummyPasswordHash() }
        let passwordMatches = (try? await app.password.async.verify(password, created: hash)) ?? false
        var allowed = passwordMatches && user?.isActive == true
        var agencyCode: String?
        if allowed, let agencyID = user?.$agency.id, let agency = try await AgencyDirectory(db: db).find(id: agencyID) {
            allowed = agency.agencyState == .active
            agencyCode = agency.code
        }
        guard allowed, let user else {
            try await AuditLog.append("auth.login_failed", entity: "user", id: key, by: actor, on: db)
            if let seconds = [lock, addressLock].compactMap({ $0 }).max() { throw Self.loginLocked(seconds: seconds) }
            throw Self.loginFailed
        }
        let who = AuditActor(label: "user:\(user.username)", agencyCode: agencyCode, ip: actor.ip,
                             requestID: actor.requestID)
        try await db.atomically { tx in
            try await LoginThrottle.query(on: tx).filter(\.$usernameKey == key).delete()
            if let addressKey { try await Self.takeBackAttempt(key: addressKey, policy: config.addressLoginThrottle, on: tx) }
            user.lastLoginAt = now
            try await user.save(on: tx)
            try await AuditLog.append("auth.login", entity: "user", id: user.username, by: who, on: tx)
        }
        return user
    }

    /// Counts one attempt against `key` as a failure and returns the lock (seconds) that the failure sets,
    /// if any; throws `login_locked` while a lock holds. The counter moves only from the value just read
    /// (compare-and-set), so of two concurrent attempts one retries on the new value.
    private func claimAttempt(key: String, policy: LoginThrottlePolicy, now: Date) async throws -> Int? {
        let sql = db.sql
        for _ in 0..<16 {
            let row = try await LoginThrottle.query(on: db).filter(\.$usernameKey == key).first()
            if let until = row?.lockedUntil, until > now {
                throw Self.loginLocked(seconds: max(1, Int(until.timeIntervalSince(now).rounded(.up))))
            }
            let failures = (row?.failures ?? 0) + 1
            let lock = policy.lockSeconds(afterFailures: failures)
            let until = lock.map { now.addingTimeInterval(TimeInterval($0)) }
            let claimed: Bool
            if let row {
                claimed = try await sql.raw("""
                    UPDATE login_throttles SET failures = \(bind: failures), locked_until = \(bind: until),
                      updated_at = \(bind: now)
                    WHERE username_key = \(bind: key) AND failures = \(bind: row.failures)
                      AND (locked_until IS NULL OR locked_until <= \(bind: now))
                    RETURNING username_key
                    """).all().count == 1
            } else {
                claimed = try await sql.raw("""
                    INSERT INTO login_throttles (id, username_key, failures, locked_until, updated_at)
                    VALUES (\(bind: UUID()), \(bind: key), 1, \(bind: until), \(bind: now))
                    ON CONFLICT (username_key) DO NOTHING RETURNING username_key
                    """).all().count == 1
            }
            if claimed { return lock }
        }
        // Sixteen lost races in a row: somebody hammers this key; answer as for a lock.
        throw Self.loginLocked(seconds: policy.baseLockSeconds)
    }

    /// A successful sign-in from an address takes its own attempt back, lifting the lock it set up front.
    private static func takeBackAttempt(key: String, policy: LoginThrottlePolicy, on db: any Database) async throws {
        try await db.sql.raw("""
            UPDATE login_throttles SET failures = failures - 1,
              locked_until = CASE WHEN failures - 1 < \(bind: policy.maxFailures) THEN NULL ELSE locked_until END
            WHERE username_key = \(bind: key) AND failures > 0
            """).run()
    }

    /// What an administrator fills in to create an account.
    struct NewAccount: Sendable {
        var username: String
        var fullName: String
        var email: String?
        var position: String?
        var agencyCode: String?
        var departmentCode: String?
        var roles: Set<Role>
        var password: String
    }

    func create(_ input: NewAccount, by principal: Principal?, actor: AuditActor) async throws -> User {
        let username = try Username.normalize(input.username)
        let fullName = try Self.validName(input.fullName)
        try PasswordPolicy.check(input.password)
        let email = try Self.validEmail(input.email)
        guard !input.roles.isEmpty else { throw Self.noRole }
        let (agency, department) = try await resolveMembership(agencyCode: input.agencyCode,
                                                               departmentCode: input.departmentCode)
        if let principal {
            guard let agencyID = agency?.id ?? principal.agencyID,
                  AccessPolicy.canManageUsers(ofAgency: agencyID, principal) else { throw Self.forbidden }
            guard input.roles.isSubset(of: AccessPolicy.grantableRoles(principal)) else { throw Self.roleNotGrantable }
        }
        if input.roles.contains(where: \.isStaff), agency == nil { throw Self.staffNeedsAgency }
        if try await User.query(on: db).filter(\.$username == username).first() != nil {
            throw GovError("username_taken", .conflict, vi: "Tên đăng nhập \(username) đã được dùng.",
                           en: "The username \(username) is already taken.")
        }
        let hash = try await app.password.async.hash(input.password)
        let user = User(username: username, fullName: fullName, agencyID: agency?.id, departmentID: department?.id,
                        roles: input.roles, passwordHash: hash, email: email, position: input.position)
        try await db.atomically { tx in
            try await user.create(on: tx)
            try await AuditLog.append("user.create", entity: "user", id: username,
                                      details: ["roles": user.roles.joined(separator: ",")],
                                      agencyCode: agency?.code, by: actor, on: tx)
        }
        return user
    }

    /// What an administrator may change on an account.
    struct Changes: Sendable {
        var fullName: String
        var email: String?
        var position: String?
        var departmentCode: String?
        var roles: Set<Role>
        var state: UserState
    }

    func update(_ user: User, _ changes: Changes, by principal: Principal, actor: AuditActor) async throws {
        try authorize(user, principal)
        if user.id == principal.userID, changes.roles != user.roleSet {
            throw GovError("cannot_change_own_roles", .forbidden, vi: "Không thể tự thay đổi vai trò của mình.",
                           en: "You cannot change your own roles.")
        }
        let fullName = try Self.validName(changes.fullName)
        let email = try Self.validEmail(changes.email)
        guard !changes.roles.isEmpty else { throw Self.noRole }
        let grantable = AccessPolicy.grantableRoles(principal)
        // An administrator may keep roles they could not grant, but not add them.
        guard changes.roles.subtracting(user.roleSet).isSubset(of: grantable) else { throw Self.roleNotGrantable }
        if user.id == principal.userID, changes.state == .locked {
            throw GovError("cannot_lock_self", .invalid, vi: "Không thể tự khóa tài khoản của mình.",
                           en: "You cannot lock your own account.")
        }
        let agencyCode = try await user.$agency.id.asyncMap { try await AgencyDirectory(db: db).find(id: $0)?.code } ?? nil
        let department = try await resolveMembership(agencyCode: agencyCode, departmentCode: changes.departmentCode).1
        let endsSessions = changes.roles != user.roleSet || (changes.state != .active && user.isActive)
        let removesSystemAdmin = user.isActive && user.roleSet.contains(.systemAdmin)
            && (!changes.roles.contains(.systemAdmin) || changes.state != .active)
        try await db.atomically { tx in
            user.fullName = fullName
            user.email = email
            user.position = changes.position?.trimmingCharacters(in: .whitespaces).nilIfEmpty
            user.$department.id = department?.id
            user.roles = changes.roles.map(\.rawValue).sorted()
            user.state = changes.state.rawValue
            user.refreshSearchKey()
            try await user.save(on: tx)
            try await AuditLog.append("user.update", entity: "user", id: user.username,
                                      details: ["roles": user.roles.joined(separator: ","), "state": user.state],
                                      agencyCode: agencyCode, by: actor, on: tx)
            // Counted after the audit append, which locks the chain head: two admins demoting each other at
            // once are serialised there, and the second sees the first's change.
            if removesSystemAdmin, try await Self.activeSystemAdminCount(on: tx) == 0 {
                throw GovError("last_system_admin", .conflict,
                               vi: "Không thể khóa hoặc bỏ vai trò của quản trị hệ thống cuối cùng còn hoạt động.",
                               en: "The last active system administrator cannot be locked or lose that role.")
            }
            if endsSessions, let id = user.id { try await WebSession.endAll(of: id, on: tx) }
        }
    }

    /// Active accounts holding the system admin role (roles are a text array on PostgreSQL, JSON on SQLite).
    static func activeSystemAdminCount(on db: any Database) async throws -> Int {
        let sql = db.sql
        let test = sql.dialect.name == "postgresql" ? "'system_admin' = ANY(roles)" : #"roles LIKE '%"system_admin"%'"#
        let row = try await sql.raw("SELECT COUNT(*) AS n FROM users WHERE state = 'active' AND \(unsafeRaw: test)").first()
        return try row?.decode(column: "n", as: Int.self) ?? 0
    }

    func resetPassword(_ user: User, to password: String, by principal: Principal, actor: AuditActor) async throws {
        try authorize(user, principal)
        try await setPassword(user, to: password, actor: actor)
    }

    /// Sets a new password with no rights check: for ``resetPassword(_:to:by:actor:)`` after its check, and for
    /// the operator's `govoffice users password`, who holds the database anyway. Ends the user's sessions.
    func setPassword(_ user: User, to password: String, actor: AuditActor) async throws {
        try PasswordPolicy.check(password)
        let hash = try await app.password.async.hash(password)
        try await db.atomically { tx in
            user.passwordHash = hash
            user.passwordChangedAt = Date()
            try await user.save(on: tx)
            try await LoginThrottle.query(on: tx).filter(\.$usernameKey == user.username).delete()
            if let id = user.id { try await WebSession.endAll(of: id, on: tx) }
            try await AuditLog.append("user.password_reset", entity: "user", id: user.username, by: actor, on: tx)
        }
        app.demoPasswordAccounts.withLockedValue { $0.removeAll { $0.username == user.username } }
    }

    /// Which of `usernames` are paused by the sign-in back-off right now.
    func pausedUsernames(_ usernames: [String]) async throws -> Set<String> {
        guard !usernames.isEmpty else { return [] }
        let now = Date()
        return Set(try await LoginThrottle.query(on: db).filter(\.$usernameKey ~~ usernames).all()
            .filter { ($0.lockedUntil ?? .distantPast) > now }.map(\.usernameKey))
    }

    /// An administrator lifts the sign-in pause of `user`.
    func clearSignInPause(_ user: User, by principal: Principal, actor: AuditActor) async throws {
        try authorize(user, principal)
        try await db.atomically { tx in
            try await LoginThrottle.query(on: tx).filter(\.$usernameKey == user.username).delete()
            try await AuditLog.append("user.login_unlock", entity: "user", id: user.username, by: actor, on: tx)
        }
    }

    /// Forgets failure counts that have been quiet for a day, so old typos never add up to a
    /// lock-out; safe to run on several nodes at once.
    static func forgetQuietFailures(on db: any Database, olderThan age: TimeInterval = 86_400) async throws {
        let cutoff = Date().addingTimeInterval(-age)
        try await LoginThrottle.query(on: db)
            .filter(\.$updatedAt < cutoff)
            .group(.or) { $0.filter(\.$lockedUntil == nil).filter(\.$lockedUntil < Date()) }
            .delete()
    }

    /// A member of an agency as other subsystems see them: who, which unit, which roles.
    struct Member: Sendable {
        var id: UUID
        var username: String
        var fullName: String
        /// The department's code.
        var unit: String?
        var roles: Set<Role>
    }

    /// The active members of an agency, by full name: the people other features may name (a
    /// document's handler, a meeting's participants, the leader whose calendar it is).
    func members(ofAgency agencyID: UUID) async throws -> [Member] {
        let departments = try await Department.query(on: db).filter(\.$agency.$id == agencyID).all()
        let units = Dictionary(uniqueKeysWithValues: departments.compactMap { d in d.id.map { ($0, d.code) } })
        return try await User.query(on: db).filter(\.$agency.$id == agencyID).filter(\.$state == UserState.active.rawValue)
            .sort(\.$fullName).all()
            .compactMap { user in
                user.id.map { Member(id: $0, username: user.username, fullName: user.fullName,
                                     unit: user.$department.id.flatMap { units[$0] }, roles: user.roleSet) }
            }
    }

    /// ``members(ofAgency:)`` by the agency's code (none for an unknown code).
    func members(ofAgencyCode code: String) async throws -> [Member] {
        guard let agency = try await Agency.query(on: db).filter(\.$code == code).first() else { return [] }
        return try await members(ofAgency: agency.requireID())
    }

    /// The accounts with the given ids (any missing are left out), whatever their state.
    static func users(ids: Set<UUID>, on db: any Database) async throws -> [User] {
        guard !ids.isEmpty else { return [] }
        return try await User.query(on: db).filter(\.$id ~~ ids).all()
    }

    /// Whether `principal` may change `user` (AccessPolicy.canManageAccount): besides the agency, every role
    /// the account holds must be one the principal could grant.
    func authorize(_ user: User, _ principal: Principal) throws {
        try authorizeView(user, principal)
        guard let agencyID = user.$agency.id ?? (principal.isSystemAdmin ? principal.agencyID : nil),
              AccessPolicy.canManageAccount(ofAgency: agencyID, holding: user.roleSet, principal) else {
            throw Self.higherAccount
        }
    }

    /// Whether `principal` may look at `user`'s page (AccessPolicy.canViewUsers).
    func authorizeView(_ user: User, _ principal: Principal) throws {
        guard let agencyID = user.$agency.id ?? (principal.isSystemAdmin ? principal.agencyID : nil),
              AccessPolicy.canViewUsers(ofAgency: agencyID, principal) else { throw Self.forbidden }
    }

    private func resolveMembership(agencyCode: String?, departmentCode: String?) async throws -> (Agency?, Department?) {
        guard let code = agencyCode?.trimmingCharacters(in: .whitespaces).nilIfEmpty else {
            if departmentCode?.nilIfEmpty != nil { throw Self.departmentUnknown }
            return (nil, nil)
        }
        let directory = AgencyDirectory(db: db)
        let agency = try await directory.require(code: code)
        guard let departmentCode = departmentCode?.trimmingCharacters(in: .whitespaces).nilIfEmpty else {
            return (agency, nil)
        }
        guard let department = try await directory.department(in: agency, code: departmentCode) else {
            throw Self.departmentUnknown
        }
        return (agency, department)
    }

    static func validName(_ raw: String) throws -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200 else {
            throw GovError("full_name_invalid", .invalid, vi: "Họ tên là bắt buộc (tối đa 200 ký tự).",
                           en: "A full name is required (at most 200 characters).")
        }
        return name
    }

    static func validEmail(_ raw: String?) throws -> String? {
        guard let email = raw?.trimmingCharacters(in: .whitespaces).nilIfEmpty else { return nil }
        guard EmailAddress.isPlausible(email) else {
            throw GovError("email_invalid", .invalid, vi: "Địa chỉ thư điện tử không hợp lệ.", en: "Invalid e-mail address.")
        }
        return email
    }

    static let forbidden = GovError("forbidden_users", .forbidden,
                                    vi: "Bạn không có quyền quản lý người dùng của cơ quan này.",
                                    en: "You may not manage the users of this agency.")
    static let higherAccount = GovError("forbidden_user_roles", .forbidden,
                                        vi: "Tài khoản này có vai trò mà bạn không được cấp; bạn không thể thay đổi nó.",
                                        en: "This account holds a role you may not grant, so you cannot change it.")
    static let noRole = GovError("role_required", .invalid, vi: "Cần chọn ít nhất một vai trò.",
                                 en: "Choose at least one role.")
    static let roleNotGrantable = GovError("role_not_grantable", .forbidden,
                                           vi: "Bạn không được cấp vai trò này.", en: "You may not grant this role.")
    static let staffNeedsAgency = GovError("agency_required", .invalid,
                                           vi: "Cán bộ phải thuộc một cơ quan.", en: "Staff accounts need an agency.")
    static let departmentUnknown = GovError("department_not_found", .invalid,
                                            vi: "Không tìm thấy đơn vị trong cơ quan đã chọn.",
                                            en: "No such unit in the chosen agency.")
}

extension String {
    /// nil for an empty string.
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

/// A bcrypt hash of a random password at the configured cost, made once on first need.
final class DummyPasswordHash: Sendable {
    private let value = NIOLockedValueBox<String?>(nil)

    func get(_ app: Application) async throws -> String {
        if let hash = value.withLockedValue({ $0 }) { return hash }
        let hash = try await app.password.async.hash(SystemSecret.generate())
        value.withLockedValue { $0 = hash }
        return hash
    }
}

extension Application {
    private struct DummyHashKey: StorageKey { typealias Value = DummyPasswordHash }

    /// Checked when a username does not exist, so the answer takes as long as for a real account.
    func dummyPasswordHash() async throws -> String {
        guard let holder = storage[DummyHashKey.self] else { return try await DummyPasswordHash().get(self) }
        return try await holder.get(self)
    }

    /// Prepares the holder (configure time, single-threaded).
    func installDummyPasswordHash() { storage[DummyHashKey.self] = DummyPasswordHash() }

    var accounts: AccountService { AccountService(db: db, app: self) }
}

extension Request {
    var accounts: AccountService { AccountService(db: db, app: application) }
}
