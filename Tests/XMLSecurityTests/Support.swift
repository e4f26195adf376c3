import Crypto
import Foundation
import PKI
import SwiftASN1
import Testing
import X509
import _CryptoExtras

@testable import XMLSecurity

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/edxml")

func fixtureNames() -> [String] {
    ["edoc_new_0.edxml", "status_acceptance_03.edxml", "status_finish_06.edxml", "status_inbox_01.edxml"]
}

func fixture(_ name: String) throws -> Data {
    try Data(contentsOf: fixtures.appendingPathComponent(name))
}

/// A key that fails every signature with `error`, presenting another key's scheme and public
/// key: it proves that a token's error (a wrong PIN) reaches the caller unchanged.
struct FailingKey: SigningKey {
    let error: SigningError
    let scheme: SignatureScheme
    let publicKeyDER: [UInt8]

    func sign(digest: [UInt8]) throws(SigningError) -> [UInt8] {
        throw error
    }
}

/// A signer: its key, certificate and the files the command-line tools need.
struct TestIdentity: Sendable {
    let key: SoftwareSigningKey
    let certificateDER: [UInt8]
    let certificatePEM: String
    let privateKeyPEM: String
}

/// A throw-away PKI made once per test process: an RSA 2048 CA and three leaf signers.
struct TestPKI: Sendable {
    let caDER: [UInt8]
    let caPEM: String
    let rsa2048: TestIdentity
    let rsa3072: TestIdentity
    let p256: TestIdentity
    /// A second RSA 2048 signer (for key/certificate mismatch).
    let other: TestIdentity

    static let shared: TestPKI = {
        do {
            return try make()
        } catch {
            fatalError("test PKI: \(error)")
        }
    }()

    private static func make() throws -> TestPKI {
        let caKey = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let caName = try DistinguishedName {
            CountryName("VN")
            OrganizationName("GovOffice Test")
            CommonName("GovOffice Test CA")
        }
        let now = Date()
        let ca = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 86400 * 365, issuer: caName, subject: caName,
            signatureAlgorithm: .sha256WithRSAEncryption,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: Certificate.PublicKey(caKey.publicKey))
            },
            issuerPrivateKey: .init(caKey)
        )
        func leaf(_ name: String, _ publicKey: Certificate.PublicKey) throws -> Certificate {
            try Certificate(
                version: .v3, serialNumber: .init(), publicKey: publicKey,
                notValidBefore: now - 3600, notValidAfter: now + 86400 * 365, issuer: caName,
                subject: try DistinguishedName {
                    CountryName("VN")
                    OrganizationName("UBND Tỉnh Nghệ An")
                    CommonName(name)
                },
                signatureAlgorithm: .sha256WithRSAEncryption,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true, nonRepudiation: true))
                    AuthorityKeyIdentifier(keyIdentifier: try ca.extensions.subjectKeyIdentifier?.keyIdentifier)
                },
                issuerPrivateKey: .init(caKey)
            )
        }
        func rsa(_ name: String, _ size: _RSA.Signing.KeySize) throws -> TestIdentity {
            let key = try _RSA.Signing.PrivateKey(keySize: size)
            let certificate = try leaf(name, .init(key.publicKey))
            return try identity(try SoftwareSigningKey(pem: key.pemRepresentation), certificate, key.pemRepresentation)
        }
        let ecKey = P256.Signing.PrivateKey()
        let ecCertificate = try leaf("Văn thư P-256", .init(ecKey.publicKey))
        return TestPKI(
            caDER: try der(ca), caPEM: try ca.serializeAsPEM().pemString,
            rsa2048: try rsa("Văn thư RSA 2048", .bits2048),
            rsa3072: try rsa("Văn thư RSA 3072", .bits3072),
            p256: try identity(try SoftwareSigningKey(pem: ecKey.pemRepresentation), ecCertificate, ecKey.pemRepresentation),
            other: try rsa("Người khác", .bits2048)
        )
    }

    private static func der(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }

    private static func identity(_ key: SoftwareSigningKey, _ certificate: Certificate, _ keyPEM: String) throws -> TestIdentity {
        TestIdentity(
            key: key, certificateDER: try der(certificate), certificatePEM: try certificate.serializeAsPEM().pemString,
            privateKeyPEM: keyPEM
        )
    }
}

/// A fresh temporary directory, removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("xmlsec-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

struct ToolResult {
    let status: Int32
    let output: String
}

/// Runs a command-line tool found on PATH. A missing tool fails the test (the project's test
/// script installs xmlsec1, python3 with signxml and openssl).
func runTool(_ name: String, _ arguments: [String], input: Data? = nil) throws -> ToolResult {
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        .map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    let executable = try #require(path, "\(name) is not installed: the XMLSecurity interoperability tests need it")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    let inputPipe = Pipe()
    process.standardInput = inputPipe
    try process.run()
    if let input {
        inputPipe.fileHandleForWriting.write(input)
    }
    try inputPipe.fileHandleForWriting.close()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ToolResult(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self))
}

/// The error `body` throws, or nil.
func signatureError<T>(_ body: () throws(XMLSignatureError) -> T) -> XMLSignatureError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

extension Data {
    var text: String { String(decoding: self, as: UTF8.self) }
}

func data(_ text: String) -> Data { Data(text.utf8) }

/// Replaces the first occurrence of `target` (which must exist) in `text`.
func replacingFirst(_ target: String, with replacement: String, in text: String) throws -> String {
    let range = try #require(text.range(of: target), "\(target) not found")
    return text.replacingCharacters(in: range, with: replacement)
}
