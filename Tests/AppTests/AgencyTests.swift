import Fluent
import Foundation
import GovCore
import Testing
import VaporTesting

@testable import App

@Suite("Agency directory: API, search, CSV import/export")
struct AgencyTests {
    struct ListBody: Decodable {
        struct Item: Decodable { var code: String; var name: String; var state: String; var valid_to: String? }
        var items: [Item]
        var total: Int
    }

    func list(_ app: Application, _ query: String) async throws -> ListBody {
        let response = try await app.testing().sendRequest(.GET, "/api/v1/agencies" + query)
        #expect(response.status == .ok, "\(query)")
        return try JSONDecoder().decode(ListBody.self, from: Data(buffer: response.body))
    }

    @Test func demoDirectoryHasTheGovernmentOfficeMinistriesAndProvinces() async throws {
        try await withTestApp { app in
            let all = try await list(app, "?per_page=500")
            let codes = Set(all.items.map(\.code))
            #expect(codes.contains("000.00.00.G22"))
            #expect(codes.isSuperset(of: ["000.00.00.G01", "000.00.00.G09", "000.00.00.G18", "000.00.00.G21"]))
            #expect(all.items.filter { $0.code.hasSuffix("H41") || $0.code.contains(".H") }.count >= 5)
            // The 2025 merger: a closed province is kept, locked, with its end date.
            let hauGiang = try #require(all.items.first { $0.code == "000.00.00.H30" })
            #expect(hauGiang.state == "locked")
            #expect(hauGiang.valid_to == "2025-06-30")
        }
    }

    @Test func searchIgnoresDiacriticsAndCase() async throws {
        try await withTestApp { app in
            for q in ["van%20phong%20chinh%20phu", "V%C4%83n%20ph%C3%B2ng", "VAN%20PHONG", "g22"] {
                let found = try await list(app, "?q=\(q)")
                #expect(found.items.contains { $0.code == "000.00.00.G22" }, "\(q)")
            }
            let hcm = try await list(app, "?q=ho%20chi%20minh")
            #expect(hcm.items.map(\.code) == ["000.00.00.H29"])
        }
    }

    @Test(arguments: ["' OR 1=1 --", "%", "_", "\\", "\"); DELETE FROM agencies; --", "ĐẮK LẮK", "%%__"])
    func hostileSearchTextIsOnlySearchedFor(q: String) async throws {
        try await withTestApp { app in
            let encoded = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
            let found = try await list(app, "?q=\(encoded)")
            #expect(found.total == 0, "\(q) must match nothing in the demo directory")
            let page = try await app.testing().sendRequest(.GET, "/agencies?q=\(encoded)")
            #expect(page.status == .ok)
            #expect(try await Agency.query(on: app.db).count() == 28)
        }
    }

    @Test func unknownAgencyCodeIs404() async throws {
        try await withTestApp { app in
            let api = try await app.testing().sendRequest(.GET, "/api/v1/agencies/000.00.00.X99")
            #expect(api.status == .notFound)
            #expect(api.errorCode == "agency_not_found")
            let page = try await app.testing().sendRequest(.GET, "/agencies/000.00.00.X99", headers: ["Accept": "text/html"])
            #expect(page.status == .notFound)
            #expect(page.body.string.contains("agency_not_found"))
        }
    }

    @Test func detailShowsUnits() async throws {
        try await withTestApp { app in
            let response = try await app.testing().sendRequest(.GET, "/api/v1/agencies/000.00.00.G22")
            #expect(response.status == .ok)
            #expect(response.body.string.contains("Vụ Hành chính"))
            let page = try await app.testing().sendRequest(.GET, "/agencies/000.00.00.G22")
            #expect(page.body.string.contains("Cục Kiểm soát thủ tục hành chính"))
        }
    }

