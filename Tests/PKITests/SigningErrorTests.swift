import Testing

@testable import PKI

@Suite("Signing errors")
struct SigningErrorTests {
    @Test func errorsCompareByCodeAndDescribeThemselvesInEnglish() {
        let wrongPIN = SigningError(.pinIncorrect, vi: "Mã PIN không đúng.", en: "The PIN was refused (CKR_PIN_INCORRECT).")
        #expect(wrongPIN == SigningError(.pinIncorrect, vi: "khác", en: "other"))
        #expect(wrongPIN != SigningError(.pinLocked, vi: "Mã PIN không đúng.", en: "The PIN was refused (CKR_PIN_INCORRECT)."))
        #expect(wrongPIN.description == "pkcs11_pin_incorrect: The PIN was refused (CKR_PIN_INCORRECT).")
    }
}
