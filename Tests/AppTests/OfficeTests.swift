import EdXML
import Fluent
import Foundation
import GovCore
import OfficeRules
import PKI
import SQLKit
import Testing
import VaporTesting
import XMLSecurity

@testable import App

/// The document office's rules against the real database (SQLite here, PostgreSQL in
/// ./scripts/test): intake from the hub, each step and the status it queues, numbering under
/// concurrency and across the new year, and the bad input the issue names.
@Suite("Document office", .serialized)
struct OfficeTests {
    static let g22 = "000.00.00.G22"
    static let h41 = "000.00.00.H41"

    static func actor(_ username: String, _ roles: Set<Role>, agency: String = h41, unit: String? = "TH") -> OfficeActor {
        OfficeActor(username: username, fullName: username, agencyCode: agency, unit: unit, roles: roles, audit: .commandLine)
    }

    static let clerk = actor("h41.vanthu", [.clerk], unit: "VP")
    static let leader = actor("h41.lanhdao", [.leader])
    static let specialist = actor("h41.chuyenvien", [.specialist])

    /// A document from G22 to H41 as the hub would hand it over (unsigned: the signature report is given).
    static func incoming(number: String, subject: String = "Về việc thử nghiệm sổ văn bản") throws -> Data {
        var spec = DocumentSpec(from: Organization(organId: g22, organName: "Văn phòng Chính phủ"),
                                to: [Organization(organId: h41, organName: "UBND tỉnh Nghệ An")],
                                codeNumber: number, codeNotation: "VPCP-TH", typeName: "Công văn", subject: subject)
        spec.promulgationDate = "2026/11/23"
        spec.content = "Nội dung: " + subject
        return try EdXMLWriter.write(.document(EdXMLBuilder.document(spec)))
    }

    /// What the signature check says of a good document. The documents here are built unsigned;
    /// the real check runs in `invalidDocumentIsRejectedWithReason` and, on signed documents from
    /// another office, in tests/office.
    static let valid = SignatureReport(status: "valid", agencyBound: true, chain: [], revocation: "good", warnings: [])

    static func arrive(_ app: Application, number: String, subject: String = "Về việc thử nghiệm sổ văn bản") async throws -> OfficeDocument {
        let outcome = try await app.office.intake(hubMessageID: UUID(), bytes: try incoming(number: number, subject: subject),
                                                  agency: h41, signature: valid)
        #expect(outcome == .done)
        let doc = try await OfficeDocument.query(on: app.db).filter(\.$codeNumber == number).first()
        return try #require(doc)
    }

    /// The status codes queued for the hub about `doc`, in order.
    static func queued(_ app: Application, _ doc: OfficeDocument) async throws -> [String] {
        try await app.office.outbox(of: doc).map { item in
            guard case .status(let status) = try EdXMLReader.read(item.payload).message else { return "document" }
            return status.statusCode
        }
    }

