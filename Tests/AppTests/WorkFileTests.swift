import Fluent
import Foundation
import GovCore
import OfficeRules
import Testing
import VaporTesting

@testable import App

/// Work files (hồ sơ công việc) against the real database: codes and retention as Decree 30/2020
/// writes them, documents of both directions filed through the office's summaries only, closing that
/// fixes the list, and who sees which file.
@Suite("Work files", .serialized)
struct WorkFileTests {
    static let g22 = OfficeTests.g22
    static let h41 = OfficeTests.h41
    static let clerk = OfficeTests.actor("h41.vanthu", [.clerk], unit: "VP")
    static let leader = OfficeTests.actor("h41.lanhdao", [.leader])
    static let specialist = OfficeTests.actor("h41.chuyenvien", [.specialist])
    static let g22Clerk = OfficeTests.actor("g22.vanthu", [.clerk], agency: g22, unit: "HC")

    static func paper(_ app: Application, subject: String, by actor: OfficeActor = clerk) async throws -> UUID {
        try await app.office.registerPaper(.init(senderName: "Bộ Nội vụ", codeNumber: "15/BNV-TCBM", typeCode: "CV", subject: subject,
                                                 promulgationDate: nil, urgency: 0, secret: false, scan: nil), by: actor).requireID()
    }

    static func draft(_ app: Application, subject: String) async throws -> UUID {
        let draft = OfficeService.Draft(typeCode: "QĐ", subject: subject, content: "Điều 1…", signerName: "Lê Văn Lãnh Đạo",
                                        signerPosition: "Chủ tịch", competence: "", recipients: [g22],
                                        places: "Như trên;\nLưu: VT.", urgency: 0, secret: false, files: [])
        return try await app.office.createDraft(draft, by: clerk, directory: AgencyDirectory(db: app.db)).requireID()
    }

    static func open(_ app: Application, _ code: String, title: String = "Hồ sơ tuyển dụng công chức năm 2026",
                     retention: String = "permanent", year: Int = 2026, by actor: OfficeActor = clerk) async throws -> WorkFile {
        try await app.workFiles.create(.init(code: code, title: title, year: year, retention: retention), by: actor)
    }

