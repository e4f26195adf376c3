import EdXML
import Foundation
import FuzzSupport

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

@main
enum Fuzz {
    static func main() {
        runFuzzer(usage: "Build and run with scripts/fuzz-edxml SECONDS (-sanitize=fuzzer -DFUZZING).") { fuzzOne($0, $1) }
    }
}
