import Foundation
import GovCore
import Testing

@Suite struct RoleTests {
    @Test func rawValuesAreStable() {
        #expect(Role.allCases.map(\.rawValue) == [
            "system_admin", "agency_admin", "clerk", "leader", "specialist",
            "cabinet_member", "reporting_officer", "citizen", "business",
        ])
    }

    @Test func labelKeys() {
        #expect(Role.systemAdmin.labelKey == "role.system_admin")
        #expect(Role.clerk.labelKey == "role.clerk")
    }

    @Test func staffRoles() {
        #expect(Role.allCases.filter { !$0.isStaff } == [.citizen, .business])
    }

    @Test func ordering() {
        #expect(Role.systemAdmin < Role.agencyAdmin)
        #expect(!(Role.business < Role.citizen))
        #expect(Set(Role.allCases).sorted() == Role.allCases)
    }

    @Test func principal() {
        let p = Principal(userID: UUID(), agencyID: nil, roles: [.systemAdmin, .clerk])
        #expect(p.isSystemAdmin)
        #expect(p.has(.clerk))
        #expect(!p.has(.leader))
        #expect(!Principal(userID: UUID(), agencyID: nil, roles: [.agencyAdmin]).isSystemAdmin)
    }
}

@Suite struct AccessPolicyTests {
    let agencyA = UUID()
    let agencyB = UUID()

    func principal(_ roles: Set<Role>, agency: UUID?) -> Principal {
        Principal(userID: UUID(), agencyID: agency, roles: roles)
    }

    @Test func systemAdminSeesEverything() {
        let admin = principal([.systemAdmin], agency: nil)
        #expect(AccessPolicy.canViewUsers(ofAgency: agencyA, admin))
        #expect(AccessPolicy.canManageUsers(ofAgency: agencyB, admin))
        #expect(AccessPolicy.canManageAgencies(admin))
        #expect(AccessPolicy.canManageSystems(ofAgency: agencyA, admin))
        #expect(AccessPolicy.canViewAudit(ofAgency: nil, admin))
        #expect(AccessPolicy.canViewAudit(ofAgency: agencyB, admin))
        #expect(AccessPolicy.grantableRoles(admin) == Set(Role.allCases))
    }

    @Test func agencyAdminOnlyOwnAgency() {
        let admin = principal([.agencyAdmin], agency: agencyA)
        #expect(AccessPolicy.canViewUsers(ofAgency: agencyA, admin))
        #expect(!AccessPolicy.canViewUsers(ofAgency: agencyB, admin))
        #expect(AccessPolicy.canManageUsers(ofAgency: agencyA, admin))
        #expect(!AccessPolicy.canManageUsers(ofAgency: agencyB, admin))
        #expect(AccessPolicy.canManageSystems(ofAgency: agencyA, admin))
        #expect(!AccessPolicy.canManageSystems(ofAgency: agencyB, admin))
        #expect(!AccessPolicy.canManageAgencies(admin))
        #expect(AccessPolicy.canViewAudit(ofAgency: agencyA, admin))
        #expect(!AccessPolicy.canViewAudit(ofAgency: agencyB, admin))
        #expect(!AccessPolicy.canViewAudit(ofAgency: nil, admin))
        let grantable = AccessPolicy.grantableRoles(admin)
        #expect(!grantable.contains(.systemAdmin))
        #expect(grantable == Set(Role.allCases).subtracting([.systemAdmin]))
    }

    @Test func accountsAreChangedOnlyByWhoCouldGrantEveryRoleTheyHold() {
        let agencyAdmin = principal([.agencyAdmin], agency: agencyA)
        let systemAdmin = principal([.systemAdmin], agency: agencyA)
        // The hole this closes: an agency admin resetting the system admin of its own agency.
        #expect(!AccessPolicy.canManageAccount(ofAgency: agencyA, holding: [.systemAdmin], agencyAdmin))
        #expect(!AccessPolicy.canManageAccount(ofAgency: agencyA, holding: [.systemAdmin, .clerk], agencyAdmin))
        #expect(AccessPolicy.canManageAccount(ofAgency: agencyA, holding: [.agencyAdmin], agencyAdmin))
        #expect(AccessPolicy.canManageAccount(ofAgency: agencyA, holding: [.clerk, .leader], agencyAdmin))
        #expect(!AccessPolicy.canManageAccount(ofAgency: agencyB, holding: [.clerk], agencyAdmin))
        #expect(AccessPolicy.canManageAccount(ofAgency: agencyB, holding: [.systemAdmin], systemAdmin))
        #expect(!AccessPolicy.canManageAccount(ofAgency: agencyA, holding: [.clerk], principal([.clerk, .leader], agency: agencyA)))
    }

