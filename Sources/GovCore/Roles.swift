import Foundation

/// What a user may act as. Raw values are stored in the database and must never change.
public enum Role: String, Sendable, CaseIterable, Codable, Comparable {
    /// Runs the whole platform: every agency, the agency directory, all audit logs.
    case systemAdmin = "system_admin"
    /// Administers the users and systems of one agency.
    case agencyAdmin = "agency_admin"
    /// Registers incoming and outgoing documents (văn thư).
    case clerk
    /// Signs and directs (lãnh đạo).
    case leader
    /// Handles assigned work (chuyên viên).
    case specialist
    /// Takes part in government cabinet meetings (thành viên Chính phủ).
    case cabinetMember = "cabinet_member"
    /// Submits periodic reports (cán bộ báo cáo).
    case reportingOfficer = "reporting_officer"
    /// A member of the public using public services.
    case citizen
    /// An enterprise using public services.
    case business

    /// The localisation key of the role's display name, e.g. `role.system_admin`.
    public var labelKey: String { "role.\(rawValue)" }

    /// Whether the role belongs to government staff rather than to the public (citizen, business).
    public var isStaff: Bool {
        switch self {
        case .citizen, .business: return false
        default: return true
        }
    }

    /// Orders roles as declared, roughly from most to least privileged, for stable display.
    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// The authenticated actor of a request, as far as access decisions need to know it.
public struct Principal: Sendable, Equatable {
    /// The user's identifier.
    public let userID: UUID
    /// The agency the user belongs to; nil for platform staff and the public.
    public let agencyID: UUID?
    /// Every role the user holds.
    public let roles: Set<Role>

    /// Creates a principal.
    public init(userID: UUID, agencyID: UUID?, roles: Set<Role>) {
        self.userID = userID
        self.agencyID = agencyID
        self.roles = roles
    }

    /// Whether the user holds `role`.
    public func has(_ role: Role) -> Bool { roles.contains(role) }

    /// Whether the user may act on the whole platform.
    public var isSystemAdmin: Bool { has(.systemAdmin) }

    /// Whether the user administers exactly `agencyID` (an agency admin with no agency administers nothing).
    public func isAgencyAdmin(of agencyID: UUID) -> Bool {
        has(.agencyAdmin) && self.agencyID == agencyID
    }
}