    @Test("arrival answers 01; accept registers with number 1 and 03; assign 04; start 05; finish 06")
    func incomingWorkflowQueuesEveryStatus() async throws {
        try await withTestApp { app in
            let doc = try await Self.arrive(app, number: "101")
            #expect(doc.state == "arrived")
            let id = try doc.requireID()
            let accepted = try await app.office.take(.accept, on: id, by: Self.clerk)
            #expect(accepted.regNumber == 1)
            #expect(accepted.state == "registered")
            let arrival = try CivilDate(parsing: try #require(accepted.arrivalDate))
            let deadline = WorkingCalendar(years: 2026...2027).adding(workingDays: 5, to: arrival)
            _ = try await app.office.take(.assign(IncomingAssignment(leadUnit: "TH", coordinatingUnits: ["VP"],
                                                                     deadlines: ["TH": deadline], opinion: "Giao Phòng Tổng hợp")),
                                          on: id, by: Self.leader)
            _ = try await app.office.take(.startProcessing, on: id, by: Self.specialist)
            let done = try await app.office.take(.finish, on: id, by: Self.specialist)
            #expect(done.state == "done")
            #expect(done.deadline == deadline.iso)
            #expect(try await Self.queued(app, done) == ["01", "03", "04", "05", "06"])
            #expect(try await app.office.assignments(of: done).map(\.unit).sorted() == ["TH", "VP"])
            // The same hub message fetched again (a retry, another node) is not a second document.
            let again = try await app.office.intake(hubMessageID: UUID(uuidString: try #require(done.hubMessageID))!,
                                                    bytes: try Self.incoming(number: "101"), agency: Self.h41, signature: Self.valid)
            #expect(again == .done)
            #expect(try await OfficeDocument.query(on: app.db).filter(\.$codeNumber == "101").count() == 1)
        }
    }

    @Test("two nodes taking in the same hub message at once store one document, and both acknowledge")
    func concurrentIntakeOfOneMessage() async throws {
        try await withTestApp { app in
            let hubID = UUID()
            let bytes = try Self.incoming(number: "901")
            let outcomes = try await withThrowingTaskGroup(of: OfficeService.Intake.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await app.office.intake(hubMessageID: hubID, bytes: bytes, agency: Self.h41, signature: Self.valid) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes == Array(repeating: .done, count: 4))
            #expect(try await OfficeDocument.query(on: app.db).filter(\.$codeNumber == "901").count() == 1)
            let doc = try #require(try await OfficeDocument.query(on: app.db).filter(\.$codeNumber == "901").first())
            #expect(try await Self.queued(app, doc) == ["01"], "one 01, not one per node")
        }
    }

    @Test("a document that fails validation or its signature is kept, rejected, and answered 02 with the reason")
    func invalidDocumentIsRejectedWithReason() async throws {
        try await withTestApp { app in
            // Signed by a certificate of a CA this office does not trust, checked by the real SignatureCheck
            // as the worker checks what it fetches.
            let stranger = try DemoPKI()
            let issued = try stranger.issueAgency(code: Self.g22, name: "Văn phòng Chính phủ")
            let signed = try XMLSigner.signEdXML(try Self.incoming(number: "201"), key: issued.key,
                                                 certificateChainDER: [issued.certificate.derBytes, stranger.root.certificate.derBytes])
            let untrusted = try await app.signatureCheck.check(signed, sender: Self.g22)
            #expect(!untrusted.isAcceptable)
            let code = try #require(untrusted.code)
            _ = try await app.office.intake(hubMessageID: UUID(), bytes: signed, agency: Self.h41, signature: untrusted)
            let doc = try #require(try await OfficeDocument.query(on: app.db).filter(\.$codeNumber == "201").first())
            #expect(doc.state == "rejected")
            #expect(doc.edxml == signed, "kept for audit as it came")
            #expect(doc.rejectionReason?.contains(code) == true)
            let items = try await app.office.outbox(of: doc)
            #expect(items.count == 1)
            guard case .status(let status) = try EdXMLReader.read(items[0].payload).message else { Issue.record("not a status"); return }
            #expect(status.statusCode == "02")
            #expect(status.description?.contains(code) == true)

            // An unsigned document fails the real check too.
            let unsigned = try Self.incoming(number: "203")
            let report = try await app.signatureCheck.check(unsigned, sender: Self.g22)
            _ = try await app.office.intake(hubMessageID: UUID(), bytes: unsigned, agency: Self.h41, signature: report)
            let bare = try #require(try await OfficeDocument.query(on: app.db).filter(\.$codeNumber == "203").first())
            #expect(bare.state == "rejected")
            #expect(try await Self.queued(app, bare) == ["02"])

            // Missing required header fields: validation, not only the signature, refuses it.
            var text = String(decoding: try Self.incoming(number: "202"), as: UTF8.self)
            text = text.replacingOccurrences(of: "<edXML:Subject>Về việc thử nghiệm sổ văn bản</edXML:Subject>", with: "")
            _ = try await app.office.intake(hubMessageID: UUID(), bytes: Data(text.utf8), agency: Self.h41, signature: Self.valid)
            let invalid = try #require(try await OfficeDocument.query(on: app.db).filter(\.$codeNumber == "202").first())
            #expect(invalid.state == "rejected")
            #expect(try await Self.queued(app, invalid) == ["02"])

            let garbage = try await app.office.intake(hubMessageID: UUID(), bytes: Data("not xml".utf8), agency: Self.h41, signature: nil)
            guard case .refused = garbage else { Issue.record("unreadable bytes must be refused"); return }
        }
    }

    @Test("reject needs a reason and sends 02; steps out of order or by the wrong role are refused")
    func rejectAndRefusedSteps() async throws {
        try await withTestApp { app in
            let doc = try await Self.arrive(app, number: "301")
            let id = try doc.requireID()
            await #expect(throws: GovError.self) { _ = try await app.office.take(.reject(reason: "  "), on: id, by: Self.clerk) }
            await #expect(throws: GovError.self) { _ = try await app.office.take(.accept, on: id, by: Self.leader) }
            await #expect(throws: GovError.self) { _ = try await app.office.take(.finish, on: id, by: Self.specialist) }
            let rejected = try await app.office.take(.reject(reason: "Gửi nhầm cơ quan"), on: id, by: Self.clerk)
            #expect(rejected.state == "rejected")
            #expect(try await Self.queued(app, rejected) == ["01", "02"])
            await #expect(throws: GovError.self) { _ = try await app.office.take(.accept, on: id, by: Self.clerk) }
        }
    }

    @Test("a deadline before the arrival date is refused")
    func deadlineBeforeArrival() async throws {
        try await withTestApp { app in
            let doc = try await Self.arrive(app, number: "401")
            let id = try doc.requireID()
            _ = try await app.office.take(.accept, on: id, by: Self.clerk)
            let early = try #require(CivilDate(year: 2020, month: 1, day: 2))
            do {
                _ = try await app.office.take(.assign(IncomingAssignment(leadUnit: "TH", deadlines: ["TH": early], opinion: "")),
                                              on: id, by: Self.leader)
                Issue.record("an early deadline must be refused")
            } catch let error as GovError {
                #expect(error.code == "deadline_before_arrival")
            }
            #expect(try await OfficeDocument.find(id, on: app.db)?.state == "registered", "nothing changed")
        }
    }

    @Test("a clerk of another agency neither sees nor moves the document")
    func otherAgencyClerk() async throws {
        try await withTestApp { app in
            let doc = try await Self.arrive(app, number: "501")
            let id = try doc.requireID()
            let other = Self.actor("g22.vanthu", [.clerk], agency: Self.g22)
            await #expect(throws: GovError.self) { _ = try await app.office.document(id, for: other) }
            do {
                _ = try await app.office.take(.accept, on: id, by: other)
                Issue.record("another agency's clerk must be refused")
            } catch let error as GovError {
                #expect(error.code == "office_document_not_found")
            }
            #expect(try await app.office.list(.init(direction: .incoming), for: other).total == 0)
            #expect(try await app.office.list(.init(direction: .incoming, text: "thử nghiệm"), for: other).documents.isEmpty,
                    "search is scoped to the agency in the index itself")
            #expect(try await app.office.list(.init(direction: .incoming, text: "thử nghiệm"), for: Self.clerk).documents.count == 1)
            #expect(try await app.office.list(.init(direction: .outgoing, text: "thử nghiệm"), for: Self.clerk).documents.isEmpty)
            #expect(try await app.office.list(.init(direction: .incoming, state: "arrived", text: "thử nghiệm"), for: Self.clerk).total == 1)
            #expect(try await app.office.list(.init(direction: .incoming, state: "done", text: "thử nghiệm"), for: Self.clerk).total == 0)
        }
    }

    @Test("20 registrations at once get 1…20: no gaps, no duplicates")
    func concurrentNumbering() async throws {
        try await withTestApp { app in
            let today = try #require(CivilDate(year: 2026, month: 6, day: 1))
            let numbers = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        try await app.office.registerPaper(.init(senderName: "Bộ Nội vụ", codeNumber: "\(index + 1)/BNV-TCBM", typeCode: "CV",
                                                                 subject: "Văn bản giấy \(index)", promulgationDate: nil, urgency: 0,
                                                                 secret: false, scan: nil), by: Self.clerk, today: today).regNumber ?? 0
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(numbers.sorted() == Array(1...20))
        }
    }

    @Test("the series restarts at 1 on 1 January; secret documents have their own series")
    func newYearReset() async throws {
        try await withTestApp { app in
            func register(_ day: CivilDate, secret: Bool = false) async throws -> Int {
                try await app.office.registerPaper(.init(senderName: "Bộ Tài chính", codeNumber: "", typeCode: "TB", subject: "Thông báo",
                                                         promulgationDate: nil, urgency: 0, secret: secret, scan: nil),
                                                   by: Self.clerk, today: day).regNumber ?? 0
            }
            let eve = try #require(CivilDate(year: 2026, month: 12, day: 31))
            let newYear = try #require(CivilDate(year: 2027, month: 1, day: 1))
            #expect(try await register(eve) == 1)
            #expect(try await register(eve) == 2)
            #expect(try await register(eve, secret: true) == 1)
            #expect(try await register(newYear) == 1)
            #expect(try await register(newYear) == 2)
        }
    }

    @Test("attachments of a type that is not allowed are refused before anything is stored")
    func attachmentTypeNotAllowed() async throws {
        try await withTestApp { app in
            let exe = OfficeService.UploadedFile(name: "hoso.exe", contentType: "application/x-msdownload", data: Data("MZ".utf8))
            do {
                _ = try await app.office.registerPaper(.init(senderName: "Sở Nội vụ", codeNumber: "", typeCode: "CV", subject: "Kèm tệp",
                                                             promulgationDate: nil, urgency: 0, secret: false, scan: exe), by: Self.clerk)
                Issue.record("an .exe must be refused")
            } catch let error as GovError {
                #expect(error.code == "office_attachment_type_not_allowed")
                #expect(error.kind.httpStatus == 415)
            }
            // A PDF name with an executable's type, or a PDF type with another extension, is refused too.
            for (name, type) in [("a.pdf", "application/x-msdownload"), ("a.exe", "application/pdf")] {
                #expect(throws: GovError.self) {
                    try OfficeAttachmentPolicy.check(.init(name: name, contentType: type, data: Data("%PDF-1.7".utf8)))
                }
            }
            // An executable renamed to scan.pdf, with the type the name suggests: the bytes give it away.
            #expect(throws: GovError.self) {
                try OfficeAttachmentPolicy.check(.init(name: "scan.pdf", contentType: "application/pdf", data: Data([0x4D, 0x5A, 0x90, 0x00])))
            }
            try OfficeAttachmentPolicy.check(.init(name: "scan.pdf", contentType: "application/pdf", data: Data("%PDF-1.7".utf8)))
            // Too large, however real.
            let big = Data("%PDF-1.7".utf8) + Data(count: OfficeAttachmentPolicy.maxBytes)
            do {
                try OfficeAttachmentPolicy.check(.init(name: "big.pdf", contentType: "application/pdf", data: big))
                Issue.record("a file over the limit must be refused")
            } catch let error as GovError {
                #expect(error.code == "office_attachment_too_large")
            }
            #expect(try await OfficeDocument.query(on: app.db).count() == 0)
        }
    }

    @Test("search ignores diacritics and reads SQL and FTS syntax as plain words")
    func searchIsDiacriticInsensitiveAndSafe() async throws {
        try await withTestApp { app in
            _ = try await Self.arrive(app, number: "601", subject: "Về việc ban hành quyết định tuyển dụng")
            _ = try await Self.arrive(app, number: "602", subject: "Về việc kiểm tra công tác văn thư")
            func search(_ q: String) async throws -> [String] {
                try await app.office.list(.init(direction: .incoming, text: q), for: Self.clerk).documents.compactMap(\.codeNumber)
            }
            #expect(try await search("quyet dinh") == ["601"])
            #expect(try await search("QUYẾT ĐỊNH") == ["601"])
            #expect(try await search("van thu") == ["602"])
            #expect(try await search("602/VPCP") == ["602"])
            #expect(try await search("tuyen").count == 1, "one syllable finds it")
            #expect(try await search("tuye").isEmpty, "whole words, not prefixes")
            for hostile in ["' OR 1=1 --", "\"quyet\" NEAR(*", "quyet* AND NOT dinh", "); DROP TABLE office_documents; --",
                            "col:quyet", "^dinh", "\"", "*", "a:* & !b", "%_\\"] {
                _ = try await search(hostile)
            }
            #expect(try await search("' OR 1=1 --") == [], "no word of it occurs")
            #expect(try await OfficeDocument.query(on: app.db).count() == 2)
        }
    }

    @Test("outgoing: draft, approval, numbering by the clerk only, secret documents apart, sending queues the document")
    func outgoingNumbering() async throws {
        try await withTestApp { app in
            let g22Specialist = Self.actor("g22.chuyenvien", [.specialist], agency: Self.g22)
            let g22Leader = Self.actor("g22.lanhdao", [.leader], agency: Self.g22)
            let g22Clerk = Self.actor("g22.vanthu", [.clerk], agency: Self.g22, unit: "HC")
            let draft = OfficeService.Draft(typeCode: "QĐ", subject: "Quyết định thành lập tổ công tác", content: "Điều 1…",
                                            signerName: "Lê Văn Lãnh Đạo", signerPosition: "Phó Chủ nhiệm", competence: "KT.",
                                            recipients: [Self.h41], places: "Như Điều 3;\nLưu: VT.", urgency: 1, secret: false, files: [])
            let doc = try await app.office.createDraft(draft, by: g22Specialist, directory: AgencyDirectory(db: app.db))
            let id = try doc.requireID()
            await #expect(throws: GovError.self) {
                _ = try await app.office.assignNumber(id, agencyAbbreviation: "VPCP", unitAbbreviation: nil, by: g22Clerk)
            }
            try await app.office.approve(id, by: g22Leader)
            await #expect(throws: GovError.self) {
                _ = try await app.office.assignNumber(id, agencyAbbreviation: "VPCP", unitAbbreviation: nil, by: g22Leader)
            }
            let numbered = try await app.office.assignNumber(id, agencyAbbreviation: "VPCP", unitAbbreviation: nil, by: g22Clerk)
            #expect(numbered.displayNumber == "01/QĐ-VPCP")
            try await app.office.send(id, by: g22Clerk)
            let sent = try #require(try await OfficeDocument.find(id, on: app.db))
            #expect(sent.state == "sent")
            #expect(sent.edxmlDocumentID?.hasSuffix("01/QĐ-VPCP") == true)
            #expect(try await Self.queued(app, sent) == ["document"])
            guard case .document(let issued) = try EdXMLReader.read(try #require(sent.edxml)).message else {
                Issue.record("the sent bytes are not a document"); return
            }
            #expect(issued.header.from.organName == "Văn phòng Chính phủ", "named as the directory has it")
            #expect(issued.header.to.map(\.organName) == ["Ủy ban nhân dân tỉnh Nghệ An"])

            // A correction of the sent document goes out as an update; a replacement names the old one.
            try await app.office.sendUpdate(id, subject: "Quyết định thành lập tổ công tác (đính chính)", content: "Điều 1 (sửa)…",
                                            reason: "Đính chính", by: g22Clerk)
            let items = try await app.office.outbox(of: sent)
            #expect(items.count == 2)
            guard case .document(let update) = try EdXMLReader.read(items[1].payload).message else { Issue.record("no update"); return }
            #expect(update.business?.docType == .update)
            #expect(update.header.subject == "Quyết định thành lập tổ công tác (đính chính)")
            let replacement = try await app.office.startReplacement(of: id, by: g22Clerk)
            #expect(replacement.replacesID == id)
            #expect(replacement.state == "draft")
            await #expect(throws: GovError.self) { _ = try await app.office.startReplacement(of: id, by: g22Leader) }
            try await app.office.approve(try replacement.requireID(), by: g22Leader)
            _ = try await app.office.assignNumber(try replacement.requireID(), agencyAbbreviation: "VPCP", unitAbbreviation: nil, by: g22Clerk)
            try await app.office.send(try replacement.requireID(), by: g22Clerk)
            let replacementItems = try await app.office.outbox(of: try #require(try await OfficeDocument.find(try replacement.requireID(), on: app.db)))
            guard case .document(let message) = try EdXMLReader.read(replacementItems[0].payload).message else { Issue.record("no replacement"); return }
            #expect(message.business?.docType == .replacement)
            #expect(message.business?.replacementInfoList?.first?.documentId == sent.edxmlDocumentID)
            #expect(try await OfficeDocument.find(id, on: app.db)?.revocation == "replaced")

            var secret = draft
            secret.recipients = []
            secret.secret = true
            let letter = try await app.office.createDraft(secret, by: g22Specialist, directory: AgencyDirectory(db: app.db))
            try await app.office.approve(try letter.requireID(), by: g22Leader)
            let secretNumbered = try await app.office.assignNumber(try letter.requireID(), agencyAbbreviation: "VPCP",
                                                                   unitAbbreviation: nil, by: g22Clerk)
            #expect(secretNumbered.regNumber == 1, "secret documents have their own series")

            var overHub = draft
            overHub.secret = true
            do {
                _ = try await app.office.createDraft(overHub, by: g22Specialist, directory: AgencyDirectory(db: app.db))
                Issue.record("a secret document must not go over the hub")
            } catch let error as GovError {
                #expect(error.code == "office_secret_not_electronic")
            }
        }
    }

    @Test("the shipped holiday file: Tết 2026 is not worked, and a deadline steps over it")
    func shippedHolidayFile() async throws {
        try await withTestApp { app in
            let calendar = app.workingCalendar
            let tet = try #require(CivilDate(year: 2026, month: 2, day: 17))
            #expect(!calendar.isWorkingDay(tet))
            let friday = try #require(CivilDate(year: 2026, month: 2, day: 13))
            #expect(calendar.adding(workingDays: 5, to: friday).iso == "2026-02-27")
            #expect(!calendar.isWorkingDay(try #require(CivilDate(year: 2026, month: 9, day: 2))), "built-in 2/9")
            #expect(calendar.isWorkingDay(try #require(CivilDate(year: 2025, month: 4, day: 26))), "a Saturday worked in exchange")
        }
    }

    @Test("overdue and due-soon lists, the follow-up register and the period counts")
    func deadlinesFollowUpAndCounts() async throws {
        try await withTestApp { app in
            let calendar = app.workingCalendar
            let today = CivilDate.today()
            let late = try await Self.arrive(app, number: "701", subject: "Văn bản quá hạn")
            let soon = try await Self.arrive(app, number: "702", subject: "Văn bản sắp đến hạn")
            for (doc, days) in [(late, -1), (soon, 1)] {
                let id = try doc.requireID()
                _ = try await app.office.take(.accept, on: id, by: Self.clerk)
                let deadline = calendar.adding(workingDays: max(days, 0), to: today)
                _ = try await app.office.take(.assign(IncomingAssignment(leadUnit: "TH", deadlines: ["TH": deadline], opinion: "")),
                                              on: id, by: Self.leader)
                if days < 0 {
                    // A deadline in the past, as if assigned a week ago.
                    let stored = try #require(try await OfficeDocument.find(id, on: app.db))
                    stored.deadline = try #require(CivilDate(year: 2020, month: 3, day: 2)).iso
                    try await stored.update(on: app.db)
                }
            }
            let (overdue, dueSoon) = try await app.office.deadlines(for: Self.leader, scope: "agency", today: today, calendar: calendar)
            #expect(overdue.map(\.id) == [try late.requireID().uuidString.lowercased()])
            #expect(overdue.first.map { $0.lateDays > 100 } == true)
            #expect(dueSoon.map(\.id) == [try soon.requireID().uuidString.lowercased()])
            let unit = try await app.office.deadlines(for: Self.specialist, scope: "unit", today: today, calendar: calendar)
            #expect(unit.overdue.count == 1, "the specialist's unit TH leads both")
            #expect(try await app.office.deadlines(for: Self.specialist, scope: "me", today: today, calendar: calendar).overdue.isEmpty)

            _ = try await app.office.take(.finish, on: try soon.requireID(), by: Self.specialist)
            let register = try await app.office.followUpRegister(year: today.year, for: Self.clerk, today: today, calendar: calendar)
            #expect(register.map(\.progress) == ["open", "on_time"])
            let counts = try await app.office.counts(from: today, to: today, for: Self.clerk, calendar: calendar)
            #expect(counts.first?.received == 2)
            #expect(counts.first?.handled == 1)
            #expect(counts.first?.overdue == 1)
            #expect(counts.contains { $0.unit == "TH" && $0.received == 2 })
        }
    }

    @Test("the office pages answer a clerk, and the follow-up register comes as CSV")
    func officePages() async throws {
        try await withTestApp { app in
            _ = try await Self.arrive(app, number: "801")
            let browser = TestBrowser(app)
            _ = try await browser.login("h41.vanthu")
            for path in ["/office", "/office/incoming", "/office/outgoing", "/office/search?q=quyet+dinh", "/office/deadlines",
                         "/office/statistics", "/office/registers/incoming", "/office/registers/followup",
                         "/office/registers/outgoing?format=print", "/office/incoming/new", "/office/outgoing/new"] {
                let page = try await browser.get(path)
                #expect(page.status == .ok, "\(path): \(page.status)")
            }
            // A scan with a Vietnamese name downloads under that name, as an attachment.
            let scanned = try await app.office.registerPaper(
                .init(senderName: "Sở Nội vụ", codeNumber: "", typeCode: "CV", subject: "Có bản quét", promulgationDate: nil,
                      urgency: 0, secret: false,
                      scan: .init(name: "Bản quét \"1\".pdf", contentType: "application/pdf", data: Data("%PDF-1.7".utf8))),
                by: Self.clerk)
            let file = try #require(try await app.office.attachments(of: scanned).first)
            let download = try await browser.get("/office/documents/\(try scanned.requireID().uuidString.lowercased())/files/\(try file.requireID().uuidString.lowercased())")
            #expect(download.status == .ok)
            #expect(download.body.string == "%PDF-1.7")
            let disposition = try #require(download.headers.first(name: .contentDisposition))
            #expect(disposition.hasPrefix("attachment; filename=\"Bn qut 1.pdf\""), "ASCII only, no quote: \(disposition)")
            #expect(disposition.contains("filename*=UTF-8''B%E1%BA%A3n%20qu%C3%A9t%20%221%22%2Epdf"), "\(disposition)")

            let csv = try await browser.get("/office/registers/followup?format=csv")
            #expect(csv.headers.contentType?.description.hasPrefix("text/csv") == true)
            #expect(csv.body.string.hasPrefix("\u{FEFF}Số đến,"), "the register's columns, for a spreadsheet")
            #expect(csv.body.string.contains("Có bản quét"), "the registered paper document is followed up")
            #expect(try await browser.get("/office/statistics?from=2026-12-31&to=2026-01-01").status == .badRequest)
            #expect(try await browser.get("/office/deadlines?scope=everyone").status == .badRequest)

            // The assign form as a browser sends it: the empty working-days box is no error, and
            // a number of working days becomes the lead unit's deadline.
            let doc = try await Self.arrive(app, number: "802")
            _ = try await app.office.take(.accept, on: try doc.requireID(), by: Self.clerk)
            let leader = TestBrowser(app)
            _ = try await leader.login("g22.lanhdao")
            let g22Doc = try await app.office.registerPaper(.init(senderName: "Bộ Nội vụ", codeNumber: "", typeCode: "CV", subject: "Giao việc",
                                                                  promulgationDate: nil, urgency: 0, secret: false, scan: nil),
                                                            by: Self.actor("g22.vanthu", [.clerk], agency: Self.g22, unit: "HC"))
            let path = "/office/documents/\(try g22Doc.requireID().uuidString.lowercased())/assign"
            let empty = try await leader.post(path, [("lead_unit", "TH"), ("deadline", ""), ("deadline_days", ""), ("opinion", "x")])
            #expect(empty.status == .seeOther, "\(empty.body.string.prefix(300))")
            let byDays = try await leader.post(path, [("lead_unit", "TH"), ("deadline", ""), ("deadline_days", "3"), ("opinion", "x")])
            #expect(byDays.status == .seeOther)
            let stored = try #require(try await OfficeDocument.find(try g22Doc.requireID(), on: app.db))
            #expect(stored.deadline == app.workingCalendar.adding(workingDays: 3, to: CivilDate.today()).iso)
            let bad = try await leader.post(path, [("lead_unit", "TH"), ("deadline", ""), ("deadline_days", "many"), ("opinion", "x")])
            #expect(bad.status == .badRequest)
        }
    }

    @Test("the worker records the hub link's state only when it changes or once a minute")
    func workerNotesContactSparingly() async throws {
        try await withTestApp { app in
            let connection = OfficeConnection()
            connection.agencyCode = Self.h41
            connection.hubURL = OfficeConnection.localHub
            connection.systemID = "office-h41"
            connection.secret = "s"
            connection.keyPath = ""
            connection.certPath = ""
            connection.enabled = true
            try await connection.create(on: app.db)
            func stored() async throws -> OfficeConnection { try #require(try await OfficeConnection.find(connection.id, on: app.db)) }

            await OfficeWorker.note(app, agency: Self.h41, error: nil)
            let first = try #require(try await stored().lastContactAt)
            await OfficeWorker.note(app, agency: Self.h41, error: nil)
            #expect(try await stored().lastContactAt == first, "a healthy poll a moment later writes nothing")

            await OfficeWorker.note(app, agency: Self.h41, error: "transport_failed")
            #expect(try await stored().lastError == "transport_failed", "a failure is recorded at once")
            await OfficeWorker.note(app, agency: Self.h41, error: "request_invalid")
            #expect(try await stored().lastError == "request_invalid", "so is a different failure")
            await OfficeWorker.note(app, agency: Self.h41, error: nil)
            #expect(try await stored().lastError == nil, "and the recovery")
        }
    }
}
