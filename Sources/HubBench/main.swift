import App
import BenchSupport
import EdXML
import ExchangeClient
import Foundation
import PKI
import XMLSecurity

// The hub's benchmark (bench/exchange.sh). Prints TSV rows (measure, value, unit, target); never
// asserts.
//
//   HubBench sqlite|postgres [--url URL] [--seconds S] [--stored N]
//     The hub in this process: the pipeline in-process without HTTP (and over HTTP within the
//     process), status relay latency to a long-polling sender, fan-out to 95 recipients, the
//     duplicate check against a million stored messages.
//   HubBench load --url URL --key FILE --cert FILE [--size 10k|100k] [--seconds S]
//                 [--concurrency C] [--sender CODE] [--to CODE,CODE] [--label L]
//     The load generator: signed documents submitted over HTTP to a hub running in another
//     process (`govoffice serve`), with the credentials of GOVOFFICE_SYSTEM_ID and
//     GOVOFFICE_SECRET_KEY (`govoffice systems issue --env`) and the sender's key and certificate
//     chain (`govoffice pki demo` writes them under GOVOFFICE_PKI_DIR/agencies/).

let usage = """
    usage: HubBench sqlite|postgres [--url URL] [--seconds S] [--stored N]
           HubBench load --url URL --key FILE --cert FILE [--size 10k|100k] [--seconds S] [--concurrency C]
                         [--sender CODE] [--to CODE,CODE] [--label L]

    """
let arguments = CommandLine.arguments.dropFirst()
func fail(_ message: String, code: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data(message.utf8))
    exit(code)
}
guard let kind = arguments.first, ["sqlite", "postgres", "load"].contains(kind) else { fail(usage) }
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), arguments.index(after: index) < arguments.endIndex else { return nil }
    return arguments[arguments.index(after: index)]
}
let seconds = option("--seconds").flatMap(Double.init) ?? 4

if kind == "load" {
    guard let urlText = option("--url"), let url = URL(string: urlText), let keyFile = option("--key"),
          let certFile = option("--cert") else { fail(usage) }
    guard let size = HubBenchSize(rawValue: option("--size") ?? "10k") else { fail("HubBench load: --size is 10k or 100k\n") }
    guard let credentials = HubCredentials.fromEnvironment() else {
        fail("HubBench load: set GOVOFFICE_SYSTEM_ID and GOVOFFICE_SECRET_KEY (govoffice systems issue --env)\n")
    }
    let concurrency = option("--concurrency").flatMap(Int.init) ?? 32
    let sender = option("--sender") ?? "000.00.00.G22"
    let recipients = (option("--to") ?? "000.00.00.H41,000.00.00.H37").split(separator: ",").map(String.init)
    do {
        var documents = try HubBenchDocuments(sender: sender, keyFile: keyFile, certificateFile: certFile)
        try await HubBenchmark.runLoad(hub: url, credentials: credentials, documents: &documents, recipients: recipients,
                                       size: size, seconds: seconds, concurrency: concurrency,
                                       label: option("--label") ?? "hub") { measure, value, unit, target in
            row(measure, value, unit, target)
        }
    } catch {
        fail("HubBench load failed: \(error)\n", code: 1)
    }
    exit(0)
}

let stored = option("--stored").flatMap(Int.init) ?? 1_000_000
let database: HubBenchDatabase
if kind == "postgres" {
    guard let url = option("--url") else { fail("HubBench postgres needs --url\n") }
    database = .postgres(url)
} else {
    database = .sqlite(FileManager.default.temporaryDirectory.appendingPathComponent("hubbench-\(UUID().uuidString).sqlite").path)
}

do {
    try await HubBenchmark.run(database: database, seconds: seconds, storedMessages: stored, label: kind) { measure, value, unit, target in
        row(measure, value, unit, target)
    }
} catch {
    fail("HubBench failed: \(error)\n", code: 1)
}