    /// Runs `body` and expects the GovError `code`.
    static func expectError(_ code: String, sourceLocation: SourceLocation = #_sourceLocation,
                            _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected \(code), nothing was thrown", sourceLocation: sourceLocation)
        } catch let error as GovError {
            #expect(error.code == code, sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("codes and retention as the decree writes them")
    func codeAndRetentionRules() throws {
        #expect(try WorkFileCode(parsing: "01.TCCB").description == "01.TCCB")
        #expect(try WorkFileCode(parsing: " 1.tccb ").description == "01.TCCB")
        #expect(try WorkFileCode(parsing: "12.vpđt").description == "12.VPĐT")
        #expect(try WorkFileCode(parsing: "120.KHTC2026").description == "120.KHTC2026")
        for bad in ["TCCB", "01TCCB", "01.", ".TCCB", "01.TC CB", "00.TCCB", "01.TCCB!", "01.TC-CB", "12345.A", "A1.TCCB",
                    "01." + String(repeating: "A", count: 21), "01.ТССВ", "", "01.TCCB.X"] {
            #expect(throws: GovError.self, "\(bad)") { try WorkFileCode(parsing: bad) }
        }
        #expect(try WorkFileRetention(parsing: "permanent") == .permanent)
        #expect(try WorkFileRetention(parsing: "Vĩnh viễn") == .permanent)
        #expect(try WorkFileRetention(parsing: "10") == .years(10))
        #expect(try WorkFileRetention(parsing: "100").storedYears == 100)
        for bad in ["0", "101", "-5", "forever", "", "10 năm", "1e2"] {
            #expect(throws: GovError.self, "\(bad)") { try WorkFileRetention(parsing: bad) }
        }
    }

    @Test("files are opened, listed by year and state; a specialist sees their own")
    func createAndList() async throws {
        try await withTestApp { app in
            let first = try await Self.open(app, "02.TCCB")
            #expect(first.ownerUsername == "h41.vanthu")
            #expect(first.isOpen)
            #expect(first.retentionYears == nil)
            _ = try await Self.open(app, "1.VP", title: "Hồ sơ hội nghị", retention: "10")
            _ = try await Self.open(app, "01.TCCB", title: "Hồ sơ năm trước", year: 2025)
            let own = try await Self.open(app, "03.TH", title: "Hồ sơ của chuyên viên", retention: "5", by: Self.specialist)
            #expect(own.retentionYears == 5)

            let all = try await app.workFiles.list(.init(), for: Self.clerk)
            #expect(all.map(\.file.code) == ["01.VP", "02.TCCB", "03.TH", "01.TCCB"], "newest year first, then by number")
            #expect(try await app.workFiles.list(.init(year: 2025), for: Self.leader).map(\.file.code) == ["01.TCCB"])
            #expect(try await app.workFiles.list(.init(state: .closed), for: Self.clerk).isEmpty)
            #expect(try await app.workFiles.list(.init(), for: Self.specialist).map(\.file.code) == ["03.TH"])
            await Self.expectError("work_file_not_found") { _ = try await app.workFiles.file(try first.requireID(), for: Self.specialist) }
            // The office's worker (no person, no role) has no files.
            await Self.expectError("work_file_not_staff") { _ = try await app.workFiles.list(.init(), for: .worker(agency: Self.h41)) }
            #expect(try await AuditRecord.query(on: app.db).filter(\.$action == "workfile.create").count() == 4)
        }
    }

    @Test("a bad code, title or retention is refused; a code is unique in the agency's year")
    func badInputAndDuplicates() async throws {
        try await withTestApp { app in
            await Self.expectError("work_file_code_invalid") { _ = try await Self.open(app, "TCCB") }
            await Self.expectError("work_file_code_invalid") { _ = try await Self.open(app, "01.TC CB") }
            await Self.expectError("work_file_title_invalid") { _ = try await Self.open(app, "01.TCCB", title: "  ") }
            await Self.expectError("work_file_title_invalid") {
                _ = try await Self.open(app, "01.TCCB", title: String(repeating: "a", count: 501))
            }
            await Self.expectError("work_file_retention_invalid") { _ = try await Self.open(app, "01.TCCB", retention: "0") }
            await Self.expectError("work_file_retention_invalid") { _ = try await Self.open(app, "01.TCCB", retention: "101") }
            await Self.expectError("work_file_year_invalid") { _ = try await Self.open(app, "01.TCCB", year: 1999) }
            #expect(try await WorkFile.query(on: app.db).count() == 0)

            _ = try await Self.open(app, "01.TCCB")
            do {
                _ = try await Self.open(app, "1.tccb", title: "Trùng ký hiệu")
                Issue.record("a second 01.TCCB in 2026 must be refused")
            } catch let error as GovError {
                #expect(error.code == "work_file_code_taken")
                #expect(error.kind.httpStatus == 409)
            }
            _ = try await Self.open(app, "01.TCCB", year: 2027)
            _ = try await Self.open(app, "01.TCCB", by: Self.g22Clerk)
            #expect(try await WorkFile.query(on: app.db).count() == 3, "another year or agency may use the code")
        }
    }

    @Test("documents of both directions are filed; twice, another agency's or an unknown one are refused")
    func addDocuments() async throws {
        try await withTestApp { app in
            let file = try await Self.open(app, "01.TCCB")
            let fileID = try file.requireID()
            let incoming = try await Self.paper(app, subject: "Về việc tuyển dụng công chức")
            let outgoing = try await Self.draft(app, subject: "Quyết định công nhận kết quả tuyển dụng")
            try await app.workFiles.add(document: incoming, to: fileID, by: Self.clerk)
            try await app.workFiles.add(document: outgoing, to: fileID, by: Self.leader)
            let entries = try await app.workFiles.documents(of: file, for: Self.clerk)
            #expect(entries.map(\.documentID) == [incoming, outgoing])
            #expect(entries.compactMap(\.summary?.direction) == ["in", "out"])
            #expect(entries.first?.summary?.regNumber == 1)
            #expect(try await app.workFiles.files(containing: incoming, for: Self.clerk).map(\.code) == ["01.TCCB"])
            #expect(try await app.workFiles.files(containing: incoming, for: Self.g22Clerk).isEmpty)

            do {
                try await app.workFiles.add(document: incoming, to: fileID, by: Self.clerk)
                Issue.record("filing a document twice must be refused")
            } catch let error as GovError {
                #expect(error.code == "work_file_document_repeated")
                #expect(error.kind.httpStatus == 409)
            }
            let foreign = try await Self.paper(app, subject: "Văn bản của Văn phòng Chính phủ", by: Self.g22Clerk)
            do {
                try await app.workFiles.add(document: foreign, to: fileID, by: Self.clerk)
                Issue.record("another agency's document must be refused")
            } catch let error as GovError {
                #expect(error.code == "office_document_not_found")
                #expect(error.kind.httpStatus == 404)
            }
            await Self.expectError("office_document_not_found") { try await app.workFiles.add(document: UUID(), to: fileID, by: Self.clerk) }
            // A specialist files only documents the office shows them, in their own files.
            let mine = try await Self.open(app, "02.TH", title: "Hồ sơ của chuyên viên", by: Self.specialist)
            await Self.expectError("office_document_not_found") {
                try await app.workFiles.add(document: incoming, to: try mine.requireID(), by: Self.specialist)
            }
            await Self.expectError("work_file_not_found") {
                try await app.workFiles.add(document: incoming, to: fileID, by: Self.specialist)
            }

            try await app.workFiles.remove(document: incoming, from: fileID, by: Self.clerk)
            #expect(try await app.workFiles.documents(of: file, for: Self.clerk).map(\.documentID) == [outgoing])
            await Self.expectError("work_file_document_not_filed") {
                try await app.workFiles.remove(document: incoming, from: fileID, by: Self.clerk)
            }
            try await app.workFiles.add(document: incoming, to: fileID, by: Self.clerk)
            #expect(try await app.workFiles.documents(of: file, for: Self.clerk).map(\.documentID) == [outgoing, incoming])
            #expect(try await AuditRecord.query(on: app.db).filter(\.$action == "workfile.document_add").count() == 3)
            #expect(try await AuditRecord.query(on: app.db).filter(\.$action == "workfile.document_remove").count() == 1)
        }
    }

    @Test("closing fixes the list: a later change of a document leaves it; a closed file takes no changes")
    func closeFreezesTheList() async throws {
        try await withTestApp { app in
            let file = try await Self.open(app, "05.VP", title: "Hồ sơ hội nghị tổng kết")
            let fileID = try file.requireID()
            await Self.expectError("work_file_empty") { _ = try await app.workFiles.close(fileID, by: Self.clerk) }
            let incoming = try await Self.paper(app, subject: "Giấy mời dự hội nghị tổng kết")
            let outgoing = try await Self.draft(app, subject: "Báo cáo tổng kết công tác năm")
            try await app.workFiles.add(document: incoming, to: fileID, by: Self.clerk)
            try await app.workFiles.add(document: outgoing, to: fileID, by: Self.clerk)

            let closed = try await app.workFiles.close(fileID, by: Self.leader)
            #expect(closed.fileState == .closed)
            #expect(closed.closedBy == "h41.lanhdao")
            #expect(closed.closedAt != nil)

            // The office changes the draft's subject afterwards (a draft's text may still be edited).
            let doc = try #require(try await OfficeDocument.find(outgoing, on: app.db))
            doc.subject = "Báo cáo tổng kết công tác năm (sửa đổi)"
            try await doc.update(on: app.db)

            let index = try await app.workFiles.index(of: closed)
            #expect(index.map(\.position) == [1, 2])
            #expect(index.map(\.documentID) == [incoming, outgoing])
            #expect(index.map(\.subject) == ["Giấy mời dự hội nghị tổng kết", "Báo cáo tổng kết công tác năm"])
            #expect(index.map(\.direction) == ["in", "out"])
            #expect(index.first?.regNumber == "01")
            #expect(try await app.workFiles.documents(of: closed, for: Self.clerk).last?.summary?.subject
                    == "Báo cáo tổng kết công tác năm (sửa đổi)", "the live list follows the office")

            let another = try await Self.paper(app, subject: "Văn bản đến sau")
            for attempt in [
                { try await app.workFiles.add(document: another, to: fileID, by: Self.clerk) },
                { try await app.workFiles.remove(document: incoming, from: fileID, by: Self.clerk) },
                { _ = try await app.workFiles.close(fileID, by: Self.clerk) },
            ] as [@Sendable () async throws -> Void] {
                do {
                    try await attempt()
                    Issue.record("a closed file must refuse changes")
                } catch let error as GovError {
                    #expect(error.code == "work_file_closed")
                    #expect(error.kind.httpStatus == 409)
                }
            }
            #expect(try await app.workFiles.index(of: closed).count == 2)
            #expect(try await AuditRecord.query(on: app.db).filter(\.$action == "workfile.close").count() == 1)
        }
    }