    static let goodCSV = """
    code,name,short_name,parent_code,level,group,email,valid_from,valid_to,state,successor_code,note
    000.00.00.H13,Ủy ban nhân dân thành phố Cần Thơ,UBND TP Cần Thơ,,1,H,vanthu@cantho.gov.vn,2025-07-01,,active,,
    000.01.00.H13,Sở Nội vụ thành phố Cần Thơ,,000.00.00.H13,2,H,,,,active,,
    000.00.00.H30,Ủy ban nhân dân tỉnh Hậu Giang,UBND tỉnh Hậu Giang,,1,H,,,2025-06-30,locked,000.00.00.H13,Sáp nhập
    vxp.saas.02,Hệ thống thử nghiệm,,,4,,,,,active,,mã không chuẩn
    """

    @Test func goodCSVImportsAllRowsAndIsAudited() async throws {
        try await withTestApp { app in
            let report = try await AgencyDirectory(db: app.db).importCSV(Self.goodCSV, by: .commandLine)
            #expect(report.succeeded)
            #expect(report.created == 3)
            #expect(report.updated == 1)
            #expect(report.warnings.contains { $0.code == "agency_code_nonstandard" })
            let canTho = try #require(try await Agency.query(on: app.db).filter(\.$code == "000.00.00.H13").first())
            #expect(canTho.name == "Ủy ban nhân dân thành phố Cần Thơ")
            let hauGiang = try #require(try await Agency.query(on: app.db).filter(\.$code == "000.00.00.H30").first())
            #expect(hauGiang.successorCode == "000.00.00.H13")
            let nonStandard = try #require(try await Agency.query(on: app.db).filter(\.$code == "vxp.saas.02").first())
            #expect(!nonStandard.codeStandard)
            #expect(try await AuditRecord.query(on: app.db).filter(\.$action == "agency.import").count() == 1)
        }
    }

    @Test func dryRunChecksWithoutWriting() async throws {
        try await withTestApp { app in
            let before = try await AuditRecord.query(on: app.db).count()
            let report = try await AgencyDirectory(db: app.db).importCSV(Self.goodCSV, by: .commandLine, dryRun: true)
            #expect(report.succeeded)
            #expect(report.created == 0 && report.updated == 0)
            #expect(try await Agency.query(on: app.db).filter(\.$code == "000.00.00.H13").count() == 0)
            #expect(try await AuditRecord.query(on: app.db).count() == before)
            let bad = try await AgencyDirectory(db: app.db).importCSV("code,name\n,Không mã\n", by: .commandLine, dryRun: true)
            #expect(!bad.succeeded)
        }
    }

    @Test func csvWithBadRowsImportsNothingAndReportsEachRow() async throws {
        try await withTestApp { app in
            let before = try await Agency.query(on: app.db).count()
            let csv = """
            code,name,level,email,valid_from,valid_to,state,parent_code
            000.00.00.H13,Ủy ban nhân dân thành phố Cần Thơ,1,,,,active,
            ,Không có mã,1,,,,active,
            000.00.00.H98,Cấp sai,9,,,,active,
            000.00.00.H97,Thư sai,1,not-an-email,,,active,
            000.00.00.H96,Ngày sai,1,,2025-13-40,,active,
            000.00.00.H95,Khoảng ngày ngược,1,,2025-07-01,2025-01-01,active,
            000.00.00.H94,Trạng thái sai,1,,,,sleeping,
            000.00.00.H93,Cha không tồn tại,2,,,,active,000.00.00.Z00
            000.00.00.H13,Trùng mã,1,,,,active,
            bad code!,Ký tự sai,1,,,,active,
            """
            let report = try await AgencyDirectory(db: app.db).importCSV(csv, by: .commandLine)
            #expect(!report.succeeded)
            let lines = Set(report.errors.map(\.line))
            #expect(lines == [3, 4, 5, 6, 7, 8, 9, 10, 11], "\(report.errors.map { "\($0.line):\($0.code)" })")
            #expect(report.errors.allSatisfy { !$0.vi.isEmpty && !$0.en.isEmpty })
            #expect(try await Agency.query(on: app.db).count() == before)
            #expect(try await Agency.query(on: app.db).filter(\.$code == "000.00.00.H13").count() == 0)
        }
    }

