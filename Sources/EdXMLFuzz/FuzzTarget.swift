import EdXML
import Foundation

/// Every input must be read (or refused with an error), validated and, when read, written and
/// read again to the same model, without a crash, a hang or a leak.
func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let data = Data(bytes: start, count: count)
    var limits = EdXMLLimits.default
    limits.xml.maxDocumentBytes = 1 << 20
    guard let parsed = try? EdXMLReader.read(data, limits: limits) else { return 0 }
    _ = parsed.validate()
    // What the hub routes on is read from any message the codec accepts (refused or not, never a crash).
    _ = try? RoutingInfo(parsed.message)
    if let written = try? EdXMLWriter.write(parsed.message), let again = try? EdXMLReader.read(written),
       again.message != parsed.message {
        fatalError("round trip changed the message")
    }
    if case .document(let document) = parsed.message {
        for attachment in document.attachments { _ = try? attachment.files(limits: ZipLimits(maxTotalBytes: 1 << 20)) }
    }
    return 0
}

/// The libFuzzer callback (its driver references this symbol by name).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    fuzzOne(start, count)
}

#if FUZZING
// SwiftPM gives every executable its own entry point, so libFuzzer's `main` is not used: ours
// hands over to libFuzzer's driver (LLVM's documented way to own `main`).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@main
enum Fuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { fuzzOne($0, $1) })
    }
}
#else
/// Without libFuzzer this target has nothing to run: say how to use it.
@main
enum FuzzUsage {
    static func main() {
        print("Build and run with scripts/fuzz-edxml SECONDS (-sanitize=fuzzer -DFUZZING).")
    }
}
#endif
