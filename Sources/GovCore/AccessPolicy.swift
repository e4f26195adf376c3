import Foundation

/// Who may do what. Every rule denies unless a role explicitly grants, so a new role starts with no rights.
public enum AccessPolicy {
    /// System admins see the users of any agency; an agency admin only those of its own agency; nobody else.
    public static func canViewUsers(ofAgency agencyID: UUID, _ p: Principal) -> Bool {
        p.isSystemAdmin || p.isAgencyAdmin(of: agencyID)
    }

    /// Same as ``canViewUsers(ofAgency:_:)``: whoever may see an agency's users may also manage them.
    public static func canManageUsers(ofAgency agencyID: UUID, _ p: Principal) -> Bool {
        canViewUsers(ofAgency: agencyID, p)
    }

    /// Whether `p` may change one account (reset its password, lock, edit, unlock) of agency `agencyID` that
    /// holds `roles`: only where `p` manages that agency's users *and* could grant every role the account has.
    /// Without the second half an agency admin could reset the password of a system admin of the same agency
    /// and sign in as them.
    public static func canManageAccount(ofAgency agencyID: UUID, holding roles: Set<Role>, _ p: Principal) -> Bool {
        canManageUsers(ofAgency: agencyID, p) && roles.isSubset(of: grantableRoles(p))
    }

    /// Only system admins edit the agency directory (including CSV import), since it is shared by all agencies.
    public static func canManageAgencies(_ p: Principal) -> Bool {
        p.isSystemAdmin
    }

    /// System admins manage any agency's machine-to-machine systems; an agency admin only its own agency's.
    public static func canManageSystems(ofAgency agencyID: UUID, _ p: Principal) -> Bool {
        p.isSystemAdmin || p.isAgencyAdmin(of: agencyID)
    }

    /// Who may look at an agency's traffic on the document-exchange hub (messages, traces, dead letters):
    /// system admins everywhere; that agency's admin and its clerks (văn thư), who send and receive its documents.
    /// Acting on it (redelivering) stays with ``canManageSystems(ofAgency:_:)``.
    public static func canViewExchange(ofAgency agencyID: UUID, _ p: Principal) -> Bool {
        p.isSystemAdmin || p.isAgencyAdmin(of: agencyID) || (p.has(.clerk) && p.agencyID == agencyID)
    }

    /// The roles that work in an agency's document office (văn thư, lãnh đạo, chuyên viên).
    public static let documentOfficeRoles: Set<Role> = [.clerk, .leader, .specialist]

    /// Who has a document office: a member of an agency in one of ``documentOfficeRoles``. A system
    /// admin without such a role has none: there is no office of all agencies.
    public static func usesDocumentOffice(_ p: Principal) -> Bool {
        p.agencyID != nil && !p.roles.isDisjoint(with: documentOfficeRoles)
    }

    /// Who may look at an agency's work and meeting calendar (lịch công tác, lịch họp): the agency's staff, in
    /// any staff role. Nobody of another agency, system admins included, sees it: a leader's diary is the
    /// agency's own business, not the platform's. A citizen or business account is never a member, even if an
    /// administrator bound it to an agency.
    public static func canViewCalendar(ofAgency agencyID: UUID, _ p: Principal) -> Bool {
        p.agencyID == agencyID && p.roles.contains(where: \.isStaff)
    }

    /// Who may write an agency's calendar (entries, rooms, the agency's feed link): its clerks (văn thư), who
    /// keep it, its leaders (lãnh đạo), whose calendar it is, and its admin. Specialists and the public only read,
    /// and a system admin writes only where they also hold one of these roles in that agency.
    public static func canManageCalendar(ofAgency agencyID: UUID, _ p: Principal) -> Bool {
        p.agencyID == agencyID && (p.has(.clerk) || p.has(.leader) || p.has(.agencyAdmin))
    }

    /// System admins read every audit log, including the whole log (`agencyID` nil);
    /// an agency admin only its own agency's entries and never the whole log.
    public static func canViewAudit(ofAgency agencyID: UUID?, _ p: Principal) -> Bool {
        if p.isSystemAdmin { return true }
        guard let agencyID else { return false }
        return p.isAgencyAdmin(of: agencyID)
    }

    /// The roles `p` may give to others: all for a system admin, all but system admin for an agency admin,
    /// none for anyone else (so nobody can raise anyone above themselves).
    public static func grantableRoles(_ p: Principal) -> Set<Role> {
        if p.isSystemAdmin { return Set(Role.allCases) }
        if p.has(.agencyAdmin) { return Set(Role.allCases).subtracting([.systemAdmin]) }
        return []
    }
}
