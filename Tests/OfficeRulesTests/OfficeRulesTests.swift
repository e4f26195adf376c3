import GovCore
import OfficeRules
import Testing

@Suite("Decree 30 document types and numbers")
struct OfficeRulesTests {
    @Test func twentyNineTypesWithExactAbbreviations() {
        #expect(DocumentType.all.count == 29)
        #expect(Set(DocumentType.all.map(\.id)).count == 29)
        #expect(DocumentType.named("QyĐ")?.name == "Quy định")
        #expect(DocumentType.named("QĐ")?.name == "Quyết định")
        #expect(DocumentType.named("qđ") == nil)
        #expect(DocumentType.named("TTr")?.name == "Tờ trình")
        #expect(DocumentType.officialLetter.usesUnitNotation)
        #expect(throws: GovError.self) { try DocumentType.require("XYZ") }
    }

    @Test func typedDocumentsAndLettersAreNumberedAsTheDecreeWrites() throws {
        let decision = try DocumentNumber(number: 12, type: DocumentType.require("QĐ"), agency: "UBND")
        #expect(decision.description == "12/QĐ-UBND")
        #expect(decision.printed == "Số: 12/QĐ-UBND")
        let letter = try DocumentNumber(number: 45, type: .officialLetter, agency: "UBND", unit: "VP")
        #expect(letter.description == "45/UBND-VP")
        let notice = try DocumentNumber(number: 5, type: DocumentType.require("TB"), agency: "VPCP")
        #expect(notice.description == "05/TB-VPCP")
    }

    @Test func badNumbersAndAbbreviationsAreRefusedWithACode() throws {
        let decision = try DocumentType.require("QĐ")
        for (number, agency, code) in [(0, "UBND", "document_number_invalid"), (1, "UB ND", "document_notation_invalid"),
                                       (1, "", "document_notation_invalid"), (1, "UBND/VP", "document_notation_invalid")] {
            #expect { try DocumentNumber(number: number, type: decision, agency: agency) } throws: { error in
                (error as? GovError)?.code == code
            }
        }
        #expect { try DocumentNumber(number: 3, type: .officialLetter, agency: "UBND") } throws: { error in
            (error as? GovError)?.code == "document_unit_missing"
        }
    }

    @Test func receivedNumbersAreRead() throws {
        let vpcp = try DocumentNumber(parsing: "7816/VPCP-TTĐT")
        #expect(vpcp.number == 7816 && vpcp.notation == "VPCP-TTĐT")
        #expect(try DocumentNumber(parsing: "Số: 05/TB-VPCP").description == "05/TB-VPCP")
        for bad in ["", "12", "12/", "/QĐ-UBND", "x/QĐ-UBND", "12/QĐ", "12/QĐ--UBND", "-1/QĐ-UBND", "12/QĐ-UB ND",
                    "12/QĐ-UBND'; DROP TABLE x;--", "١٢/QĐ-UBND"] {
            #expect(throws: GovError.self, "\(bad)") { try DocumentNumber(parsing: bad) }
        }
    }

    @Test func seriesRestartEachYearAndKeepSecretsApart() throws {
        let december = try CivilDate(parsing: "2026-12-31")
        let january = try CivilDate(parsing: "2027-01-01")
        let last = NumberSeries(register: "di-qd", date: december)
        let first = NumberSeries(register: "di-qd", date: january)
        #expect(last != first)
        #expect(first.next(after: nil) == 1)
        #expect(last.next(after: 341) == 342)
        #expect(NumberSeries(register: "di-qd", date: january, secret: true) != first)
        #expect(first.description == "di-qd/2027")
    }
}
