import ExchangeClient
import Foundation
import Testing

@Suite struct ExchangeClientErrorTests {
    @Test func decodesHubErrorBody() {
        let body = Data("""
        {"error": {"code": "recipient_unknown", "message": "Không có cơ quan 000.00.00.X99",
                   "message_vi": "Không có cơ quan 000.00.00.X99", "message_en": "No agency 000.00.00.X99"}}
        """.utf8)
        let error = ExchangeClientError(status: 422, body: body)
        #expect(error.code == "recipient_unknown")
        #expect(error.status == 422)
        #expect(error.vi == "Không có cơ quan 000.00.00.X99")
        #expect(error.en == "No agency 000.00.00.X99")
        #expect(!error.isRetryable)
        #expect(error.description == "recipient_unknown (HTTP 422): No agency 000.00.00.X99")
    }

    @Test func lastResortBodyWithoutLocalisedMessages() {
        let error = ExchangeClientError(status: 500, body: Data(#"{"error":{"code":"internal_error","message":"internal error"}}"#.utf8))
        #expect(error.code == "internal_error")
        #expect(error.vi == "internal error")
        #expect(error.en == "internal error")
        #expect(error.isRetryable)
    }

    @Test func foreignBodyIsUnexpectedResponse() {
        let page = Data("<html><body>502 Bad Gateway</body></html>".utf8)
        let error = ExchangeClientError(status: 502, body: page)
        #expect(error.code == "unexpected_response")
        #expect(error.status == 502)
        #expect(error.en.contains("502 Bad Gateway"))
        #expect(error.vi.contains("HTTP 502"))
        #expect(error.isRetryable)

        let empty = ExchangeClientError(status: 404, body: Data())
        #expect(empty.code == "unexpected_response")
        #expect(!empty.isRetryable)

        let long = ExchangeClientError(status: 400, body: Data(String(repeating: "x", count: 5000).utf8))
        #expect(long.en.count < 400)

        let wrongShape = ExchangeClientError(status: 400, body: Data(#"{"error": "bad"}"#.utf8))
        #expect(wrongShape.code == "unexpected_response")

        let invalidUTF8 = ExchangeClientError(status: 400, body: Data([0xff, 0xfe, 0x00, 0x41]))
        #expect(invalidUTF8.code == "unexpected_response")
    }

    @Test(arguments: [
        (nil, "transport_failed", true), (nil, "cancelled", false), (nil, "file_unreadable", false),
        (nil, "request_invalid", false), (500, "internal_error", true), (502, "unexpected_response", true),
        (503, "unavailable", true), (429, "too_many_requests", true), (400, "edxml_invalid", false),
        (401, "system_credentials_invalid", false), (403, "agency_locked", false), (404, "message_not_found", false),
        (409, "document_conflict", false), (410, "message_purged", false), (200, "response_invalid", false),
        (200, "integrity_mismatch", false),
    ] as [(Int?, String, Bool)])
    func retryable(status: Int?, code: String, expected: Bool) {
        #expect(ExchangeClientError(code: code, status: status, vi: "", en: "").isRetryable == expected)
    }
}

@Suite struct HubCredentialsTests {
    @Test func fromEnvironment() {
        let env = ["GOVOFFICE_SYSTEM_ID": " qlvb-ubnd ", "GOVOFFICE_SECRET_KEY": "s3cret\n",
                   "GOVOFFICE_HUB_URL": "https://hub.example.gov.vn/govoffice/"]
        #expect(HubCredentials.fromEnvironment(env) == HubCredentials(systemID: "qlvb-ubnd", secret: "s3cret"))
        #expect(HubCredentials.hubURL(fromEnvironment: env)?.absoluteString == "https://hub.example.gov.vn/govoffice/")
        #expect(ExchangeClient.fromEnvironment(env) != nil)
    }

    @Test func missingOrEmptyValues() {
        #expect(HubCredentials.fromEnvironment([:]) == nil)
        #expect(HubCredentials.fromEnvironment(["GOVOFFICE_SYSTEM_ID": "a"]) == nil)
        #expect(HubCredentials.fromEnvironment(["GOVOFFICE_SECRET_KEY": "b"]) == nil)
        #expect(HubCredentials.fromEnvironment(["GOVOFFICE_SYSTEM_ID": "a", "GOVOFFICE_SECRET_KEY": "  "]) == nil)
        #expect(ExchangeClient.fromEnvironment(["GOVOFFICE_SYSTEM_ID": "a", "GOVOFFICE_SECRET_KEY": "b"]) == nil)
    }

    @Test(arguments: ["", "hub.example.gov.vn", "ftp://hub.example.gov.vn", "file:///etc/passwd", "https://", "not a url"])
    func badHubURL(raw: String) {
        #expect(HubCredentials.hubURL(fromEnvironment: ["GOVOFFICE_HUB_URL": raw]) == nil)
    }

    @Test func secretNeverPrinted() {
        let credentials = HubCredentials(systemID: "qlvb", secret: "top-secret-value")
        #expect(!"\(credentials)".contains("top-secret-value"))
        #expect(!String(reflecting: credentials).contains("top-secret-value"))
        var dumped = ""
        dump(credentials, to: &dumped)
        #expect(!dumped.contains("top-secret-value"))
        #expect(dumped.contains("qlvb"))
    }
}
