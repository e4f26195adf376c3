import CPKCS11
import Crypto
import Foundation
import PKI
import SwiftASN1
import Testing
import X509
import _CryptoExtras

@testable import PKCS11

/// Serialized: the login counter is per module and the module is shared by the whole process.
@Suite("PKCS#11 signing on SoftHSM2", .serialized)
struct PKCS11SigningTests {
    let fixture: TokenFixture

    init() throws {
        fixture = try TokenFixture.shared.get()
    }

    private func open(
        token: String = TokenFixture.mainToken,
        label: String? = "rsa-signer",
        id: String? = nil,
        pin: PIN? = nil
    ) throws(SigningError) -> PKCS11SigningKey {
        try PKCS11SigningKey.open(
            modulePath: TokenFixture.modulePath,
            tokenLabel: token,
            keyLabel: label,
            keyID: id,
            pin: pin ?? .file(fixture.pinFile)
        )
    }

    private func loginCalls() throws -> Int {
        try PKCS11Module(path: TokenFixture.modulePath).loaded.loginCallCount
    }

    // MARK: Signing and verification

    @Test func rsaKeySignsADigestThatSwiftCryptoVerifies() throws {
        let key = try open(label: "rsa-signer")
        #expect(key.scheme == .rsaPKCS1SHA256)
        let digest = SHA256.hash(data: Data("Công văn số 12/UBND".utf8))
        let signature = try key.sign(digest: Array(digest))
        #expect(signature.count == 256)

        let publicKey = try _RSA.Signing.PublicKey(derRepresentation: key.publicKeyDER)
        let rsaSignature = _RSA.Signing.RSASignature(rawRepresentation: signature)
        #expect(publicKey.isValidSignature(rsaSignature, for: digest, padding: .insecurePKCS1v1_5))
        let otherDigest = SHA256.hash(data: Data("Công văn số 13/UBND".utf8))
        #expect(!publicKey.isValidSignature(rsaSignature, for: otherDigest, padding: .insecurePKCS1v1_5))
    }

    @Test func p256KeySignsRawRAndSThatSwiftCryptoVerifies() throws {
        let key = try open(label: "ec-signer")
        #expect(key.scheme == .ecdsaP256SHA256)
        let digest = SHA256.hash(data: Data("Quyết định số 7/QĐ".utf8))
        let signature = try key.sign(digest: Array(digest))
        #expect(signature.count == 64)

        let publicKey = try P256.Signing.PublicKey(derRepresentation: key.publicKeyDER)
        let ecdsaSignature = try P256.Signing.ECDSASignature(rawRepresentation: signature)
        #expect(publicKey.isValidSignature(ecdsaSignature, for: digest))
        #expect(!publicKey.isValidSignature(ecdsaSignature, for: SHA256.hash(data: Data("khác".utf8))))
    }

    @Test func publicKeyAndCertificateComeFromTheToken() throws {
        let rsa = try open(label: "rsa-signer")
        #expect(rsa.certificateDER == fixture.rsaCertificate)
        #expect(rsa.publicKeyDER == fixture.rsaPublicKey)
        var serializer = DER.Serializer()
        try serializer.serialize(try Certificate(derEncoded: rsa.certificateDER).publicKey)
        #expect(rsa.publicKeyDER == Array(serializer.serializedBytes))
        #expect(rsa.keyID == [0x01])

        let ec = try open(label: nil, id: "02")
        #expect(ec.scheme == .ecdsaP256SHA256)
        #expect(ec.certificateDER == fixture.ecCertificate)
        #expect(ec.publicKeyDER == fixture.ecPublicKey)
    }

    @Test func chainHoldsTheIssuerOnTheTokenAndNothingUnrelated() throws {
        let issued = try open(label: "rsa-issued")
        #expect(issued.certificateDER == fixture.issuedCertificate)
        #expect(issued.certificateChainDER == [fixture.caCertificate])
        let selfSigned = try open(label: "rsa-signer")
        #expect(selfSigned.certificateChainDER.isEmpty)
    }

