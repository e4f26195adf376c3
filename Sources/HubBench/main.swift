import App
import BenchSupport
import EdXML
import ExchangeClient
import Foundation
import PKI
import XMLSecurity

// The hub's benchmark (bench/exchange.sh): signed documents accepted per second over HTTP and
// in-process, accept latency, status relay latency to a long-polling sender, fan-out to 95
// recipients, and the duplicate check against a million stored messages. Prints TSV rows
// (measure, value, unit, target); never asserts.
//
// Usage: HubBench sqlite|postgres [--url URL] [--seconds S] [--stored N]

let arguments = CommandLine.arguments.dropFirst()
guard let kind = arguments.first, ["sqlite", "postgres"].contains(kind) else {
    FileHandle.standardError.write(Data("usage: HubBench sqlite|postgres [--url URL] [--seconds S] [--stored N]\n".utf8))
    exit(2)
}
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), arguments.index(after: index) < arguments.endIndex else { return nil }
    return arguments[arguments.index(after: index)]
}
let seconds = option("--seconds").flatMap(Double.init) ?? 4
let stored = option("--stored").flatMap(Int.init) ?? 1_000_000
let database: HubBenchDatabase
if kind == "postgres" {
    guard let url = option("--url") else {
        FileHandle.standardError.write(Data("HubBench postgres needs --url\n".utf8))
        exit(2)
    }
    database = .postgres(url)
} else {
    database = .sqlite(FileManager.default.temporaryDirectory.appendingPathComponent("hubbench-\(UUID().uuidString).sqlite").path)
}

do {
    try await HubBenchmark.run(database: database, seconds: seconds, storedMessages: stored, label: kind) { measure, value, unit, target in
        row(measure, value, unit, target)
    }
} catch {
    FileHandle.standardError.write(Data("HubBench failed: \(error)\n".utf8))
    exit(1)
}
