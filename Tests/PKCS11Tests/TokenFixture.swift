import Foundation

/// A SoftHSM2 token directory made once per test process with openssl and
/// scripts/lib/softhsm.sh. SoftHSM reads `SOFTHSM2_CONF` when the module is first initialised,
/// and a module is initialised once per process, so every test shares these tokens.
///
/// Token `govoffice-test` (PIN 123456): `rsa-signer` (RSA 2048, self-signed, id 01),
/// `ec-signer` (P-256, self-signed, id 02), `rsa-issued` (RSA 2048 issued by the test CA, id 03)
/// and the CA certificate alone (`test-ca`, id 0a).
/// Token `govoffice-pin` (PIN 123456): `ec-signer` only; the wrong-PIN test uses it so that no
/// other test's login on the same token makes a wrong PIN look accepted.
struct TokenFixture: Sendable {
    static let modulePath = "/usr/lib/softhsm/libsofthsm2.so"
    static let mainToken = "govoffice-test"
    static let pinToken = "govoffice-pin"
    static let pin = "123456"
    static let pinVariable = "GOVOFFICE_TEST_PKCS11_PIN"

    let directory: URL
    let pinFile: String
    /// DER certificates as openssl wrote them.
    let rsaCertificate: [UInt8]
    let ecCertificate: [UInt8]
    let issuedCertificate: [UInt8]
    let caCertificate: [UInt8]
    /// DER SubjectPublicKeyInfo of each key, as openssl derives it from the private key.
    let rsaPublicKey: [UInt8]
    let ecPublicKey: [UInt8]

    static let shared: Result<TokenFixture, FixtureError> = Result { () throws(FixtureError) in try make() }

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
    }

    private static func make() throws(FixtureError) -> TokenFixture {
        guard FileManager.default.fileExists(atPath: modulePath) else {
            throw FixtureError(description: "SoftHSM2 module missing at \(modulePath): install the softhsm2 package (scripts/test does)")
        }
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("govoffice-pkcs11-\(UUID().uuidString)", isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw FixtureError(description: "cannot create \(directory.path): \(error)")
        }
        let dir = directory.path
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

        let days = ["-days", "2"]
        try run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("rsa.key"),
                 "-out", path("rsa.crt"), "-subj", "/CN=GovOffice RSA signer"] + days)
        try run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", path("ec.key"), "-out", path("ec.crt"), "-subj", "/CN=GovOffice EC signer"] + days)
        try run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("ca.key"),
                 "-out", path("ca.crt"), "-subj", "/CN=GovOffice Test CA",
                 "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"] + days)
        try run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", path("issued.key"),
                 "-out", path("issued.csr"), "-subj", "/CN=GovOffice issued signer"])
        try run(["openssl", "x509", "-req", "-in", path("issued.csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"),
                 "-set_serial", "2", "-out", path("issued.crt")] + days)

        let script = repositoryRoot.appendingPathComponent("scripts/lib/softhsm.sh").path
        try run(["bash", script, "token", dir + "/hsm", mainToken, "87654321", pin,
                 path("rsa.key"), path("rsa.crt"), "rsa-signer", "01",
                 path("ec.key"), path("ec.crt"), "ec-signer", "02",
                 path("issued.key"), path("issued.crt"), "rsa-issued", "03"])
        try run(["bash", script, "cert", dir + "/hsm", mainToken, pin, path("ca.crt"), "test-ca", "0a"])
        try run(["bash", script, "token", dir + "/hsm", pinToken, "87654321", pin,
                 path("ec.key"), path("ec.crt"), "ec-signer", "02"])

        let pinFile = path("pin.txt")
        guard FileManager.default.createFile(atPath: pinFile, contents: Data((pin + "\n").utf8)) else {
            throw FixtureError(description: "cannot write \(pinFile)")
        }
        setenv("SOFTHSM2_CONF", dir + "/hsm/softhsm2.conf", 1)
        setenv(pinVariable, pin, 1)

        func der(_ name: String, _ command: [String]) throws(FixtureError) -> [UInt8] {
            try run(command + ["-outform", "DER", "-out", path(name)])
            guard let data = FileManager.default.contents(atPath: path(name)) else {
                throw FixtureError(description: "cannot read \(path(name))")
            }
            return [UInt8](data)
        }
        return TokenFixture(
            directory: directory,
            pinFile: pinFile,
            rsaCertificate: try der("rsa.der", ["openssl", "x509", "-in", path("rsa.crt")]),
            ecCertificate: try der("ec.der", ["openssl", "x509", "-in", path("ec.crt")]),
            issuedCertificate: try der("issued.der", ["openssl", "x509", "-in", path("issued.crt")]),
            caCertificate: try der("ca.der", ["openssl", "x509", "-in", path("ca.crt")]),
            rsaPublicKey: try der("rsa.pub", ["openssl", "pkey", "-in", path("rsa.key"), "-pubout"]),
            ecPublicKey: try der("ec.pub", ["openssl", "pkey", "-in", path("ec.key"), "-pubout"])
        )
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Runs a tool found on PATH; a missing tool or a failure throws with the tool's output.
    @discardableResult
    static func run(_ arguments: [String]) throws(FixtureError) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw FixtureError(description: "cannot run \(arguments[0]): \(error)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw FixtureError(
                description: "\(arguments.prefix(3).joined(separator: " ")) … failed (exit \(process.terminationStatus)); "
                    + "openssl, softhsm2-util (softhsm2) and pkcs11-tool (opensc) are required: \(text)"
            )
        }
        return text
    }
}
