import Fluent
import Foundation
import GovCore
import Testing
import VaporTesting

@testable import App

@Suite("Authorization by role and agency")
struct AuthorizationTests {
    @Test func aClerkCannotReadAnotherAgencysUsers() async throws {
        try await withTestApp { app in
            let clerk = TestBrowser(app)
            try await clerk.login("g22.vanthu")
            let page = try await clerk.get("/admin/users?agency=000.00.00.H41")
            #expect(page.status == .forbidden)
            #expect(!page.text.contains("h41.vanthu"))
            clerk.acceptJSON = true
            let api = try await clerk.get("/api/v1/users?agency=000.00.00.H41")
            #expect(api.status == .forbidden)
            #expect(api.errorCode == "forbidden_users")
            #expect(!api.text.contains("h41.vanthu"))
        }
    }

    @Test func clerksDoNotManageUsersEvenOfTheirOwnAgency() async throws {
        try await withTestApp { app in
            let clerk = TestBrowser(app)
            try await clerk.login("g22.vanthu")
            #expect(try await clerk.get("/admin/users").status == .forbidden)
            #expect(try await clerk.get("/admin/systems").status == .forbidden)
            #expect(try await clerk.get("/admin/audit").status == .forbidden)
            #expect(try await clerk.get("/admin/agencies/import").status == .forbidden)
            let create = try await clerk.post("/admin/users", [
                ("username", "sneaky"), ("full_name", "Sneaky"), ("roles[]", "clerk"), ("password", "Password12345"),
            ])
            #expect(create.status == .forbidden)
            #expect(try await User.query(on: app.db).filter(\.$username == "sneaky").count() == 0)
        }
    }

    @Test func agencyAdminSeesOnlyTheirAgency() async throws {
        try await withTestApp { app in
            let admin = TestBrowser(app)
            try await admin.login("g22.quantri")
            let page = try await admin.get("/admin/users")
            #expect(page.status == .ok)
            #expect(page.text.contains("g22.vanthu"))
            #expect(!page.text.contains("h41.vanthu"))
            #expect(try await admin.get("/admin/users?agency=000.00.00.H41").status == .forbidden)
            let h41user = try #require(try await User.query(on: app.db).filter(\.$username == "h41.vanthu").first())
            #expect(try await admin.get("/admin/users/\(try h41user.requireID())").status == .forbidden)
            let edit = try await admin.post("/admin/users/\(try h41user.requireID())", [
                ("full_name", "Hijacked"), ("roles[]", "clerk"), ("state", "locked"),
            ])
            #expect(edit.status == .forbidden)
            let unchanged = try #require(try await User.find(h41user.requireID(), on: app.db))
            #expect(unchanged.fullName == "Đặng Thị Nghệ An")
            #expect(unchanged.state == "active")
        }
    }

    @Test func systemAdminSeesEveryAgency() async throws {
        try await withTestApp { app in
            let admin = TestBrowser(app)
            try await admin.login("admin")
            let all = try await admin.get("/admin/users")
            #expect(all.text.contains("g22.vanthu"))
            #expect(all.text.contains("h41.vanthu"))
            let h41 = try await admin.get("/admin/users?agency=000.00.00.H41")
            #expect(h41.text.contains("h41.vanthu"))
            #expect(!h41.text.contains("g22.vanthu"))
        }
    }

    @Test func agencyAdminCreatesStaffButCannotGrantSystemAdmin() async throws {
        try await withTestApp { app in
            let admin = TestBrowser(app)
            try await admin.login("g22.quantri")
            let escalate = try await admin.post("/admin/users", [
                ("agency_code", "000.00.00.G22"), ("username", "rogue.admin"), ("full_name", "Rogue"),
                ("roles[]", "system_admin"), ("password", "Password12345"),
            ])
            #expect(escalate.status == .forbidden)
            #expect(try await User.query(on: app.db).filter(\.$username == "rogue.admin").count() == 0)

            let create = try await admin.post("/admin/users", [
                ("agency_code", "000.00.00.G22"), ("username", "G22.Moi"), ("full_name", "Trịnh Thị Mới"),
                ("department_code", "TH"), ("roles[]", "specialist"), ("roles[]", "leader"), ("password", "Password12345"),
            ])
            #expect(create.status == .seeOther)
            let user = try #require(try await User.query(on: app.db).filter(\.$username == "g22.moi").first())
            #expect(user.roleSet == [.specialist, .leader])
            #expect(user.passwordHash != "Password12345")
            #expect(user.passwordHash.hasPrefix("$2"))
            let audited = try await AuditRecord.query(on: app.db).filter(\.$action == "user.create")
                .filter(\.$entityID == "g22.moi").first()
            #expect(audited?.actor == "user:g22.quantri")
            #expect(audited?.agencyCode == "000.00.00.G22")
            // The new account works.
            #expect(try await TestBrowser(app).login("g22.moi", password: "Password12345").status == .seeOther)
        }
    }