    @Test func clerksLookAtTheirOwnAgencysExchangeOnly() {
        let clerk = principal([.clerk], agency: agencyA)
        #expect(AccessPolicy.canViewExchange(ofAgency: agencyA, clerk))
        #expect(!AccessPolicy.canViewExchange(ofAgency: agencyB, clerk))
        #expect(!AccessPolicy.canManageSystems(ofAgency: agencyA, clerk))
        #expect(!AccessPolicy.canViewExchange(ofAgency: agencyA, principal([.clerk], agency: nil)))
        #expect(!AccessPolicy.canViewExchange(ofAgency: agencyA, principal([.leader, .specialist], agency: agencyA)))
        #expect(AccessPolicy.canViewExchange(ofAgency: agencyA, principal([.agencyAdmin], agency: agencyA)))
        #expect(AccessPolicy.canViewExchange(ofAgency: agencyB, principal([.systemAdmin], agency: agencyA)))
    }

    @Test func agencyAdminWithoutAgencyManagesNothing() {
        let admin = principal([.agencyAdmin], agency: nil)
        #expect(!AccessPolicy.canViewUsers(ofAgency: agencyA, admin))
        #expect(!AccessPolicy.canManageSystems(ofAgency: agencyA, admin))
        #expect(!AccessPolicy.canViewAudit(ofAgency: agencyA, admin))
        #expect(!AccessPolicy.canViewAudit(ofAgency: nil, admin))
    }

    @Test(arguments: [Role.clerk, .leader, .specialist, .cabinetMember, .reportingOfficer, .citizen, .business])
    func otherRolesGetNothing(role: Role) {
        let p = principal([role], agency: agencyA)
        #expect(!AccessPolicy.canViewUsers(ofAgency: agencyA, p))
        #expect(!AccessPolicy.canManageUsers(ofAgency: agencyA, p))
        #expect(!AccessPolicy.canManageAgencies(p))
        #expect(!AccessPolicy.canManageSystems(ofAgency: agencyA, p))
        #expect(!AccessPolicy.canViewAudit(ofAgency: agencyA, p))
        #expect(!AccessPolicy.canViewAudit(ofAgency: nil, p))
        #expect(AccessPolicy.grantableRoles(p).isEmpty)
    }

    @Test func noRolesGetNothing() {
        let p = principal([], agency: agencyA)
        #expect(!AccessPolicy.canViewUsers(ofAgency: agencyA, p))
        #expect(!AccessPolicy.canViewCalendar(ofAgency: agencyA, p))
        #expect(!AccessPolicy.canManageCalendar(ofAgency: agencyA, p))
        #expect(AccessPolicy.grantableRoles(p).isEmpty)
    }

    @Test(arguments: [Role.clerk, .leader, .agencyAdmin])
    func calendarKeepersWriteTheirOwnAgencysCalendarOnly(role: Role) {
        let p = principal([role], agency: agencyA)
        #expect(AccessPolicy.canManageCalendar(ofAgency: agencyA, p))
        #expect(AccessPolicy.canViewCalendar(ofAgency: agencyA, p))
        #expect(!AccessPolicy.canManageCalendar(ofAgency: agencyB, p))
        #expect(!AccessPolicy.canViewCalendar(ofAgency: agencyB, p))
    }

    @Test(arguments: [Role.specialist, .cabinetMember, .reportingOfficer])
    func otherStaffReadTheirAgencysCalendar(role: Role) {
        let p = principal([role], agency: agencyA)
        #expect(AccessPolicy.canViewCalendar(ofAgency: agencyA, p))
        #expect(!AccessPolicy.canManageCalendar(ofAgency: agencyA, p))
        #expect(!AccessPolicy.canViewCalendar(ofAgency: agencyB, p))
    }

    @Test func calendarsStayWithinTheAgency() {
        // A system admin reads and writes no agency's calendar by that role alone.
        #expect(!AccessPolicy.canViewCalendar(ofAgency: agencyA, principal([.systemAdmin], agency: nil)))
        #expect(!AccessPolicy.canManageCalendar(ofAgency: agencyA, principal([.systemAdmin], agency: agencyA)))
        #expect(!AccessPolicy.canManageCalendar(ofAgency: agencyA, principal([.leader], agency: nil)))
        // The public never belongs to an agency's calendar.
        for role in [Role.citizen, .business] {
            #expect(!AccessPolicy.canViewCalendar(ofAgency: agencyA, principal([role], agency: agencyA)))
            #expect(!AccessPolicy.canManageCalendar(ofAgency: agencyA, principal([role], agency: agencyA)))
        }
    }

    @Test func theDocumentOfficeIsForItsThreeRolesInAnAgency() {
        for role in [Role.clerk, .leader, .specialist] {
            #expect(AccessPolicy.usesDocumentOffice(principal([role], agency: agencyA)))
            #expect(!AccessPolicy.usesDocumentOffice(principal([role], agency: nil)), "no agency, no office")
        }
        for role in [Role.systemAdmin, .agencyAdmin, .cabinetMember, .reportingOfficer, .citizen, .business] {
            #expect(!AccessPolicy.usesDocumentOffice(principal([role], agency: agencyA)))
        }
        #expect(AccessPolicy.usesDocumentOffice(principal([.systemAdmin, .clerk], agency: agencyA)))
    }
}
