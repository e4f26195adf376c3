import Foundation
import FuzzSupport
import PKI
import XMLKit
import XMLSecurity

/// Every input must be verified or refused with an `XMLSignatureError`, without a crash, a hang or
/// a leak, in the Swift shape checks, in libxml2 and in xmlsec1 behind the C shim (CXMLSecShim).
func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    var limits = XMLLimits.default
    limits.maxDocumentBytes = 1 << 20
    _ = try? XMLSignatureVerifier.verifyEdXML(Data(bytes: start, count: count), limits: limits)
    return 0
}

/// The seed corpus: each edXML file in `inputs` signed with an RSA and a P-256 key of a throwaway
/// demo CA (the two signature methods the verifier accepts), plus each unsigned file, so the
/// fuzzer starts from signatures that verify and mutates them into ones that must not.
func makeSeeds(into folder: String, from inputs: [String]) throws {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    var signers: [(String, DemoPKI.Issued, DemoPKI)] = []
    for (label, kind) in [("rsa", SoftwareSigningKey.Kind.rsa(bits: 2048)), ("p256", .p256)] {
        let demo = try DemoPKI(keyKind: kind)
        signers.append((label, try demo.issueAgency(code: "000.00.00.G22", name: "Văn phòng Chính phủ"), demo))
    }
    for input in inputs {
        let name = URL(fileURLWithPath: input).deletingPathExtension().lastPathComponent
        let document = try Data(contentsOf: URL(fileURLWithPath: input))
        try document.write(to: URL(fileURLWithPath: "\(folder)/unsigned-\(name).xml"))
        for (label, issued, demo) in signers {
            let chain = [issued.certificate.derBytes, demo.root.certificate.derBytes]
            guard let signed = try? XMLSigner.signEdXML(document, key: issued.key, certificateChainDER: chain) else { continue }
            try signed.write(to: URL(fileURLWithPath: "\(folder)/signed-\(label)-\(name).xml"))
        }
    }
}

/// The libFuzzer callback (its driver references this symbol by name).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzOne(start, count)
}

/// `--make-seeds FOLDER FILE…` writes the seed corpus and exits, in either build.
func handleMakeSeeds() {
    let arguments = CommandLine.arguments
    guard arguments.count >= 3, arguments[1] == "--make-seeds" else { return }
    do {
        try makeSeeds(into: arguments[2], from: Array(arguments.dropFirst(3)))
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("seed corpus: \(error)\n".utf8))
        exit(1)
    }
}

@main
enum Fuzz {
    static func main() {
        handleMakeSeeds()
        runFuzzer(usage: "Build and run with scripts/fuzz-xmlsig SECONDS (-sanitize=fuzzer -DFUZZING).") { fuzzOne($0, $1) }
    }
}
