import CLibXML2
import BenchSupport
import EdXML
import Foundation
import XMLKit

// edXML benchmark (prints, never asserts). Modes:
//   EdXMLBench throughput            read/write rates and the reader/libxml2 ratio, as TSV rows
//   EdXMLBench make-big FILE MB      writes a package with one attachment of about MB megabytes
//   EdXMLBench read-big FILE         reads it and prints the process's peak RSS (MB)

func libxml2Parse(_ data: Data) {
    data.withUnsafeBytes { raw in
        let base = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
        let doc = xmlReadMemory(base, Int32(raw.count), nil, nil, Int32(XML_PARSE_NONET.rawValue | XML_PARSE_HUGE.rawValue))
        xmlFreeDoc(doc)
    }
}

func throughput() throws {
    let ten = tenKilobyteDocument()
    let big = oneMegabyteAttachmentDocument()
    let status = EdXMLMessage.status(EdXMLBuilder.status(.accepted, for: EdXMLBuilder.document(benchmarkSpec(files: [])),
                                                         from: Organization(organId: "000.00.00.H41")))
    for (label, message) in [("10 KB document", ten), ("document + 1 MB attachment", big), ("status message", status)] {
        let bytes = try EdXMLWriter.write(message)
        let mb = Double(bytes.count) / 1_048_576
        // Reader and libxml2 alternate in short rounds, so that a change in the machine's speed
        // (frequency scaling, a neighbour's load) touches both sides of the ratio alike.
        var readCount = 0, readSeconds = 0.0, libxmlCount = 0, libxmlSeconds = 0.0
        var roundRatios: [Double] = []
        for _ in 0..<7 {
            let read = try timed(0.3) { _ = try EdXMLReader.read(bytes) }
            let baseline = timed(0.3) { libxml2Parse(bytes) }
            readCount += read.count
            readSeconds += read.elapsed
            libxmlCount += baseline.count
            libxmlSeconds += baseline.elapsed
            roundRatios.append((Double(read.count) / read.elapsed) / (Double(baseline.count) / baseline.elapsed))
        }
        let write = try timed { _ = try EdXMLWriter.write(message) }
        let readRate = Double(readCount) / readSeconds
        let libxmlRate = Double(libxmlCount) / libxmlSeconds
        row("read \(label) (\(bytes.count / 1024) KB)", readRate, "msg/s")
        row("read \(label)", readRate * mb, "MB/s")
        row("write \(label)", Double(write.count) / write.elapsed, "msg/s")
        row("write \(label)", Double(write.count) / write.elapsed * mb, "MB/s")
        row("libxml2 xmlReadMemory \(label)", libxmlRate, "msg/s")
        let ratio = roundRatios.sorted()[roundRatios.count / 2]
        row("reader / libxml2 \(label) (median of 7 rounds)", ratio, "ratio", "≥ 0.5")
    }
}

func makeBig(_ path: String, megabytes: Int) throws {
    var payload = Data(count: megabytes << 20)
    payload.withUnsafeMutableBytes { raw in
        for index in stride(from: 0, to: raw.count, by: 64) { raw[index] = UInt8(truncatingIfNeeded: index >> 6) }
    }
    let message = EdXMLMessage.document(EdXMLBuilder.document(benchmarkSpec(files: [
        .init(name: "big.bin", contentType: "application/octet-stream", data: payload),
    ])))
    try EdXMLWriter.write(message).write(to: URL(fileURLWithPath: path))
}

func readBig(_ path: String) throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
    var limits = EdXMLLimits.default
    limits.xml.maxDocumentBytes = 200 << 20
    limits.xml.maxTextBytes = 200 << 20
    let start = DispatchTime.now().uptimeNanoseconds
    let parsed = try EdXMLReader.read(data, limits: limits)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    var bytes = 0
    if case .document(let document) = parsed.message { bytes = document.attachments.first?.content?.count ?? 0 }
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let packageMB = Double(data.count) / 1_048_576
    row("read \(Int(packageMB)) MB package", seconds, "s")
    row("attachment decoded", Double(bytes) / 1_048_576, "MB")
    row("peak RSS reading \(Int(packageMB)) MB package", Double(usage.ru_maxrss) / 1024, "MB",
        "≤ \(Int(3 * packageMB + 50))")
}

let arguments = CommandLine.arguments
switch arguments.dropFirst().first {
case "throughput": try throughput()
case "make-big" where arguments.count == 4: try makeBig(arguments[2], megabytes: Int(arguments[3]) ?? 100)
case "read-big" where arguments.count == 3: try readBig(arguments[2])
case "probe" where arguments.count == 4:
    // Peak memory of one stage alone: load | sax | read.
    let data = try Data(contentsOf: URL(fileURLWithPath: arguments[3]))
    var limits = XMLLimits.default
    limits.maxDocumentBytes = 200 << 20
    limits.maxTextBytes = 200 << 20
    switch arguments[2] {
    case "sax":
        var events = 0
        try data.withUnsafeBytes { raw in try XMLPushParser.parse(raw, limits: limits) { _ in events += 1 } }
    case "read":
        _ = try EdXMLReader.read(data, limits: EdXMLLimits(xml: limits))
    default:
        break
    }
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    print("\(arguments[2]): peak \(usage.ru_maxrss / 1024) MB for \(data.count >> 20) MB")
case "read-loop" where arguments.count == 4:
    // For profilers: read one file N times.
    let data = try Data(contentsOf: URL(fileURLWithPath: arguments[2]))
    for _ in 0..<(Int(arguments[3]) ?? 100) { _ = try EdXMLReader.read(data) }
default:
    print("usage: EdXMLBench throughput | make-big FILE MB | read-big FILE | read-loop FILE N")
    exit(2)
}
