import Foundation
import PKI
import Testing
import X509

/// Runs command-line tools the tests need (openssl). A missing tool fails the test with a clear
/// message; it never skips.
enum Tool {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    @discardableResult
    static func run(_ arguments: [String], in directory: URL? = nil, input: Data? = nil) throws -> (status: Int32, output: Data, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inPipe
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot start \(arguments.first ?? "?"): \(error) — install it (scripts install openssl)")
        }
        if let input { inPipe.fileHandleForWriting.write(input) }
        try? inPipe.fileHandleForWriting.close()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus == 127 {
            throw Failure(description: "\(arguments.first ?? "?") is not installed: the PKI tests need it (apt-get install openssl)")
        }
        return (process.terminationStatus, output, errorText)
    }

    /// Runs openssl and fails when it exits non-zero.
    @discardableResult
    static func openssl(_ arguments: [String], in directory: URL) throws -> Data {
        let result = try run(["openssl"] + arguments, in: directory)
        guard result.status == 0 else {
            throw Failure(description: "openssl \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.error)")
        }
        return result.output
    }
}

/// A temporary directory removed when the value is released.
final class TempDir: @unchecked Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("pki-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func write(_ name: String, _ text: String) throws { try Data(text.utf8).write(to: url.appendingPathComponent(name)) }
    func write(_ name: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: url.appendingPathComponent(name)) }
    func read(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: url.appendingPathComponent(name))) }
    func text(_ name: String) throws -> String { String(decoding: try read(name), as: UTF8.self) }
}

/// A CA run by `openssl ca` in a temp dir: issues P-256 leaves (fast), revokes, makes CRLs and
/// answers OCSP requests with `openssl ocsp` (the real responder code).
final class OpenSSLCA: @unchecked Sendable {
    let dir: TempDir
    let name: String
    let certificate: Certificate
    static let ocspURI = "http://ocsp.test.invalid/"

    init(name: String = "Test CA") throws {
        dir = try TempDir()
        self.name = name
        try dir.write("index.txt", "")
        try dir.write("serial", "1000\n")
        try dir.write("crlnumber", "01\n")
        try dir.write("ca.cnf", """
        [ ca ]
        default_ca = testca
        [ testca ]
        dir = .
        database = ./index.txt
        new_certs_dir = .
        serial = ./serial
        crlnumber = ./crlnumber
        certificate = ./ca.pem
        private_key = ./ca.key
        default_md = sha256
        default_days = 365
        default_crl_days = 7
        policy = anything
        unique_subject = no
        copy_extensions = none
        [ anything ]
        commonName = supplied
        organizationName = optional
        [ leaf ]
        basicConstraints = critical,CA:FALSE
        keyUsage = critical,digitalSignature,nonRepudiation
        extendedKeyUsage = emailProtection,clientAuth
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid
        [ leaf_ocsp ]
        basicConstraints = critical,CA:FALSE
        keyUsage = critical,digitalSignature,nonRepudiation
        extendedKeyUsage = emailProtection
        authorityInfoAccess = OCSP;URI:\(Self.ocspURI)
        [ leaf_encipher ]
        basicConstraints = critical,CA:FALSE
        keyUsage = critical,keyEncipherment
        [ crl_ext ]
        authorityKeyIdentifier = keyid
        """)
        try Tool.openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
                          "-days", "3650", "-subj", "/O=Test Org/CN=\(name)",
                          "-addext", "basicConstraints=critical,CA:TRUE",
                          "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                          "-addext", "subjectKeyIdentifier=hash"], in: dir.url)
        certificate = try CertificateReader.certificates(pem: dir.text("ca.pem"))[0]
    }

    /// Issues a P-256 leaf; returns (certificate, key PEM, file stem).
    func issue(_ commonName: String, extensions: String = "leaf", startDate: String? = nil, endDate: String? = nil) throws -> (Certificate, String, String) {
        let stem = "leaf-\(UUID().uuidString.prefix(8))"
        try Tool.openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                          "-keyout", "\(stem).key", "-out", "\(stem).csr", "-subj", "/CN=\(commonName)"], in: dir.url)
        var args = ["ca", "-batch", "-config", "ca.cnf", "-extensions", extensions, "-in", "\(stem).csr", "-out", "\(stem).pem", "-notext"]
        if let startDate { args += ["-startdate", startDate] }
        if let endDate { args += ["-enddate", endDate] }
        try Tool.openssl(args, in: dir.url)
        let certificate = try CertificateReader.certificates(pem: dir.text("\(stem).pem"))[0]
        return (certificate, try dir.text("\(stem).key"), stem)
    }

    func revoke(_ stem: String, reason: String = "keyCompromise") throws {
        try Tool.openssl(["ca", "-config", "ca.cnf", "-revoke", "\(stem).pem", "-crl_reason", reason], in: dir.url)
    }

    /// A CRL in PEM (or DER).
    func crl(der: Bool = false) throws -> [UInt8] {
        try Tool.openssl(["ca", "-config", "ca.cnf", "-gencrl", "-crlexts", "crl_ext", "-out", "crl.pem"], in: dir.url)
        if der {
            try Tool.openssl(["crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der"], in: dir.url)
            return try dir.read("crl.der")
        }
        return try dir.read("crl.pem")
    }

    /// Answers an OCSP request with `openssl ocsp` as the responder (signed by the CA).
    func respond(to request: [UInt8]) throws -> [UInt8] {
        let stem = "ocsp-\(UUID().uuidString.prefix(8))"
        try dir.write("\(stem).req", request)
        try Tool.openssl(["ocsp", "-index", "index.txt", "-rsigner", "ca.pem", "-rkey", "ca.key", "-CA", "ca.pem",
                          "-reqin", "\(stem).req", "-respout", "\(stem).resp", "-ndays", "1"], in: dir.url)
        return try dir.read("\(stem).resp")
    }

    var trustStore: TrustStore { TrustStore([certificate]) }
}

/// An in-process OCSP "network": answers with the test CA's openssl responder, or fails.
struct TestOCSPClient: OCSPClient {
    let ca: OpenSSLCA?
    let counter = Counter()

    func fetch(request: [UInt8], uri: String) async -> OCSPFetchResult {
        counter.increment()
        guard let ca else { return .unavailable("connection refused (test)") }
        do {
            return .response(try ca.respond(to: request))
        } catch {
            return .unavailable("\(error)")
        }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

/// A SigningKey that is not a SoftwareSigningKey (stands for a token key) and counts signatures.
struct CountingKey: SigningKey {
    let inner: SoftwareSigningKey
    let counter = Counter()
    var scheme: SignatureScheme { inner.scheme }
    var publicKeyDER: [UInt8] { inner.publicKeyDER }
    func sign(digest: [UInt8]) throws(SigningError) -> [UInt8] {
        counter.increment()
        return try inner.sign(digest: digest)
    }
}

/// A demo PKI shared by the tests (one RSA root, one shared person key).
let sharedDemo: DemoPKI = {
    do { return try DemoPKI(keyKind: .p256) } catch { fatalError("demo PKI: \(error)") }
}()