    @Test func eightTasksShareOneKey() async throws {
        let key = try open(label: "ec-signer")
        let publicKey = try P256.Signing.PublicKey(derRepresentation: key.publicKeyDER)
        let results = try await withThrowingTaskGroup(of: [(String, [UInt8])].self) { group in
            for task in 0..<8 {
                group.addTask {
                    var signed: [(String, [UInt8])] = []
                    for round in 0..<5 {
                        let message = "task \(task) round \(round)"
                        signed.append((message, try key.sign(digest: Array(SHA256.hash(data: Data(message.utf8))))))
                    }
                    return signed
                }
            }
            var collected: [(String, [UInt8])] = []
            for try await batch in group {
                collected += batch
            }
            return collected
        }
        #expect(results.count == 40)
        for (message, signature) in results {
            let ecdsaSignature = try P256.Signing.ECDSASignature(rawRepresentation: signature)
            #expect(publicKey.isValidSignature(ecdsaSignature, for: SHA256.hash(data: Data(message.utf8))))
        }
    }

    @Test func lostSessionIsReopenedWithOneLogin() throws {
        let key = try open(label: "rsa-signer")
        let module = try PKCS11Module(path: TokenFixture.modulePath)
        let slot = try #require(module.tokens().first { $0.label == TokenFixture.mainToken }).slotID
        // Closing every session also logs the application out, as a pulled card would.
        let closeAll = try #require(module.loaded.functions.pointee.C_CloseAllSessions)
        #expect(closeAll(CK_SLOT_ID(slot)) == CKR_OK)

        let before = try loginCalls()
        let digest = SHA256.hash(data: Data("sau khi rút thẻ".utf8))
        let signature = try key.sign(digest: Array(digest))
        #expect(try loginCalls() - before == 1)
        let publicKey = try _RSA.Signing.PublicKey(derRepresentation: key.publicKeyDER)
        #expect(
            publicKey.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: digest, padding: .insecurePKCS1v1_5)
        )
    }

    // MARK: PIN

    @Test func wrongPINIsTriedOnceAndDoesNotLockTheToken() throws {
        let wrongPINFile = fixture.directory.appendingPathComponent("wrong-pin.txt").path
        try Data("000000\n".utf8).write(to: URL(fileURLWithPath: wrongPINFile))
        let before = try loginCalls()
        let error = #expect(throws: SigningError.self) {
            try open(token: TokenFixture.pinToken, label: "ec-signer", pin: .file(wrongPINFile))
        }
        #expect(error?.code == .pinIncorrect)
        #expect(try loginCalls() - before == 1)
        #expect(error.map { !$0.en.contains("000000") && !$0.vi.contains("000000") } == true)

        let token = try #require(
            try PKCS11Module(path: TokenFixture.modulePath).tokens().first { $0.label == TokenFixture.pinToken })
        #expect(token.userPINCountLow)  // the token saw the failed attempt
        #expect(!token.userPINFinalTry)
        #expect(!token.userPINLocked)

        let key = try open(token: TokenFixture.pinToken, label: "ec-signer", pin: .environment(TokenFixture.pinVariable))
        #expect(try key.sign(digest: Array(SHA256.hash(data: Data("lần sau".utf8)))).count == 64)
    }

    @Test func unsetPINVariableIsPINMissing() throws {
        let name = "GOVOFFICE_TEST_PKCS11_PIN_UNSET_\(UUID().uuidString.prefix(8))"
        let error = #expect(throws: SigningError.self) {
            try open(label: "rsa-signer", pin: .environment(name))
        }
        #expect(error?.code == .pinMissing)
        #expect(error?.en.contains(name) == true)
    }

    @Test func pinFileLosesOneTrailingNewlineOnly() throws {
        let path = fixture.directory.appendingPathComponent("crlf-pin.txt").path
        try Data("12 34\r\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(try PIN.file(path).secret().bytes == Array("12 34".utf8))
        let empty = fixture.directory.appendingPathComponent("empty-pin.txt").path
        try Data("\n".utf8).write(to: URL(fileURLWithPath: empty))
        #expect(throws: SigningError(.pinMissing, vi: "", en: "")) { try PIN.file(empty).secret() }
        #expect(throws: SigningError(.pinMissing, vi: "", en: "")) { try PIN.file(path + ".absent").secret() }
        #expect(PIN.file(path).description == "file \(path)")
    }

    // MARK: Lookup failures

    @Test func unknownTokenListsTheLabelsPresent() throws {
        let error = #expect(throws: SigningError.self) { try open(token: "no-such-token") }
        #expect(error?.code == .tokenNotFound)
        #expect(error?.en.contains("\"\(TokenFixture.mainToken)\"") == true)
        #expect(error?.en.contains("\"\(TokenFixture.pinToken)\"") == true)
    }

    @Test func unknownKeyLabelOrIdIsObjectNotFound() throws {
        let byLabel = #expect(throws: SigningError.self) { try open(label: "no-such-key") }
        #expect(byLabel?.code == .objectNotFound)
        let byID = #expect(throws: SigningError.self) { try open(label: nil, id: "7f") }
        #expect(byID?.code == .objectNotFound)
        let badHex = #expect(throws: SigningError.self) { try open(label: nil, id: "zz") }
        #expect(badHex?.code == .objectNotFound)
        // The CA certificate has no private key next to it.
        let certificateOnly = #expect(throws: SigningError.self) { try open(label: "test-ca") }
        #expect(certificateOnly?.code == .objectNotFound)
    }

    @Test func badModulePathIsModuleUnavailableWithTheLoaderMessage() throws {
        let missing = "/nonexistent/govoffice/libpkcs11.so"
        let error = #expect(throws: SigningError.self) {
            try PKCS11SigningKey.open(modulePath: missing, tokenLabel: "x", keyLabel: "y", pin: .file(fixture.pinFile))
        }
        #expect(error?.code == .moduleUnavailable)
        #expect(error?.en.contains("No such file") == true)

        // A real library that is not a PKCS#11 module.
        let notPKCS11 = try #require(
            ["/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/aarch64-linux-gnu/libz.so.1"]
                .first { FileManager.default.fileExists(atPath: $0) },
            "zlib (a non-PKCS#11 library to load) not found"
        )
        let wrongKind = #expect(throws: SigningError.self) { try PKCS11Module(path: notPKCS11) }
        #expect(wrongKind?.code == .moduleUnavailable)
        #expect(wrongKind?.en.contains("C_GetFunctionList") == true)
    }

    @Test func openSCModuleLoadsAndNamesTheMissingToken() throws {
        let openSC = try #require(
            ["/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so", "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so"]
                .first { FileManager.default.fileExists(atPath: $0) },
            "OpenSC's module is missing: install opensc"
        )
        let error = #expect(throws: SigningError.self) {
            try PKCS11SigningKey.open(
                modulePath: openSC, tokenLabel: "GovOffice no such card", keyLabel: "signer", pin: .file(fixture.pinFile))
        }
        #expect(error?.code == .tokenNotFound)
        #expect(error?.en.contains("GovOffice no such card") == true)
    }

    @Test func onePathGivesOneLoadedModule() throws {
        let first = try PKCS11Module(path: TokenFixture.modulePath)
        let second = try PKCS11Module(path: TokenFixture.modulePath)
        #expect(first.loaded === second.loaded)
        #expect(try first.tokens().map(\.label).sorted() == [TokenFixture.pinToken, TokenFixture.mainToken].sorted())
    }

    @Test func digestOfTheWrongSizeIsRefused() throws {
        let key = try open(label: "rsa-signer")
        #expect(throws: SigningError(.signingFailed, vi: "", en: "")) { try key.sign(digest: [UInt8](repeating: 1, count: 20)) }
    }
}
