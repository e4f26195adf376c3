import Foundation
import GovCore
import Testing

@Suite struct AgencyRecordTests {
    func code(_ raw: String) -> AgencyCode { try! AgencyCode(validating: raw) }

    @Test func defaults() {
        let record = AgencyRecord(code: code("000.00.00.G22"), name: "Bộ Nội vụ")
        #expect(record.level == 1)
        #expect(record.state == .active)
        #expect(record.parentCode == nil && record.email == nil && record.validFrom == nil)
        #expect(record.validate().isEmpty)
    }

    @Test func fullValidRecord() {
        let record = AgencyRecord(
            code: code("000.00.01.H01"), name: "UBND Thành phố Hà Nội", shortName: "UBND HN",
            parentCode: code("000.00.00.G22"), level: 2, group: "H", address: "12 Lê Lai",
            email: "vanthu@hanoi.gov.vn", phone: "+84 24 3825 3536", fax: "024 3825", website: "https://hanoi.gov.vn",
            validFrom: CivilDate(year: 2020, month: 1, day: 1), validTo: CivilDate(year: 2020, month: 1, day: 1),
            state: .locked, successorCode: code("000.00.02.H01"), note: "Sáp nhập 2025"
        )
        #expect(record.validate().isEmpty)
    }

    @Test func collectsEveryProblem() {
        let self_ = code("X01")
        let record = AgencyRecord(
            code: self_, name: "   ", parentCode: self_, level: 5, email: "no-at-sign",
            website: "ftp://x.vn", validFrom: CivilDate(year: 2025, month: 2, day: 1),
            validTo: CivilDate(year: 2025, month: 1, day: 31), successorCode: self_
        )
        let codes = Set(record.validate().map(\.code))
        #expect(codes == [
            "agency_name_empty", "agency_parent_self", "agency_level_invalid", "agency_email_invalid",
            "agency_website_invalid", "agency_valid_range_invalid", "agency_successor_self",
        ])
        #expect(record.validate().allSatisfy { $0.kind == .invalid })
    }

    @Test func nameLength() {
        let ok = AgencyRecord(code: code("X"), name: String(repeating: "ệ", count: 300))
        #expect(ok.validate().isEmpty)
        let long = AgencyRecord(code: code("X"), name: String(repeating: "ệ", count: 301))
        #expect(long.validate().map(\.code) == ["agency_name_too_long"])
    }

    @Test(arguments: [0, -1, 5, Int.max])
    func levelOutOfRange(level: Int) {
        let record = AgencyRecord(code: code("X"), name: "N", level: level)
        #expect(record.validate().map(\.code) == ["agency_level_invalid"])
    }

    @Test(arguments: ["http://a.vn", "https://a.vn/x", "HTTPS://A.VN"])
    func websitesAccepted(site: String) {
        #expect(AgencyRecord(code: code("X"), name: "N", website: site).validate().isEmpty)
    }

    @Test(arguments: ["a.vn", "https://", "javascript:alert(1)", "https://a b.vn", "//a.vn"])
    func websitesRejected(site: String) {
        #expect(AgencyRecord(code: code("X"), name: "N", website: site).validate().map(\.code) == ["agency_website_invalid"])
    }

    @Test func codableRoundTrip() throws {
        let record = AgencyRecord(code: code("000.00.00.G22"), name: "Bộ Nội vụ", validFrom: CivilDate(year: 2025, month: 7, day: 1))
        let decoded = try JSONDecoder().decode(AgencyRecord.self, from: JSONEncoder().encode(record))
        #expect(decoded == record)
    }
}

@Suite struct AgencyCSVTests {
    let header = AgencyCSV.columns.joined(separator: ",")

    func codes(_ issues: [CSVRowIssue]) -> [String] { issues.map(\.code) }

    @Test func columns() {
        #expect(AgencyCSV.columns.count == 16)
        #expect(AgencyCSV.columns.first == "code")
        #expect(AgencyCSV.requiredColumns == ["code", "name"])
    }

