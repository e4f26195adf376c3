import Foundation
import GovCore
import Testing

@Suite struct GovErrorTests {
    @Test func equalityIgnoresMessages() {
        let a = GovError("x_code", .invalid, vi: "Một", en: "One")
        let b = GovError("x_code", .invalid, vi: "Hai", en: "Two")
        #expect(a == b)
    }

    @Test func equalityNeedsSameCodeAndKind() {
        let a = GovError("x_code", .invalid, vi: "v", en: "e")
        #expect(a != GovError("y_code", .invalid, vi: "v", en: "e"))
        #expect(a != GovError("x_code", .conflict, vi: "v", en: "e"))
    }

    @Test func messagePicksLanguage() {
        let error = GovError("x", .forbidden, vi: "Không được phép", en: "Forbidden")
        #expect(error.message(in: .vi) == "Không được phép")
        #expect(error.message(in: .en) == "Forbidden")
    }

    @Test func descriptionNamesCodeAndKind() {
        let error = GovError("agency_code_invalid", .invalid, vi: "v", en: "Bad code")
        #expect(error.description.contains("agency_code_invalid"))
        #expect(error.description.contains("invalid"))
        #expect(error.description.contains("Bad code"))
    }

    @Test func kindsMapToDistinctStatuses() {
        let statuses = GovError.Kind.allCases.map(\.httpStatus)
        #expect(Set(statuses).count == GovError.Kind.allCases.count)
        #expect(GovError.Kind.tooManyRequests.httpStatus == 429)
        #expect(GovError.Kind.notFound.httpStatus == 404)
    }

    @Test func warningRoundTripsThroughJSON() throws {
        let warning = GovWarning("agency_code_nonstandard", vi: "Mã không chuẩn", en: "Non-standard")
        let data = try JSONEncoder().encode(warning)
        let decoded = try JSONDecoder().decode(GovWarning.self, from: data)
        #expect(decoded == warning)
        #expect(decoded.message(in: .vi) == "Mã không chuẩn")
    }

    @Test func versionIsSemantic() {
        #expect(GovCore.version.split(separator: ".").count == 3)
    }
}
