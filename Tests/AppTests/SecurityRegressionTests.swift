import Foundation
import GovCore
import Testing
import VaporTesting

@testable import App

/// Server bugs found by the black-box security suite (tests/security), each pinned here.
@Suite("Security regressions (from tests/security)")
struct SecurityRegressionTests {
    struct ErrorEnvelope: Decodable {
        struct Detail: Decodable { var code: String; var message: String }
        var error: Detail
    }

    /// The agencies CSV import answered a text/plain or JSON body with 400 "invalid value in
    /// field: " (the decoder's message with an empty path); a body that is not a file upload is an
    /// unsupported media type: 415 with the project's error body, and nothing imported.
    @Test func csvImportRefusesABodyThatIsNotAFileUploadWith415() async throws {
        try await withTestApp { app in
            let admin = TestBrowser(app)
            try await admin.login("admin")
            let token = try await admin.token()
            let before = try await Agency.query(on: app.db).count()
            let bodies: [(HTTPMediaType, String)] = [
                (.plainText, "code,name\n000.00.00.Z99,Thử\n"),
                (.json, #"{"file": "code,name\n000.00.00.Z99,Thử\n"}"#),
                (.urlEncodedForm, "file=code%2Cname"),
                (.xml, "<file/>"),
            ]
            for (type, text) in bodies {
                let response = try await admin.request(
                    .POST, "/admin/agencies/import", headers: ["X-CSRF-Token": token, "Accept": "application/json"],
                    body: ByteBuffer(string: text), contentType: type)
                #expect(response.status == .unsupportedMediaType, "\(type)")
                let body = try JSONDecoder().decode(ErrorEnvelope.self, from: Data(buffer: response.body))
                #expect(body.error.code == "unsupported_media_type", "\(type)")
            }
            #expect(try await Agency.query(on: app.db).count() == before)
            // Authorization still comes first: a clerk gets 403, not 415.
            let clerk = TestBrowser(app)
            try await clerk.login("g22.vanthu")
            let clerkToken = try await clerk.token()
            let refused = try await clerk.request(
                .POST, "/admin/agencies/import", headers: ["X-CSRF-Token": clerkToken, "Accept": "application/json"],
                body: ByteBuffer(string: "x"), contentType: .plainText)
            #expect(refused.status == .forbidden)
        }
    }

    /// Every form answered a text/plain body with 400 "invalid value in field: " (Vapor's
    /// plain-text decoder only makes a bare String); any other foreign type was already 415.
    /// A text/plain body is now 415 `unsupported_media_type` everywhere, and changes nothing.
    @Test func formsRefuseATextPlainBodyWith415() async throws {
        try await withTestApp { app in
            let admin = TestBrowser(app)
            try await admin.login("admin")
            let token = try await admin.token()
            let auditBefore = try await AuditRecord.query(on: app.db).count()
            for path in ["/admin/pki/trust", "/admin/pki/crl", "/admin/pki/bind", "/admin/users", "/admin/systems",
                         "/admin/agencies/000.00.00.G22/state", "/login"] {
                let response = try await admin.request(
                    .POST, path, headers: ["X-CSRF-Token": token, "Accept": "application/json"],
                    body: ByteBuffer(string: "pem=x&username=x"), contentType: .plainText)
                #expect(response.status == .unsupportedMediaType, "\(path)")
                let body = try JSONDecoder().decode(ErrorEnvelope.self, from: Data(buffer: response.body))
                #expect(body.error.code == "unsupported_media_type", "\(path)")
            }
            #expect(try await AuditRecord.query(on: app.db).count() == auditBefore)
            // A form as a form still works.
            #expect(try await admin.post("/admin/agencies/000.00.00.G22/state", [("state", "active")]).status == .seeOther)
        }
    }
}
