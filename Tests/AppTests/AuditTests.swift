import Fluent
import Foundation
import GovCore
import SQLKit
import Testing
import VaporTesting

@testable import App

@Suite("Hash-chained audit trail")
struct AuditTests {
    func appendSome(_ app: Application, _ count: Int) async throws {
        for index in 0..<count {
            try await AuditLog.append("test.event", entity: "thing", id: "t\(index)",
                                      details: ["ghi_chú": "Văn bản số \(index)"], by: .commandLine, on: app.db)
        }
    }

    @Test func anUntouchedChainVerifies() async throws {
        try await withTestApp { app in
            try await appendSome(app, 30)
            let result = try await AuditLog.verify(on: app.db, pageSize: 7)
            #expect(result.broken == nil)
            #expect(result.checked == 31)  // the demo seed record + 30
            #expect(result.headSeq == 31)
        }
    }

    @Test func concurrentAppendsNeverFork() async throws {
        try await withTestApp(seed: false) { app in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        for index in 0..<10 {
                            try await AuditLog.append("test.concurrent", entity: "w\(worker)", id: "\(index)",
                                                      by: .commandLine, on: app.db)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let seqs = try await AuditRecord.query(on: app.db).sort(\.$id).all().compactMap(\.id)
            #expect(seqs == Array(1...80))
            #expect(try await AuditLog.verify(on: app.db).broken == nil)
        }
    }

    @Test func anAlteredRecordIsFound() async throws {
        try await withTestApp { app in
            try await appendSome(app, 10)
            try await app.db.sql.update(AuditRecord.schema).set("actor", to: "user:someone-else")
                .where("seq", .equal, 5).run()
            let broken = try #require(try await AuditLog.verify(on: app.db).broken)
            #expect(broken.seq == 5)
            #expect(broken.kind == .altered)
        }
    }

    @Test func aDeletedRecordIsFound() async throws {
        try await withTestApp { app in
            try await appendSome(app, 10)
            try await app.db.sql.delete(from: AuditRecord.schema).where("seq", .equal, 4).run()
            let broken = try #require(try await AuditLog.verify(on: app.db).broken)
            #expect(broken.seq == 4)
            #expect(broken.kind == .deleted)
        }
    }

    @Test func aCutTailIsFound() async throws {
        try await withTestApp { app in
            try await appendSome(app, 10)
            try await app.db.sql.delete(from: AuditRecord.schema).where("seq", .greaterThan, 8).run()
            let broken = try #require(try await AuditLog.verify(on: app.db).broken)
            #expect(broken.seq == 9)
            #expect(broken.kind == .deleted)
        }
    }

    @Test func reorderedRecordsAreFound() async throws {
        try await withTestApp { app in
            try await appendSome(app, 10)
            // Swap the contents of two records (keeping their seq numbers).
            let records = try await AuditRecord.query(on: app.db).filter(\.$id ~~ [3, 6]).sort(\.$id).all()
            let (a, b) = (records[0], records[1])
            let aEntityID = a.entityID
            a.entityID = b.entityID
            b.entityID = aEntityID
            try await a.save(on: app.db)
            try await b.save(on: app.db)
            let broken = try #require(try await AuditLog.verify(on: app.db).broken)
            #expect(broken.seq == 3)
        }
    }

    @Test func everyLoginAndChangeIsRecorded() async throws {
        try await withTestApp { app in
            let admin = TestBrowser(app)
            try await admin.login("g22.quantri")
            try await admin.post("/admin/users", [
                ("agency_code", "000.00.00.G22"), ("username", "g22.ghi"), ("full_name", "Ghi Nhật Ký"),
                ("roles[]", "clerk"), ("password", "Password12345"),
            ])
            try await admin.post("/logout", [])
            let actions = try await AuditRecord.query(on: app.db).sort(\.$id).all().map(\.action)
            #expect(actions == ["demo.seed", "auth.login", "user.create", "auth.logout"])
            #expect(try await AuditLog.verify(on: app.db).broken == nil)
        }
    }

    @Test func auditPageIsScopedToTheAdminsAgency() async throws {
        try await withTestApp { app in
            try await TestBrowser(app).login("h41.vanthu")
            let g22 = TestBrowser(app)
            try await g22.login("g22.quantri")
            let page = try await g22.get("/admin/audit")
            #expect(page.status == .ok)
            #expect(page.text.contains("user:g22.quantri"))
            #expect(!page.text.contains("h41.vanthu"))
            #expect(try await g22.get("/admin/audit?agency=000.00.00.H41").status == .forbidden)
            #expect(try await g22.get("/admin/audit/verify").status == .forbidden)
            let admin = TestBrowser(app)
            try await admin.login("admin")
            let all = try await admin.get("/admin/audit")
            #expect(all.text.contains("user:h41.vanthu"))
            let verify = try await admin.get("/admin/audit/verify")
            #expect(verify.text.contains("id=\"verify-result\""))
            #expect(verify.text.contains("toàn vẹn"))
        }
    }
}
