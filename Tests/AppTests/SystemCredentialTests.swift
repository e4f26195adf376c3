import Fluent
import Foundation
import GovCore
import Testing
import VaporTesting

@testable import App

@Suite("Agency system credentials")
struct SystemCredentialTests {
    /// Issues a system from the admin page and reads the one-time secret off it.
    func issue(_ browser: TestBrowser, agency: String, id: String) async throws -> String {
        let page = try await browser.post("/admin/systems", [("agency_code", agency), ("system_id", id), ("name", "QLVB \(id)")])
        #expect(page.status == .ok)
        let html = page.text
        guard let start = html.range(of: "id=\"issued-secret-value\">") else { throw TestFailure("no secret shown") }
        let rest = html[start.upperBound...]
        return String(rest[..<rest.firstIndex(of: "<")!])
    }

    func whoami(_ app: Application, _ headers: HTTPHeaders) async throws -> TestingHTTPResponse {
        try await app.testing().sendRequest(.GET, "/api/v1/system/whoami", headers: headers)
    }

    @Test func issuedSecretWorksOnceShownAndIsStoredHashed() async throws {
        try await withTestApp { app in
            let admin = TestBrowser(app)
            try await admin.login("g22.quantri")
            let secret = try await issue(admin, agency: "000.00.00.G22", id: "vpcp.qlvb.01")
            #expect(secret.hasPrefix("gos_"))
            let ok = try await whoami(app, ["X-SystemId": "vpcp.qlvb.01", "X-SecretKey": secret])
            #expect(ok.status == .ok)
            #expect(ok.body.string.contains("\"agency_code\":\"000.00.00.G22\""))
            let bearer = try await whoami(app, ["Authorization": "Bearer \(secret)"])
            #expect(bearer.status == .ok)
            let stored = try #require(try await AgencySystem.query(on: app.db).filter(\.$systemID == "vpcp.qlvb.01").first())
            #expect(stored.secretHash != secret)
            #expect(stored.secretHash == SystemSecret.hash(secret))
            // The list page never shows it again.
            #expect(!(try await admin.get("/admin/systems").text.contains(secret)))
        }
    }

    @Test func wrongOrMissingCredentialsAre401WithTheirCode() async throws {
        try await withTestApp { app in
            let admin = TestBrowser(app)
            try await admin.login("admin")
            let secret = try await issue(admin, agency: "000.00.00.G22", id: "vpcp.qlvb.02")
            let cases: [(HTTPHeaders, String)] = [
                ([:], "system_credentials_missing"),
                (["X-SystemId": "vpcp.qlvb.02", "X-SecretKey": secret + "x"], "system_credentials_invalid"),
                (["X-SystemId": "no.such.system", "X-SecretKey": secret], "system_credentials_invalid"),
                (["Authorization": "Bearer gos_not-a-real-secret"], "system_credentials_invalid"),
            ]
            for (headers, code) in cases {
                let response = try await whoami(app, headers)
                #expect(response.status == .unauthorized, "\(headers)")
                #expect(response.errorCode == code, "\(headers)")
            }
        }
    }

    @Test func rotationAndRevocationTakeEffectAtOnce() async throws {
        try await withTestApp { app in
            let admin = TestBrowser(app)
            try await admin.login("g22.quantri")
            let first = try await issue(admin, agency: "000.00.00.G22", id: "vpcp.qlvb.03")
            let system = try #require(try await AgencySystem.query(on: app.db).filter(\.$systemID == "vpcp.qlvb.03").first())
            let rotated = try await admin.post("/admin/systems/\(try system.requireID())/rotate", [])
            #expect(rotated.status == .ok)
            let html = rotated.text
            let start = try #require(html.range(of: "id=\"issued-secret-value\">"))
            let second = String(html[start.upperBound...].prefix { $0 != "<" })
            #expect(second != first)
            #expect(try await whoami(app, ["X-SystemId": "vpcp.qlvb.03", "X-SecretKey": first]).status == .unauthorized)
            #expect(try await whoami(app, ["X-SystemId": "vpcp.qlvb.03", "X-SecretKey": second]).status == .ok)
            #expect(try await admin.post("/admin/systems/\(try system.requireID())/revoke", []).status == .seeOther)
            #expect(try await whoami(app, ["X-SystemId": "vpcp.qlvb.03", "X-SecretKey": second]).status == .unauthorized)
            let actions = try await AuditRecord.query(on: app.db).filter(\.$entityID == "vpcp.qlvb.03").all().map(\.action)
            #expect(actions == ["system.create", "system.rotate", "system.revoke"])
        }
    }

    @Test func anotherAgencysAdminCannotTouchTheSystem() async throws {
        try await withTestApp { app in
            let g22 = TestBrowser(app)
            try await g22.login("g22.quantri")
            let secret = try await issue(g22, agency: "000.00.00.G22", id: "vpcp.qlvb.04")
            let system = try #require(try await AgencySystem.query(on: app.db).filter(\.$systemID == "vpcp.qlvb.04").first())
            let h41 = TestBrowser(app)
            try await h41.login("h41.quantri")
            #expect(try await h41.post("/admin/systems/\(try system.requireID())/rotate", []).status == .forbidden)
            #expect(try await h41.post("/admin/systems/\(try system.requireID())/revoke", []).status == .forbidden)
            #expect(try await h41.post("/admin/systems", [("agency_code", "000.00.00.G22"), ("system_id", "x.y.z"), ("name", "x")]).status == .forbidden)
            #expect(!(try await h41.get("/admin/systems").text.contains("vpcp.qlvb.04")))
            #expect(try await whoami(app, ["X-SystemId": "vpcp.qlvb.04", "X-SecretKey": secret]).status == .ok)
        }
    }

    @Test func aLockedAgencysSystemsAreRefused() async throws {
        try await withTestApp { app in
            let admin = TestBrowser(app)
            try await admin.login("admin")
            let secret = try await issue(admin, agency: "000.00.00.H41", id: "nghean.qlvb")
            #expect(try await admin.post("/admin/agencies/000.00.00.H41/state", [("state", "locked")]).status == .seeOther)
            let response = try await whoami(app, ["X-SystemId": "nghean.qlvb", "X-SecretKey": secret])
            #expect(response.status == .forbidden)
            #expect(response.errorCode == "agency_locked")
        }
    }

    @Test func badSystemIDsAndDuplicatesAreRefused() async throws {
        try await withTestApp { app in
            let admin = TestBrowser(app)
            try await admin.login("admin")
            let bad = try await admin.post("/admin/systems", [("agency_code", "000.00.00.G22"), ("system_id", "has space"), ("name", "x")])
            #expect(bad.status == .badRequest)
            _ = try await issue(admin, agency: "000.00.00.G22", id: "dup.system")
            let dup = try await admin.post("/admin/systems", [("agency_code", "000.00.00.G22"), ("system_id", "dup.system"), ("name", "x")])
            #expect(dup.status == .conflict)
            #expect(try await AgencySystem.query(on: app.db).count() == 1)
        }
    }
}