    @Test func csvImportPageReportsBadRowsAndImportsNothing() async throws {
        try await withTestApp { app in
            let admin = TestBrowser(app)
            try await admin.login("admin")
            let token = try await admin.token()
            let csv = "code,name,level\n000.00.00.H13,Cần Thơ,1\n000.00.00.H12,,7\n"
            let boundary = "----govoffice-test"
            var body = ""
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n\(token)\r\n"
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\n\(csv)\r\n"
            body += "--\(boundary)--\r\n"
            let response = try await admin.request(
                .POST, "/admin/agencies/import", body: ByteBuffer(string: body),
                contentType: HTTPMediaType(type: "multipart", subType: "form-data", parameters: ["boundary": boundary]))
            #expect(response.status == .unprocessableEntity)
            #expect(response.text.contains("id=\"import-errors\""))
            #expect(response.text.contains("<td>3</td>"))
            #expect(try await Agency.query(on: app.db).filter(\.$code == "000.00.00.H13").count() == 0)

            let good = body.replacingOccurrences(of: "000.00.00.H12,,7", with: "000.00.00.H12,Cà Mau,1")
            let ok = try await admin.request(
                .POST, "/admin/agencies/import", body: ByteBuffer(string: good),
                contentType: HTTPMediaType(type: "multipart", subType: "form-data", parameters: ["boundary": boundary]))
            #expect(ok.status == .ok)
            #expect(try await Agency.query(on: app.db).filter(\.$code == "000.00.00.H13").count() == 1)
        }
    }

    @Test func exportRoundTripsThroughImport() async throws {
        try await withTestApp { app in
            let csv = try await AgencyDirectory(db: app.db).exportCSV()
            #expect(csv.hasPrefix("code,name,"))
            #expect(csv.contains("Ủy ban nhân dân tỉnh Nghệ An"))
            let report = try await AgencyDirectory(db: app.db).importCSV(csv, by: .commandLine)
            #expect(report.succeeded)
            #expect(report.created == 0)
            #expect(report.updated == 28)
            let download = try await app.testing().sendRequest(.GET, "/agencies.csv")
            #expect(download.status == .ok)
            #expect(download.headers.contentType?.subType == "csv")
            #expect(download.headers.first(name: .contentDisposition)?.hasPrefix("attachment; filename=\"agencies.csv\"") == true)
            #expect(download.body.string == csv)
        }
    }

    @Test func lockingAnAgencyIsForSystemAdminsAndAudited() async throws {
        try await withTestApp { app in
            let agencyAdmin = TestBrowser(app)
            try await agencyAdmin.login("g22.quantri")
            #expect(try await agencyAdmin.post("/admin/agencies/000.00.00.H41/state", [("state", "locked")]).status == .forbidden)
            let admin = TestBrowser(app)
            try await admin.login("admin")
            #expect(try await admin.post("/admin/agencies/000.00.00.H41/state", [("state", "locked")]).status == .seeOther)
            let h41 = try #require(try await Agency.query(on: app.db).filter(\.$code == "000.00.00.H41").first())
            #expect(h41.state == "locked")
            #expect(try await AuditRecord.query(on: app.db).filter(\.$action == "agency.lock").count() == 1)
            #expect(try await admin.post("/admin/agencies/000.00.00.H41/state", [("state", "asleep")]).status == .badRequest)
            let added = try await admin.post("/admin/agencies/000.00.00.H41/departments",
                                             [("code", "KT"), ("name", "Phòng Kinh tế"), ("kind", "phong")])
            #expect(added.status == .seeOther)
            let twice = try await admin.post("/admin/agencies/000.00.00.H41/departments",
                                             [("code", "KT"), ("name", "Phòng Kinh tế"), ("kind", "phong")])
            #expect(twice.status == .conflict)
        }
    }
}