    @Test func minimalFile() throws {
        let result = AgencyCSV.parse("code,name\n000.00.00.G22,Bộ Nội vụ\n", existingCodes: [])
        #expect(result.isValid)
        #expect(result.warnings.isEmpty)
        let record = try #require(result.records.first)
        #expect(record.code.value == "000.00.00.G22")
        #expect(record.name == "Bộ Nội vụ")
        #expect(record.level == 1)
        #expect(record.state == .active)
        #expect(record.shortName == nil && record.validFrom == nil)
    }

    @Test func fullRowWithBOMAndCRLF() throws {
        let text = "\u{FEFF}" + header + "\r\n"
            + #"000.00.01.H01,"UBND Thành phố Hà Nội, khóa XVI",UBND HN,000.00.00.G22,2,H,"12 Lê Lai, ""Hoàn Kiếm""",vanthu@hanoi.gov.vn,024 3825,,https://hanoi.gov.vn,01/07/2025,2030-12-31,LOCKED,000.00.00.G22,"dòng 1""# + "\r\n"
            + "000.00.00.G22,Bộ Nội vụ,,,1,G,,,,,,,,,,\r\n"
        let result = AgencyCSV.parse(text, existingCodes: [])
        #expect(result.errors == [])
        let record = try #require(result.records.first)
        #expect(record.name == "UBND Thành phố Hà Nội, khóa XVI")
        #expect(record.address == #"12 Lê Lai, "Hoàn Kiếm""#)
        #expect(record.parentCode?.value == "000.00.00.G22")
        #expect(record.level == 2)
        #expect(record.group == "H")
        #expect(record.fax == nil)
        #expect(record.validFrom == CivilDate(year: 2025, month: 7, day: 1))
        #expect(record.validTo == CivilDate(year: 2030, month: 12, day: 31))
        #expect(record.state == .locked)
        #expect(record.successorCode?.value == "000.00.00.G22")
        #expect(record.note == "dòng 1")
        #expect(result.records.count == 2)
    }

    @Test func emptyOrHeaderlessFiles() {
        for text in ["", "\u{FEFF}", "\n\n", "name\nBộ Nội vụ", "code;name\nX;Y", "id,title\n1,2"] {
            let result = AgencyCSV.parse(text, existingCodes: [])
            #expect(codes(result.errors) == ["csv_missing_column"], "for \(text.debugDescription)")
            #expect(result.errors.first?.line == 1)
            #expect(result.records.isEmpty)
        }
    }

    @Test func missingColumnErrorNamesIt() {
        let result = AgencyCSV.parse("code,short_name\nX,Y\n", existingCodes: [])
        #expect(result.errors.count == 1)
        #expect(result.errors.first?.column == "name")
        #expect(result.errors.first?.en.contains("name") == true)
    }

    @Test func headerIsCaseAndSpaceInsensitive() {
        let result = AgencyCSV.parse(" Code , NAME \nX01,Tên\n", existingCodes: [])
        #expect(result.isValid)
        #expect(result.records.first?.name == "Tên")
    }

    @Test func unknownColumnsWarn() {
        let result = AgencyCSV.parse("code,name,mystery\nX01,Tên,42\n", existingCodes: [])
        #expect(result.isValid)
        #expect(result.records.count == 1)
        #expect(result.warnings.contains { $0.code == "csv_unknown_column" && $0.line == 1 && $0.column == "mystery" })
    }

    @Test func duplicateHeaderColumnIsAnError() {
        let result = AgencyCSV.parse("code,name,name\nX01,A,B\n", existingCodes: [])
        #expect(codes(result.errors) == ["csv_duplicate_column"])
        #expect(result.records.isEmpty)
    }

    @Test func nonStandardCodeWarns() {
        let result = AgencyCSV.parse("code,name\nSNV_HN,Sở Nội vụ\n", existingCodes: [])
        #expect(result.isValid)
        #expect(result.warnings.map(\.code) == ["agency_code_nonstandard"])
        #expect(result.warnings.first?.line == 2)
        #expect(result.warnings.first?.column == "code")
    }

