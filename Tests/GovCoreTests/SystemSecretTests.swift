import Foundation
import GovCore
import Testing

@Suite struct SystemSecretTests {
    @Test func generatedShape() {
        let secret = SystemSecret.generate()
        #expect(secret.hasPrefix("gos_"))
        let body = secret.dropFirst(4)
        #expect(body.count == 43)
        #expect(body.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
        })
    }

    @Test func generatedSecretsDiffer() {
        let secrets = Set((0..<100).map { _ in SystemSecret.generate() })
        #expect(secrets.count == 100)
    }

    @Test func knownHash() {
        #expect(SystemSecret.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SystemSecret.hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func matches() {
        let secret = SystemSecret.generate()
        let stored = SystemSecret.hash(secret)
        #expect(SystemSecret.matches(secret, storedHash: stored))
        #expect(SystemSecret.matches(secret, storedHash: stored.uppercased()))
        #expect(!SystemSecret.matches(secret + "x", storedHash: stored))
        #expect(!SystemSecret.matches(SystemSecret.generate(), storedHash: stored))
    }

    @Test(arguments: ["", "abc", String(repeating: "g", count: 64), String(repeating: "0", count: 63), String(repeating: "0", count: 66)])
    func malformedStoredHashNeverMatches(stored: String) {
        #expect(!SystemSecret.matches("abc", storedHash: stored))
    }

    @Test func truncatedHashDoesNotMatch() {
        let stored = SystemSecret.hash("abc")
        #expect(!SystemSecret.matches("abc", storedHash: String(stored.dropLast(2))))
    }

    @Test(arguments: [("  edoc.ha-noi_01 ", "edoc.ha-noi_01"), ("ABC", "ABC")])
    func validSystemIDs(raw: String, expected: String) throws {
        #expect(try SystemSecret.validateSystemID(raw) == expected)
    }

    @Test(arguments: ["", "ab", " ab ", String(repeating: "a", count: 65), "hệ-thống", "a b c", "abc!", "abc/..", "abc\n1"])
    func invalidSystemIDs(raw: String) {
        #expect(thrownCode { try SystemSecret.validateSystemID(raw) } == "system_id_invalid")
    }
}
