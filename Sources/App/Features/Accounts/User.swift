import Fluent
import Foundation
import GovCore
import Vapor

/// A person who signs in: staff of an agency, or a citizen or business.
final class User: Model, @unchecked Sendable {
    static let schema = "users"

    // Managed
    @ID(key: .id) var id: UUID?
    @Timestamp(key: "created_at", on: .create) var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    // Identity
    @Field(key: "username") var username: String
    @Field(key: "full_name") var fullName: String
    @OptionalField(key: "email") var email: String?
    @OptionalField(key: "phone") var phone: String?
    @OptionalField(key: "position") var position: String?
    @Field(key: "search_key") var searchKey: String

    // Membership and rights
    @OptionalParent(key: "agency_id") var agency: Agency?
    @OptionalParent(key: "department_id") var department: Department?
    @Field(key: "roles") var roles: [String]
    @Field(key: "state") var state: String

    // Credentials
    @Field(key: "password_hash") var passwordHash: String
    @OptionalField(key: "password_changed_at") var passwordChangedAt: Date?
    @OptionalField(key: "last_login_at") var lastLoginAt: Date?

    init() {}

    init(username: String, fullName: String, agencyID: UUID?, departmentID: UUID?, roles: Set<Role>,
         passwordHash: String, email: String? = nil, position: String? = nil) {
        self.username = username
        self.fullName = fullName
        self.$agency.id = agencyID
        self.$department.id = departmentID
        self.roles = roles.map(\.rawValue).sorted()
        self.state = UserState.active.rawValue
        self.passwordHash = passwordHash
        self.email = email
        self.position = position
        self.passwordChangedAt = Date()
        refreshSearchKey()
    }

    /// Keeps the folded search column in step with the names it covers.
    func refreshSearchKey() {
        searchKey = SearchText.fold([username, fullName, email ?? ""].joined(separator: " "))
    }

    var roleSet: Set<Role> { Set(roles.compactMap(Role.init(rawValue:))) }
    var isActive: Bool { state == UserState.active.rawValue }
}

/// Whether a user may sign in.
enum UserState: String, CaseIterable, Codable { case active, locked }

/// Failed sign-in attempts per username — kept for names that don't exist too, so that the
/// back-off reveals nothing about which accounts exist.
final class LoginThrottle: Model, @unchecked Sendable {
    static let schema = "login_throttles"

    @ID(key: .id) var id: UUID?
    @Field(key: "username_key") var usernameKey: String
    @Field(key: "failures") var failures: Int
    @OptionalField(key: "locked_until") var lockedUntil: Date?
    @Timestamp(key: "updated_at", on: .update) var updatedAt: Date?

    init() {}

    init(usernameKey: String) {
        self.usernameKey = usernameKey
        self.failures = 0
    }
}