    @Test func blankLinesAreSkippedButCounted() {
        let text = "code,name\n\n000.00.00.G22,A\n\n   \n,\n000.00.00.G22,B\n"
        let result = AgencyCSV.parse(text, existingCodes: [])
        #expect(result.records.count == 1)
        #expect(result.errors.map(\.line) == [7])
        #expect(codes(result.errors) == ["csv_duplicate_code"])
    }

    @Test func lineNumbersAccountForMultilineCells() {
        let text = "code,name,note\r\n000.00.00.G22,A,\"line one\r\nline two\nline three\"\r\n,B,\r\n"
        let result = AgencyCSV.parse(text, existingCodes: [])
        #expect(result.records.first?.note == "line one\r\nline two\nline three")
        #expect(result.errors.count == 1)
        #expect(result.errors.first?.line == 5)
        #expect(result.errors.first?.column == "code")
        #expect(result.errors.first?.code == "agency_code_empty")
    }

    @Test func badCellsNameLineAndColumn() {
        let text = """
        code,name,parent_code,level,email,website,valid_from,valid_to,state,successor_code
        Sở Nội vụ,A,,,,,,,,
        000.00.00.G22,,,,,,,,,
        000.00.00.G23,C,,x,,,,,,
        000.00.00.G24,D,,0,bad-mail,www.x.vn,,,,
        000.00.00.G25,E,,,,,2025-02-30,,,
        000.00.00.G26,F,,,,,2025-03-01,2025-02-01,,
        000.00.00.G27,G,,,,,,,closed,
        000.00.00.G28,H,000.00.00.Z99,,,,,,,000.00.00.Z98
        000.00.00.G29,I,000.00.00.G29,,,,,,,000.00.00.G29
        000.00.00.G30,J,bad code,,,,,,,bad code
        000.00.00.G31,K,,9,,,,,,
        """
        let result = AgencyCSV.parse(text, existingCodes: [])
        let found = result.errors.map { "\($0.line):\($0.column ?? "-"):\($0.code)" }
        #expect(found == [
            "2:code:agency_code_invalid_characters",
            "3:name:agency_name_empty",
            "4:level:csv_level_invalid",
            "5:level:csv_level_invalid",
            "5:email:agency_email_invalid",
            "5:website:agency_website_invalid",
            "6:valid_from:date_invalid",
            "7:valid_to:agency_valid_range_invalid",
            "8:state:csv_state_invalid",
            "9:parent_code:csv_parent_unknown",
            "9:successor_code:csv_successor_unknown",
            "10:parent_code:agency_parent_self",
            "10:successor_code:agency_successor_self",
            "11:parent_code:agency_code_invalid_characters",
            "11:successor_code:agency_code_invalid_characters",
            "12:level:csv_level_invalid",
        ])
        #expect(result.records.isEmpty)
        #expect(!result.isValid)
        #expect(result.errors.allSatisfy { !$0.vi.isEmpty && !$0.en.isEmpty })
    }

    @Test func referencesResolveInFileInAnyOrderOrInDirectory() {
        let text = """
        code,name,parent_code,successor_code
        000.00.01.H01,Con,000.00.00.H01,
        000.00.00.H01,Cha,,000.00.00.G22
        000.00.02.H01,Khác,000.00.00.G01,
        """
        let result = AgencyCSV.parse(text, existingCodes: ["000.00.00.G22", "000.00.00.G01"])
        #expect(result.errors == [])
        #expect(result.records.count == 3)
        let withoutDirectory = AgencyCSV.parse(text, existingCodes: [])
        #expect(codes(withoutDirectory.errors) == ["csv_successor_unknown", "csv_parent_unknown"])
        #expect(withoutDirectory.records.count == 1)
    }

    @Test func existingCodesMayBeUpdated() {
        let result = AgencyCSV.parse("code,name\n000.00.00.G22,Bộ Nội vụ (mới)\n", existingCodes: ["000.00.00.G22"])
        #expect(result.isValid)
        #expect(result.records.count == 1)
    }

    @Test func tooManyCellsIsAnError() {
        let result = AgencyCSV.parse("code,name\nX01,A,extra\nX02,B\n", existingCodes: [])
        #expect(codes(result.errors) == ["csv_column_count"])
        #expect(result.errors.first?.line == 2)
        #expect(result.records.map(\.code.value) == ["X02"])
    }

    @Test func missingTrailingCellsAreEmpty() {
        let result = AgencyCSV.parse("code,name,level,note\nX01,A\n", existingCodes: [])
        #expect(result.isValid)
        #expect(result.records.first?.level == 1)
        #expect(result.records.first?.note == nil)
    }

    @Test(arguments: [
        "code,name\nX01,\"unterminated\n",
        "code,name\nX01,\"unterminated\nX02,B\nX03,C\n",
        "code,name\nX01,A\nX02,\"B\"\"\n",
    ])
    func unterminatedQuoteIsAnError(text: String) {
        let result = AgencyCSV.parse(text, existingCodes: [])
        #expect(!result.isValid)
        #expect(result.errors.contains { $0.code == "csv_malformed" })
        #expect(!result.records.contains { $0.code.value != "X01" })
    }

    @Test func unterminatedQuoteInHeader() {
        let result = AgencyCSV.parse("code,\"name\nX01,A\n", existingCodes: [])
        #expect(codes(result.errors) == ["csv_malformed"])
        #expect(result.errors.first?.line == 1)
    }

    @Test(arguments: [
        ("\"", "csv_malformed"),
        ("\"\"\"", "csv_malformed"),
        (",,,,\n,,,", "csv_missing_column"),
        ("\u{0}\u{1}\u{2}", "csv_missing_column"),
        ("code,name\n\"a\"b,c\n", "agency_code_invalid_characters"),
        ("code,name\n" + String(repeating: "\"", count: 1001), "csv_malformed"),
        ("code,name\n\u{FEFF}X,Y\n", "agency_code_invalid_characters"),
        (String(repeating: "code,name,", count: 500), "csv_duplicate_column"),
        ("code,name\nX01,A\n\"X02\",\"B\"junk\"\n", "csv_malformed"),
    ])
    func garbageGivesAnError(text: String, expected: String) {
        let result = AgencyCSV.parse(text, existingCodes: [])
        #expect(result.errors.first?.code == expected)
        #expect(!result.isValid)
    }

    @Test func oddButValidInputs() {
        let blanks = AgencyCSV.parse("code,name\n\r\r\r\n\n", existingCodes: [])
        #expect(blanks.isValid && blanks.records.isEmpty)
        let escaped = AgencyCSV.parse("code,name\nX01,\"a\"\"\"\"b\"\n", existingCodes: [])
        #expect(escaped.records.first?.name == "a\"\"b")
    }

    @Test func randomInputNeverCrashesAndValidResultsRoundTrip() {
        // A fixed-seed generator keeps failures reproducible.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let alphabet: [String] = [",", "\"", "\n", "\r", "\r\n", "a", "1", ".", " ", "ệ", "Đ", "G", "-", "|"]
        func junk(_ maxLength: Int) -> String {
            (0..<next(maxLength + 1)).map { _ in alphabet[next(alphabet.count)] }.joined()
        }
        func cell(_ value: String) -> String {
            // Mostly well-formed quoting, sometimes raw text that may break the CSV structure.
            next(4) == 0 ? value : "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        var validWithRecords = 0
        for _ in 0..<400 {
            var text = "code,name,note\n"
            for row in 0..<(1 + next(4)) {
                let code = next(6) == 0 ? junk(4) : "C\(row)"
                text += [cell(code), cell("Tên " + junk(8)), cell(junk(10))].joined(separator: ",")
                text += next(2) == 0 ? "\n" : "\r\n"
            }
            if next(8) == 0 { text += junk(6) }
            let result = AgencyCSV.parse(text, existingCodes: [])
            #expect(result.isValid == result.errors.isEmpty)
            #expect(result.errors.allSatisfy { $0.line >= 1 })
            if result.isValid && !result.records.isEmpty {
                validWithRecords += 1
                let again = AgencyCSV.parse(AgencyCSV.write(result.records), existingCodes: [])
                #expect(again.records == result.records, "for \(text.debugDescription)")
            }
        }
        #expect(validWithRecords > 50)
    }

    @Test func largeFile() {
        var text = "code,name,parent_code,level\r\n000.00.00.G22,Bộ Nội vụ,,1\r\n"
        for i in 0..<5_000 {
            text += "000.\(String(format: "%02d", i / 100)).\(String(format: "%02d", i % 100)).H01,\"Phòng \"\"số\"\" \(i)\",000.00.00.G22,3\r\n"
        }
        let result = AgencyCSV.parse(text, existingCodes: [])
        #expect(result.errors == [])
        #expect(result.records.count == 5_001)
        #expect(result.records.last?.name == "Phòng \"số\" 4999")
        #expect(result.warnings.isEmpty)
    }

    @Test func headerOnlyIsValidAndEmpty() {
        let result = AgencyCSV.parse(header + "\r\n", existingCodes: [])
        #expect(result.isValid)
        #expect(result.records.isEmpty)
    }

    @Test func decomposedVietnameseIsComposed() {
        let decomposed = "Bộ Tư pháp".decomposedStringWithCanonicalMapping
        let result = AgencyCSV.parse("code,name\nX01,\(decomposed)\n", existingCodes: [])
        let name = result.records.first?.name ?? ""
        #expect(Array(name.unicodeScalars) == Array("Bộ Tư pháp".precomposedStringWithCanonicalMapping.unicodeScalars))
    }

    @Test func writeFormat() {
        let record = AgencyRecord(
            code: try! AgencyCode(validating: "000.00.00.G22"), name: "Bộ \"Nội\" vụ, Hà Nội",
            validFrom: CivilDate(year: 2025, month: 7, day: 1), note: "a\nb"
        )
        let text = AgencyCSV.write([record])
        #expect(!text.hasPrefix("\u{FEFF}"))
        #expect(text.hasPrefix(header + "\r\n"))
        #expect(text.hasSuffix("\r\n"))
        #expect(text.contains(#"000.00.00.G22,"Bộ ""Nội"" vụ, Hà Nội",,,1,,,,,,,2025-07-01,,active,,"a"# + "\n" + #"b""#))
        #expect(AgencyCSV.write([]) == header + "\r\n")
    }

    @Test func roundTrip() throws {
        let source = """
        \u{FEFF}code,name,short_name,parent_code,level,group,address,email,phone,fax,website,valid_from,valid_to,state,successor_code,note
        000.00.00.G22,"Bộ Nội vụ",BNV,,1,"Bộ, cơ quan ngang bộ","Số 8 Tôn Thất Thuyết, Cầu Giấy, Hà Nội",vanthu@moha.gov.vn,+84 24 6282 1017,,https://moha.gov.vn,2020/01/01,,active,,"Ghi chú: ""đặc biệt""
        dòng hai"
        000.00.01.H01,Ủy ban nhân dân tỉnh Đắk Lắk,UBND ĐL,000.00.00.G22,2,H,,,,,,01/01/2020,30/06/2025,locked,000.00.02.H01,Sáp nhập với Phú Yên
        000.00.02.H01,Ủy ban nhân dân tỉnh Đắk Lắk (mới),,000.00.00.G22,2,H,,,,,,2025-07-01,,,,
        SO-TU-PHAP,Sở Tư pháp; Đồng Tháp,,,3,,,,,,,,,,,|:\\\t
        """
        let first = AgencyCSV.parse(source, existingCodes: [])
        #expect(first.errors == [])
        #expect(first.records.count == 4)
        let written = AgencyCSV.write(first.records)
        let second = AgencyCSV.parse(written, existingCodes: [])
        #expect(second.errors == [])
        #expect(second.records == first.records)
        #expect(AgencyCSV.write(second.records) == written)
    }
}