    @Test func badAccountFormsAreRefusedWithTheirCode() async throws {
        try await withTestApp { app in
            let admin = TestBrowser(app)
            try await admin.login("admin")
            let cases: [([(String, String)], String)] = [
                ([("username", "ab"), ("full_name", "X"), ("roles[]", "clerk"), ("password", "Password12345")], "username_invalid"),
                ([("username", "weak.pw"), ("full_name", "X"), ("roles[]", "clerk"), ("password", "short")], "password_weak"),
                ([("username", "g22.vanthu"), ("full_name", "X"), ("roles[]", "clerk"), ("password", "Password12345")], "username_taken"),
                ([("username", "no.role"), ("full_name", "X"), ("password", "Password12345")], "role_required"),
                ([("username", "bad.mail"), ("full_name", "X"), ("email", "not-an-email"), ("roles[]", "clerk"), ("password", "Password12345")], "email_invalid"),
                ([("username", "no.agency"), ("full_name", "X"), ("roles[]", "clerk"), ("password", "Password12345")], "agency_required"),
            ]
            for (fields, code) in cases {
                var form = fields
                if code != "agency_required" { form.append(("agency_code", "000.00.00.G22")) }
                let response = try await admin.post("/admin/users", form)
                #expect(response.status == .badRequest || response.status == .conflict, "\(code)")
                #expect(response.text.contains("data-code=\"\(code)\""), "\(code)")
            }
            let unknownRole = try await admin.post("/admin/users", [
                ("agency_code", "000.00.00.G22"), ("username", "x.role"), ("full_name", "X"), ("roles[]", "emperor"),
                ("password", "Password12345"),
            ])
            #expect(unknownRole.status == .badRequest)
            let unknownAgency = try await admin.post("/admin/users", [
                ("agency_code", "000.00.00.X99"), ("username", "x.agency"), ("full_name", "X"), ("roles[]", "clerk"),
                ("password", "Password12345"),
            ])
            #expect(unknownAgency.status == .notFound)
            #expect(try await User.query(on: app.db).count() == DemoSeeder.accounts.count)
        }
    }

    @Test func adminsResetPasswordsAndLockAccounts() async throws {
        try await withTestApp { app in
            let admin = TestBrowser(app)
            try await admin.login("g22.quantri")
            let target = try #require(try await User.query(on: app.db).filter(\.$username == "g22.chuyenvien").first())
            let id = try target.requireID()
            #expect(try await admin.post("/admin/users/\(id)/password", [("password", "NewPassword2026")]).status == .seeOther)
            #expect(try await TestBrowser(app).login("g22.chuyenvien", password: "NewPassword2026").status == .seeOther)
            let lock = try await admin.post("/admin/users/\(id)", [
                ("full_name", "Phạm Thị Chuyên Viên"), ("roles[]", "specialist"), ("state", "locked"),
            ])
            #expect(lock.status == .seeOther)
            #expect(try await TestBrowser(app).login("g22.chuyenvien", password: "NewPassword2026").status == .ok)
            // An admin cannot lock themselves out.
            let me = try #require(try await User.query(on: app.db).filter(\.$username == "g22.quantri").first())
            let selfLock = try await admin.post("/admin/users/\(try me.requireID())", [
                ("full_name", "Trần Văn Quản Trị"), ("roles[]", "agency_admin"), ("state", "locked"),
            ])
            #expect(selfLock.status == .badRequest)
        }
    }

    @Test func searchBoxesTakeSQLAndVietnameseSafely() async throws {
        try await withTestApp { app in
            let admin = TestBrowser(app)
            try await admin.login("admin")
            let hostile = ["' OR '1'='1", "%", "_", "\\", "\"; DROP TABLE users; --", "Nguyễn", "nguyen thi", "ĐẶNG"]
            for q in hostile {
                let encoded = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
                let page = try await admin.get("/admin/users?q=\(encoded)")
                #expect(page.status == .ok, "\(q)")
            }
            let vietnamese = try await admin.get("/admin/users?q=nguyen%20thi%20van")
            #expect(vietnamese.text.contains("g22.vanthu"))
            let wildcard = try await admin.get("/admin/users?q=%25")
            #expect(!wildcard.text.contains("g22.vanthu"), "a % must be searched for, not match everything")
            #expect(try await User.query(on: app.db).count() == DemoSeeder.accounts.count)
        }
    }
}
