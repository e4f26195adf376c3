import BenchSupport
import EdXML
import Foundation
import GovCore
import PKCS11
import PKI
import XMLSecurity

// XML-signature benchmark (prints, never asserts). Modes:
//   SignBench make DIR
//       writes a demo CA and signer (RSA 2048) as ca.pem, signer.pem, signer.key (PKCS#1 PEM),
//       the unsigned documents doc-10k.edxml and doc-1m.edxml, their copies signed with the
//       software key (*.signed.edxml), and trivial.xml / trivial.signed.xml (xmlsec1's fixed costs)
//   SignBench run DIR [--pkcs11 MODULE --token LABEL --key LABEL]
//       signs/s and verifies/s of both documents with the software key and, with the token
//       arguments, with the key on that PKCS#11 token (PIN from GOVOFFICE_PKCS11_PIN), as TSV
//       rows `measure  value  unit  target`

/// What stops a run: a message for the person at the terminal.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

let documents = [("doc-10k", "10 KB document"), ("doc-1m", "document + 1 MB attachment")]

func url(_ directory: String, _ name: String) -> URL {
    URL(fileURLWithPath: directory).appendingPathComponent(name)
}

func read(_ directory: String, _ name: String) throws -> Data {
    do {
        return try Data(contentsOf: url(directory, name))
    } catch {
        throw BenchError("cannot read \(url(directory, name).path) (run `SignBench make \(directory)` first): \(error)")
    }
}

func make(_ directory: String) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let pki = try DemoPKI(keyKind: .rsa(bits: 2048))
    let signer = try pki.issueAgency(code: "000.00.00.G22", name: "Văn phòng Chính phủ")
    try pki.root.certificatePEM.write(to: url(directory, "ca.pem"), atomically: true, encoding: .utf8)
    try signer.certificatePEM.write(to: url(directory, "signer.pem"), atomically: true, encoding: .utf8)
    // The demo key is throw-away, but a private key file is still created for its owner only.
    try PrivateFile.writePEM([signer.keyPEM], to: url(directory, "signer.key").path)

    let ten = tenKilobyteDocument()
    let big = oneMegabyteAttachmentDocument()
    let chain = [signer.certificate.derBytes]
    for ((name, _), message) in zip(documents, [ten, big]) {
        let bytes = try EdXMLWriter.write(message)
        try bytes.write(to: url(directory, "\(name).edxml"))
        try XMLSigner.signEdXML(bytes, key: signer.key, certificateChainDER: chain)
            .write(to: url(directory, "\(name).signed.edxml"))
    }
    let trivial = Data("<r><h>x</h></r>\n".utf8)
    try trivial.write(to: url(directory, "trivial.xml"))
    try XMLSigner.signEnveloped(trivial, parentLocalName: "h", parentNamespace: nil, key: signer.key, certificateChainDER: chain)
        .write(to: url(directory, "trivial.signed.xml"))
}

/// Signs/s, then verifies/s of what was signed, for each document; writes the signed bytes as
/// `NAME.SUFFIX.signed.edxml` when `suffix` is given (token-signed copies, for inspection).
func measure(_ directory: String, key: some SigningKey, chain: [[UInt8]], label: String, suffix: String?) throws {
    for (name, title) in documents {
        let unsigned = try read(directory, "\(name).edxml")
        var signed = Data()
        let sign = try timed { signed = try XMLSigner.signEdXML(unsigned, key: key, certificateChainDER: chain) }
        if let suffix { try signed.write(to: url(directory, "\(name).\(suffix).signed.edxml")) }
        let verify = try timed { _ = try XMLSignatureVerifier.verifyEdXML(signed) }
        let size = "\(title), \(unsigned.count / 1024) KB unsigned, \(signed.count / 1024) KB signed"
        row("sign \(name) (\(size)) with \(label)", Double(sign.count) / sign.elapsed, "signs/s")
        row("verify \(name) signed with \(label)", Double(verify.count) / verify.elapsed, "verifies/s")
        row("verify \(name) signed with \(label)", verify.elapsed / Double(verify.count) * 1000, "ms")
    }
}

func run(_ directory: String, options: [String: String]) throws {
    let keyPEM = String(decoding: try read(directory, "signer.key"), as: UTF8.self)
    let certificatePEM = String(decoding: try read(directory, "signer.pem"), as: UTF8.self)
    let software = try SoftwareSigningKey(pem: keyPEM)
    guard let certificate = try? CertificateReader.certificates(pem: certificatePEM).first else {
        throw BenchError("signer.pem is not a PEM certificate")
    }
    try measure(directory, key: software, chain: [certificate.derBytes], label: "software key", suffix: nil)

    guard let module = options["--pkcs11"] else { return }
    guard let token = options["--token"], let keyLabel = options["--key"] else {
        throw BenchError("--pkcs11 needs --token LABEL and --key LABEL")
    }
    let key = try PKCS11SigningKey.open(modulePath: module, tokenLabel: token, keyLabel: keyLabel,
                                        pin: .environment(PIN.defaultEnvironmentVariable))
    try measure(directory, key: key, chain: [key.certificateDER] + key.certificateChainDER,
                label: "SoftHSM2 token key", suffix: "token")
}

func options(_ arguments: ArraySlice<String>) throws -> [String: String] {
    var result: [String: String] = [:]
    var rest = arguments
    while let name = rest.popFirst() {
        guard ["--pkcs11", "--token", "--key"].contains(name), let value = rest.popFirst() else {
            throw BenchError("unexpected argument \(name)")
        }
        result[name] = value
    }
    return result
}

let arguments = CommandLine.arguments
do {
    switch arguments.dropFirst().first {
    case "make" where arguments.count == 3:
        try make(arguments[2])
    case "run" where arguments.count >= 3:
        try run(arguments[2], options: try options(arguments.dropFirst(3)))
    default:
        FileHandle.standardError.write(Data("usage: SignBench make DIR | run DIR [--pkcs11 MODULE --token LABEL --key LABEL]\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("SignBench: \(error)\n".utf8))
    exit(1)
}