    @Test("filing at once: ten documents get positions 1…10; the same document twice at once is filed once")
    func concurrentAdds() async throws {
        try await withTestApp { app in
            let fileID = try await Self.open(app, "08.VP").requireID()
            var documents: [UUID] = []
            for index in 0..<10 { documents.append(try await Self.paper(app, subject: "Văn bản \(index)")) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for document in documents {
                    group.addTask { try await app.workFiles.add(document: document, to: fileID, by: Self.clerk) }
                }
                try await group.waitForAll()
            }
            let links = try await WorkFileDocument.query(on: app.db).filter(\.$fileID == fileID).all()
            #expect(links.map(\.position).sorted() == Array(1...10))
            #expect(Set(links.map(\.documentID)) == Set(documents))

            let extra = try await Self.paper(app, subject: "Văn bản thêm hai lần")
            let outcomes = await withTaskGroup(of: String.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        do {
                            try await app.workFiles.add(document: extra, to: fileID, by: Self.clerk)
                            return "added"
                        } catch let error as GovError {
                            return error.code
                        } catch {
                            return "\(error)"
                        }
                    }
                }
                return await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(outcomes.sorted() == ["added"] + Array(repeating: "work_file_document_repeated", count: 3))
        }
    }

    @Test("another agency's people neither see nor change a file")
    func otherAgency() async throws {
        try await withTestApp { app in
            let file = try await Self.open(app, "01.TCCB")
            let fileID = try file.requireID()
            let doc = try await Self.paper(app, subject: "Về việc tuyển dụng")
            try await app.workFiles.add(document: doc, to: fileID, by: Self.clerk)
            let g22Leader = OfficeTests.actor("g22.lanhdao", [.leader], agency: Self.g22)
            await Self.expectError("work_file_not_found") { _ = try await app.workFiles.file(fileID, for: Self.g22Clerk) }
            await Self.expectError("work_file_not_found") { _ = try await app.workFiles.close(fileID, by: g22Leader) }
            await Self.expectError("work_file_not_found") {
                try await app.workFiles.remove(document: doc, from: fileID, by: Self.g22Clerk)
            }
            let theirs = try await Self.paper(app, subject: "Văn bản của G22", by: Self.g22Clerk)
            await Self.expectError("work_file_not_found") { try await app.workFiles.add(document: theirs, to: fileID, by: Self.g22Clerk) }
            #expect(try await app.workFiles.list(.init(), for: Self.g22Clerk).isEmpty)
            #expect(try await app.workFiles.documents(of: file, for: Self.clerk).count == 1)
        }
    }

    @Test("the pages: list, new, file, add by pasted link, close, print; errors are 4xx pages; no CSRF, no change")
    func pages() async throws {
        try await withTestApp { app in
            let browser = TestBrowser(app)
            try await browser.login("h41.vanthu")
            #expect(try await browser.get("/office/files").status == .ok)
            let form = try await browser.get("/office/files/new")
            #expect(form.status == .ok)
            #expect(form.text.contains("name=\"code\""))

            let bad = try await browser.post("/office/files", [("code", "TCCB"), ("title", "Hồ sơ"), ("year", "2026"),
                                                               ("retention", "permanent")])
            #expect(bad.status == .badRequest)
            #expect(bad.text.contains("data-code=\"work_file_code_invalid\""))
            #expect(bad.text.contains("value=\"Hồ sơ\""), "the form keeps what was typed")

            let created = try await browser.post("/office/files", [("code", "07.TCCB"), ("title", "Hồ sơ thi tuyển <2026>"),
                                                                   ("year", "2026"), ("retention", "20"), ("note", "")])
            #expect(created.status == .seeOther)
            let location = try #require(created.headers.first(name: .location))
            let fileID = try #require(UUID(uuidString: String(location.dropFirst("/office/files/".count))))
            let again = try await browser.post("/office/files", [("code", "7.TCCB"), ("title", "Trùng"), ("year", "2026"),
                                                                 ("retention", "permanent")])
            #expect(again.status == .conflict)

            let page = try await browser.get(location)
            #expect(page.status == .ok)
            #expect(page.text.contains("Hồ sơ thi tuyển &lt;2026&gt;"), "escaped")
            #expect(page.text.contains("20 năm"))

            let doc = try await Self.paper(app, subject: "Thông báo thi tuyển công chức")
            let pasted = "https://govoffice.example.vn/office/documents/\(doc.uuidString.lowercased())?tab=history"
            #expect(try await browser.post("\(location)/documents", [("document", pasted)]).status == .seeOther)
            let withDoc = try await browser.get(location)
            #expect(withDoc.text.contains("Thông báo thi tuyển công chức"))
            #expect(withDoc.text.contains("href=\"/office/documents/\(doc.uuidString.lowercased())\""))
            // The document's own page names the file it is filed in.
            let docPage = try await browser.get("/office/documents/\(doc.uuidString.lowercased())")
            #expect(docPage.text.contains("href=\"/office/files/\(fileID.uuidString.lowercased())\""))
            let twice = try await browser.post("\(location)/documents", [("document", doc.uuidString)])
            #expect(twice.status == .conflict)
            #expect(twice.text.contains("data-code=\"work_file_document_repeated\""))
            #expect(try await browser.post("\(location)/documents", [("document", "not an id")]).status == .badRequest)
            #expect(try await browser.post("\(location)/documents", [("document", UUID().uuidString)]).status == .notFound)
            #expect(try await browser.post("\(location)/documents/not-a-uuid/remove", []).status == .notFound)
            #expect(try await browser.post("/office/files/\(UUID().uuidString)/close", []).status == .notFound)
            #expect(try await browser.get("/office/files/not-a-uuid").status == .notFound)
            #expect(try await browser.get("/office/files?year=abc").status == .badRequest)
            #expect(try await browser.get("/office/files?state=lost").status == .badRequest)

            // Without the CSRF token nothing happens.
            let forged = try await browser.post("\(location)/close", [], csrf: .none)
            #expect(forged.status == .forbidden)
            #expect(try await WorkFile.find(fileID, on: app.db)?.isOpen == true)
            #expect(try await browser.post("/office/files", [("code", "09.VP"), ("title", "X"), ("retention", "5")], csrf: .none)
                .status == .forbidden)

            #expect(try await browser.post("\(location)/close", []).status == .seeOther)
            let closed = try await browser.get(location)
            #expect(closed.status == .ok)
            #expect(closed.text.contains("id=\"file-index\""))
            #expect(!closed.text.contains("id=\"file-add\""), "no add form on a closed file")
            let print = try await browser.get("\(location)?format=print")
            #expect(print.status == .ok)
            #expect(print.text.contains("Thông báo thi tuyển công chức"))
            #expect(try await browser.get("\(location)?format=pdf").status == .badRequest)
            #expect(try await browser.get("/office/files?state=closed").text.contains("07.TCCB"))
            #expect(try await browser.post("\(location)/documents/\(doc.uuidString)/remove", []).status == .conflict)

            // Another agency's clerk: the file does not exist; a citizen has no office.
            let stranger = TestBrowser(app)
            try await stranger.login("g22.vanthu")
            #expect(try await stranger.get(location).status == .notFound)
            #expect(try await stranger.get("/office/files").text.contains("07.TCCB") == false)
            let citizen = TestBrowser(app)
            try await citizen.login("congdan")
            #expect(try await citizen.get("/office/files").status == .forbidden)
        }
    }
}
