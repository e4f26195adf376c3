import Foundation
import GovCore
import Testing

@Suite struct AgencyCodeTests {
    @Test func standardCode() throws {
        let code = try AgencyCode(validating: "  000.00.00.G22 \n")
        #expect(code.value == "000.00.00.G22")
        #expect(code.isStandard)
        #expect(code.level1Code == "G22")
        #expect(code.groupLetter == "G")
        #expect(code.standardWarning == nil)
        #expect(code.description == "000.00.00.G22")
    }

    @Test(arguments: ["H01", "000.00.00.g22", "000.00.00.G2", "00.00.00.G22", "000-00-00-G22", "000.00.00.G22.1", "UBND_HN", "000.00.0A.G22", "000.00.00.GG2"])
    func nonStandardIsAcceptedWithWarning(raw: String) throws {
        let code = try AgencyCode(validating: raw)
        #expect(!code.isStandard)
        #expect(code.level1Code == nil)
        #expect(code.groupLetter == nil)
        #expect(code.standardWarning?.code == "agency_code_nonstandard")
        #expect(code.standardWarning?.en.contains(raw) == true)
    }

    @Test(arguments: ["", "   ", "\t\n"])
    func emptyIsRejected(raw: String) {
        #expect(thrownCode { try AgencyCode(validating: raw) } == "agency_code_empty")
    }

    @Test func lengthLimit() throws {
        #expect(try AgencyCode(validating: String(repeating: "A", count: 64)).value.count == 64)
        #expect(thrownCode { try AgencyCode(validating: String(repeating: "A", count: 65)) } == "agency_code_too_long")
    }

    @Test(arguments: ["000.00.00 G22", "Sở Nội vụ", "G22;DROP", "a/b", "ｇ22", "A\u{301}", "x\u{0}y", "<script>", "000,00"])
    func badCharactersAreRejected(raw: String) {
        #expect(thrownCode { try AgencyCode(validating: raw) } == "agency_code_invalid_characters")
    }

    @Test func errorsAreInvalidKind() {
        do {
            _ = try AgencyCode(validating: "?")
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .invalid)
            #expect(!error.vi.isEmpty && !error.en.isEmpty)
        }
    }

    @Test func ordering() throws {
        let codes = try ["000.00.00.H01", "000.00.00.G22", "000.00.01.G22"].map { try AgencyCode(validating: $0) }
        #expect(codes.sorted().map(\.value) == ["000.00.00.G22", "000.00.00.H01", "000.00.01.G22"])
    }

    @Test func codableAsSingleString() throws {
        let code = try AgencyCode(validating: "000.00.00.G22")
        let data = try JSONEncoder().encode([code])
        #expect(String(decoding: data, as: UTF8.self) == #"["000.00.00.G22"]"#)
        #expect(try JSONDecoder().decode([AgencyCode].self, from: data) == [code])
    }

    @Test(arguments: [#"[""]"#, #"["bad code"]"#, #"[42]"#, #"[{"value":"G22"}]"#])
    func decodingValidates(json: String) {
        #expect(throws: DecodingError.self) {
            _ = try JSONDecoder().decode([AgencyCode].self, from: Data(json.utf8))
        }
    }
}
