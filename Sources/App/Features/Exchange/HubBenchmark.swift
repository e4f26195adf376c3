import AsyncHTTPClient
import EdXML
import ExchangeClient
import Fluent
import Foundation
import GovCore
import PKI
import SQLKit
import Vapor
import XMLSecurity

/// Where the benchmark's hub keeps its data.
public enum HubBenchDatabase: Sendable {
    /// A fresh SQLite file with the served file's settings (DatabaseSetup.tuneSQLite: WAL,
    /// synchronous FULL unless GOVOFFICE_SQLITE_SYNCHRONOUS says NORMAL).
    case sqlite(String)
    /// PostgreSQL; the benchmark works in a schema of its own and drops it afterwards.
    case postgres(String)
}

/// The hub's benchmark, run by the `HubBench` executable (bench/exchange.sh). It lives in App
/// because the in-process side calls the hub service directly, the same pipeline the HTTP route
/// runs, so that the ratio HTTP / in-process measures HTTP alone.
public enum HubBenchmark {
    static let sender = "000.00.00.G22"
    static let receivers = ["000.00.00.H41", "000.00.00.H37"]

    /// Runs every measurement and reports each figure through `report(measure, value, unit, target)`.
    public static func run(database: HubBenchDatabase, seconds: Double, storedMessages: Int, label: String,
                           report: @escaping (String, Double, String, String) -> Void) async throws {
        let app = try await Application.make(.production)
        app.logger.logLevel = .error
        var schema: String?
        var config = AppConfig.testing()
        switch database {
        case .sqlite(let path):
            config = .testing(database: .sqliteFile(path: path))
            config.sqliteSynchronous = try AppConfig.fromEnvironment().sqliteSynchronous
        case .postgres(let url):
            let name = "hubbench_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
            schema = name
            config = .testing(database: .postgres(url: url, searchPath: [name]))
        }
        config.pkiDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("hubbench-pki-\(UUID().uuidString)").path
        // Not a demo: the seal is configured, as in production (a demo seal made for the run).
        let seal = try HubSeal.makeDemo(in: config.pkiDirectory)
        config.hub.sealKeyPath = seal.keyPath
        config.hub.sealCertificatePath = seal.certPath
        config.hub.workers = false
        var failure: (any Error)?
        let httpClient = benchHTTPClient(connections: 32)
        do {
            try await configure(app, config: config)
            if let schema { try await app.db.sql.raw("CREATE SCHEMA \(ident: schema)").run() }
            // The product's own settings (journal, synchronous, timeouts), not a copy of them.
            if case .sqlite = database { try await DatabaseSetup.tuneSQLite(app) }
            try await app.autoMigrate()
            _ = try await DemoSeeder.seedIfEmpty(app)
            try await measure(app, httpClient: httpClient, seconds: seconds, storedMessages: storedMessages, label: label,
                              report: report)
        } catch {
            failure = error
        }
        if let schema { try? await app.db.sql.raw("DROP SCHEMA IF EXISTS \(ident: schema) CASCADE").run() }
        await app.server.shutdown()
        try? await httpClient.shutdown()
        try await app.asyncShutdown()
        if case .sqlite(let path) = database {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        if let failure { throw failure }
    }

    struct Party {
        var code: String
        var key: SoftwareSigningKey
        var chain: [[UInt8]]
        var caller: SystemCredentials.Caller
        var client: ExchangeClient
    }

    private static func measure(_ app: Application, httpClient: HTTPClient, seconds: Double, storedMessages: Int, label: String,
                                report: @escaping (String, Double, String, String) -> Void) async throws {
        // 95 connected recipients for the fan-out figure.
        let directory = AgencyDirectory(db: app.db)
        var fanOut: [String] = []
        var records: [AgencyRecord] = []
        for index in 1...95 {
            let code = String(format: "000.00.%02d.B%02d", index / 100 + 10, index % 100)
            records.append(AgencyRecord(code: try AgencyCode(validating: code), name: "Cơ quan thử \(index)",
                                        shortName: "CQ\(index)", level: 2, group: "B"))
            fanOut.append(code)
        }
        let imported = try await directory.importCSV(AgencyCSV.write(records), by: .commandLine)
        guard imported.succeeded else { throw GovError("bench_agencies", .invalid, vi: "\(imported.errors)", en: "\(imported.errors)") }

        app.http.server.configuration.hostname = "127.0.0.1"
        app.http.server.configuration.port = 0 // the system picks a free one
        try await app.asyncBoot()
        try await app.server.start(address: nil)
        let port = app.http.server.shared.localAddress?.port ?? 0
        let hubURL = URL(string: "http://127.0.0.1:\(port)")!

        let demo = try DemoPKI(keyKind: .rsa(bits: 2048), sharedPersonKey: false)
        try await app.pki.addAnchors(pem: demo.root.certificatePEM, source: "bench", actor: .commandLine)
        var parties: [String: Party] = [:]
        for code in [sender] + receivers {
            let issued = try demo.issueAgency(code: code, name: "Cơ quan \(code)")
            try await app.pki.bind(certificatePEM: issued.certificatePEM, agencyCode: code, kind: "agency", username: nil,
                                   actor: .commandLine, agencies: directory)
            let agency = try await directory.require(code: code)
            let system = try await SystemCredentials(db: app.db).issue(
                agency: agency, systemID: "bench-" + code.replacingOccurrences(of: ".", with: ""), name: "bench", actor: .commandLine)
            let credentials = HubCredentials(systemID: system.system.systemID, secret: system.secret)
            parties[code] = Party(code: code, key: issued.key, chain: [issued.certificate.derBytes, demo.root.certificate.derBytes],
                                  caller: SystemCredentials.Caller(system: system.system, agency: agency),
                                  client: ExchangeClient(hub: hubURL, credentials: credentials, httpClient: httpClient))
        }
        guard let g22 = parties[sender] else { return }

        func sign(_ message: EdXMLMessage, by party: Party) throws -> Data {
            try XMLSigner.signEdXML(try EdXMLWriter.write(message), key: party.key, certificateChainDER: party.chain)
        }
        var factory = HubBenchDocuments(sender: sender, key: g22.key, chain: g22.chain)
        func documents(_ count: Int, attachment: Int, to recipients: [String]) throws -> [Data] {
            try factory.make(count, attachment: attachment, to: recipients)
        }
        let hub = HubService(app: app)
        let concurrency = 32

        // Throughput: the same pipeline over HTTP (ExchangeClient, in this process) and in-process
        // (HubService). The HTTP figures that count are measured by `HubBench load` from a second
        // process against `govoffice serve` (bench/exchange.sh); these are kept for the ratio.
        for size in HubBenchSize.allCases {
            let count = Int(seconds * size.documentsPerSecondCap)
            let httpDocs = try documents(count, attachment: size.attachmentBytes, to: receivers)
            let localDocs = try documents(count, attachment: size.attachmentBytes, to: receivers)
            let name = size.label
            report("[\(label)] signed document size, \(name)", Double(httpDocs[0].count) / 1024, "KB", "-")
            let http = try await load(httpDocs, concurrency: concurrency, seconds: seconds) { data in _ = try await g22.client.submit(data) }
            let local = try await load(localDocs, concurrency: concurrency, seconds: seconds) { data in
                _ = try await hub.submit(data, caller: g22.caller, requestID: nil)
            }
            report("[\(label)] accepted over HTTP within the benchmark's own process, \(name)", http.rate, "msg/s", "-")
            report("[\(label)] accept latency p99 (HTTP within the process, \(concurrency) in flight), \(name)", http.p99 * 1000, "ms", "-")
            report("[\(label)] accepted in-process (HubService, no HTTP, \(concurrency) in flight), \(name)", local.rate, "msg/s", "-")
            report("[\(label)] accept latency p99 in-process, \(name)", local.p99 * 1000, "ms", "-")
        }

        // Status relay: receivers answer 01 at 100 documents/s; the sender long-polls.
        let relayDocs = try documents(300, attachment: 2_500, to: [receivers[0]])
        var relayParsed: [DocumentMessage] = []
        for data in relayDocs {
            _ = try await g22.client.submit(data)
            if case .document(let document) = try EdXMLReader.read(data).message { relayParsed.append(document) }
        }
        // The earlier rounds left statuses nowhere, but documents in the receivers' inboxes: clear them.
        for code in receivers { try await drain(parties[code]!.client) }
        guard let h41 = parties[receivers[0]] else { return }
        let statuses = try relayParsed.map {
            try sign(.status(EdXMLBuilder.status(.arrived, for: $0, from: Organization(organId: h41.code))), by: h41)
        }
        let sentAt = LockedDictionary()
        let watcher = Task { () -> [Double] in
            var latencies: [Double] = []
            while latencies.count < statuses.count {
                let items = try await g22.client.inbox(type: .status, limit: 500, wait: .seconds(10))
                let now = ContinuousClock.now
                for item in items {
                    if let sent = sentAt.get(item.documentID ?? "") { latencies.append(secondsOf(now - sent)) }
                    _ = try await g22.client.acknowledge(item.messageID, outcome: .done)
                }
                if items.isEmpty { break }
            }
            return latencies
        }
        let relayStart = ContinuousClock.now
        for (index, status) in statuses.enumerated() {
            try await Task.sleep(until: relayStart + .milliseconds(10 * index))
            sentAt.set(relayParsed[index].header.documentId ?? "", ContinuousClock.now)
            _ = try await h41.client.submit(status)
        }
        let relay = try await watcher.value.sorted()
        report("[\(label)] status relay until the sender's long-poll returns, p50 (100 documents/s)", percentile(relay, 0.5) * 1000, "ms", "-")
        report("[\(label)] status relay until the sender's long-poll returns, p99 (100 documents/s)", percentile(relay, 0.99) * 1000, "ms", "≤ 100")

        // Fan-out: one document to 95 recipients, committed (one at a time).
        let wide = try documents(100, attachment: 2_500, to: fanOut)
        var wideLatency: [Double] = []
        for data in wide {
            let start = ContinuousClock.now
            _ = try await g22.client.submit(data)
            wideLatency.append(secondsOf(ContinuousClock.now - start))
        }
        wideLatency.sort()
        report("[\(label)] one document to 95 recipients committed, p50", percentile(wideLatency, 0.5) * 1000, "ms", "-")
        report("[\(label)] one document to 95 recipients committed, p99", percentile(wideLatency, 0.99) * 1000, "ms", "≤ 50")

        // Duplicate check against `storedMessages` stored messages.
        let fillStart = ContinuousClock.now
        let hashes = try await fill(app, count: storedMessages)
        report("[\(label)] stored messages for the duplicate check", Double(try await countMessages(app)), "messages",
               "≥ 1000000")
        report("[\(label)] time to insert them (bulk, not the hub path)", secondsOf(ContinuousClock.now - fillStart), "s", "-")
        var lookups: [Double] = []
        for hash in hashes {
            let start = ContinuousClock.now
            _ = try await hub.findDuplicate(sender: sender, sha256: hash)
            lookups.append(secondsOf(ContinuousClock.now - start))
        }
        lookups.sort()
        report("[\(label)] duplicate check (indexed look-up), p50", percentile(lookups, 0.5) * 1000, "ms", "-")
        report("[\(label)] duplicate check (indexed look-up), p99", percentile(lookups, 0.99) * 1000, "ms", "≤ 2")
        // And a whole repeated submission over HTTP, which the duplicate check answers.
        let repeated = Array(relayDocs.prefix(200))
        var repeats: [Double] = []
        for data in repeated {
            let start = ContinuousClock.now
            _ = try await g22.client.submit(data)
            repeats.append(secondsOf(ContinuousClock.now - start))
        }
        repeats.sort()
        report("[\(label)] repeated submission answered over HTTP (parse + hash + check), p99", percentile(repeats, 0.99) * 1000, "ms", "-")
    }

    /// What one load run measured: completed submissions per second, latency percentiles (s),
    /// and the submissions that failed (with the first failure, to show).
    public struct LoadResult: Sendable {
        public var completed: Int
        public var failed: Int
        public var rate: Double
        public var p50: Double
        public var p99: Double
        public var firstFailure: String?
    }

    /// Submits `items` through `body`, `concurrency` at a time, until they are all done or
    /// `seconds` have passed (whichever comes first). A failed submission is counted, not thrown;
    /// when every one failed, the first failure is thrown.
    public static func load(_ items: [Data], concurrency: Int, seconds: Double? = nil,
                            _ body: @escaping @Sendable (Data) async throws -> Void) async throws -> LoadResult {
        let start = ContinuousClock.now
        let deadline = seconds.map { start + .milliseconds(Int($0 * 1000)) }
        let lanes = (0..<concurrency).map { lane in stride(from: lane, to: items.count, by: concurrency).map { items[$0] } }
        let (latencies, failed, firstFailure) = await withTaskGroup(of: ([Double], Int, String?).self) { group in
            for lane in lanes {
                group.addTask {
                    var out: [Double] = []
                    var failed = 0
                    var first: String?
                    for data in lane {
                        if let deadline, ContinuousClock.now >= deadline { break }
                        let begin = ContinuousClock.now
                        do {
                            try await body(data)
                            out.append(secondsOf(ContinuousClock.now - begin))
                        } catch {
                            failed += 1
                            if first == nil { first = "\(error)" }
                        }
                    }
                    return (out, failed, first)
                }
            }
            var all: [Double] = []
            var failed = 0
            var first: String?
            for await (part, partFailed, partFirst) in group {
                all += part
                failed += partFailed
                if first == nil { first = partFirst }
            }
            return (all.sorted(), failed, first)
        }
        let elapsed = secondsOf(ContinuousClock.now - start)
        if latencies.isEmpty, failed > 0 {
            throw GovError("bench_load_failed", .invalid, vi: firstFailure ?? "", en: firstFailure ?? "")
        }
        return LoadResult(completed: latencies.count, failed: failed, rate: Double(latencies.count) / elapsed,
                          p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), firstFailure: firstFailure)
    }

    /// An HTTP client whose connection pool is as wide as the load: AsyncHTTPClient's shared client
    /// keeps 8 connections per host, which would queue 32 submissions in flight behind 8 sockets.
    public static func benchHTTPClient(connections: Int) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(120))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// `HubBench load`: signed documents of one `size` from `documents`' sender to `recipients`,
    /// submitted over HTTP to a hub running in another process (`govoffice serve`) for `seconds`,
    /// `concurrency` in flight. Reports the size, the accepted rate, p50/p99 latency, failures.
    public static func runLoad(hub: URL, credentials: HubCredentials, documents: inout HubBenchDocuments,
                               recipients: [String], size: HubBenchSize, seconds: Double, concurrency: Int, label: String,
                               report: @escaping (String, Double, String, String) -> Void) async throws {
        let httpClient = benchHTTPClient(connections: concurrency)
        let client = ExchangeClient(hub: hub, credentials: credentials, httpClient: httpClient)
        do {
            // Warm-up, untimed: connections open, the server's caches fill.
            let warm = try documents.make(concurrency * 2, attachment: size.attachmentBytes, to: recipients)
            _ = try await load(warm, concurrency: concurrency) { data in _ = try await client.submit(data) }
            let items = try documents.make(max(1, Int(seconds * size.documentsPerSecondCap)), attachment: size.attachmentBytes,
                                           to: recipients)
            let result = try await load(items, concurrency: concurrency, seconds: seconds) { data in
                _ = try await client.submit(data)
            }
            let name = size.label
            report("[\(label)] signed document size, \(name)", Double(items[0].count) / 1024, "KB", "-")
            report("[\(label)] accepted over HTTP, load from a second process, \(name)", result.rate, "msg/s",
                   "≥ \(Int(size.target))")
            report("[\(label)] accept latency p50 (HTTP, second process, \(concurrency) in flight), \(name)", result.p50 * 1000, "ms", "-")
            report("[\(label)] accept latency p99 (HTTP, second process, \(concurrency) in flight), \(name)", result.p99 * 1000, "ms", "-")
            report("[\(label)] documents accepted in the timed run (second process), \(name)", Double(result.completed),
                   "count", "-")
            report("[\(label)] failed submissions (second process), \(name)", Double(result.failed), "count", "= 0")
            if let failure = result.firstFailure {
                FileHandle.standardError.write(Data("HubBench load: first failure: \(failure)\n".utf8))
            }
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }

    private static func drain(_ client: ExchangeClient) async throws {
        while true {
            let items = try await client.inbox(limit: 500)
            if items.isEmpty { return }
            for item in items { _ = try await client.acknowledge(item.messageID, outcome: .done) }
        }
    }

    /// Bulk-inserts `count` message rows (metadata only, as after payload retention) and returns a
    /// sample of their hashes to look up.
    private static func fill(_ app: Application, count: Int) async throws -> [String] {
        let existing = try await countMessages(app)
        var seq = Int64(existing + 1_000_000_000)
        var sample: [String] = []
        let batch = 500
        var inserted = 0
        while inserted < count {
            // 20,000 rows per transaction, 500 per statement.
            var statements: [[(UUID, Int64, String)]] = []
            for _ in 0..<40 where inserted < count {
                let n = min(batch, count - inserted)
                var rows: [(UUID, Int64, String)] = []
                for _ in 0..<n {
                    seq += 1
                    let hash = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
                        + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
                    if sample.count < 2_000, Int.random(in: 0..<max(count / 2_000, 1)) == 0 { sample.append(hash) }
                    rows.append((UUID(), seq, hash))
                }
                statements.append(rows)
                inserted += n
            }
            let work = statements
            try await app.db.transaction { tx in
                for rows in work {
                    var insert = tx.sql.insert(into: "exchange_messages")
                        .columns("id", "seq", "kind", "business_type", "sender_code", "sender_system", "document_id",
                                 "recipients", "sha256", "size", "receipt_json", "receipt_cms", "accepted_ms")
                    for (id, seq, hash) in rows {
                        insert = insert.values(SQLBind(id), SQLBind(seq), SQLBind("document"), SQLBind(0), SQLBind(sender),
                                               SQLBind("bench"), SQLBind("\(sender),2020/01/01,\(seq)/FILL"),
                                               SQLBind("[]"), SQLBind(hash), SQLBind(Int64(10_000)), SQLBind("{}"),
                                               SQLBind(Data()), SQLBind(Int64(1_600_000_000_000)))
                    }
                    try await insert.run()
                }
            }
        }
        return sample
    }

    private static func countMessages(_ app: Application) async throws -> Int {
        guard let row = try await app.db.sql.raw("SELECT COUNT(*) AS n FROM exchange_messages").first() else { return 0 }
        return try row.decode(column: "n", as: Int.self)
    }

    public static func secondsOf(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    public static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p + 0.5))]
    }
}

/// The document sizes the hub's throughput is measured with, and their targets.
public enum HubBenchSize: String, CaseIterable, Sendable {
    case small = "10k"
    case large = "100k"

    public var label: String { self == .small ? "10 KB" : "100 KB attachment" }
    /// Attachment bytes before base64; with the header and signature the documents are about 10 KB
    /// and 100 KB.
    public var attachmentBytes: Int { self == .small ? 2_500 : 75_000 }
    /// Accepted documents per second the hub must reach.
    public var target: Double { self == .small ? 2_000 : 500 }
    /// How many documents per second of load are signed beforehand: above what the hub reaches on
    /// this machine, below what signing them all would cost in waiting.
    var documentsPerSecondCap: Double { self == .small ? 700 : 350 }
}

/// Signed edXML documents from one sender, numbered from a random base so that their document
/// ids are new to a hub that has seen an earlier run.
public struct HubBenchDocuments {
    public let sender: String
    let key: SoftwareSigningKey
    let chain: [[UInt8]]
    private var serial = Int.random(in: 1...90_000) * 100_000

    public init(sender: String, key: SoftwareSigningKey, chain: [[UInt8]]) {
        self.sender = sender
        self.key = key
        self.chain = chain
    }

    /// The sender's key and certificate chain from PEM files (as `govoffice pki demo` writes them).
    public init(sender: String, keyFile: String, certificateFile: String) throws {
        let key = try SoftwareSigningKey(pem: try String(contentsOfFile: keyFile, encoding: .utf8))
        let chain = try CertificateReader.certificates(pem: try String(contentsOfFile: certificateFile, encoding: .utf8))
        self.init(sender: sender, key: key, chain: chain.map(\.derBytes))
    }

    /// `count` signed documents, each with an attachment of `attachment` bytes, to `recipients`.
    public mutating func make(_ count: Int, attachment: Int, to recipients: [String]) throws -> [Data] {
        try (0..<count).map { _ in
            serial += 1
            var spec = DocumentSpec(from: Organization(organId: sender, organName: "Văn phòng Chính phủ"),
                                    to: recipients.map { Organization(organId: $0, organName: "Cơ quan \($0)") },
                                    codeNumber: String(serial), codeNotation: "VPCP-BENCH", typeName: "Công văn",
                                    subject: String(repeating: "V/v kết nối, liên thông phần mềm quản lý văn bản; ", count: 20))
            spec.content = String(repeating: "Nội dung tóm tắt của văn bản điện tử gửi qua Trục liên thông. ", count: 40)
            spec.place = "Hà Nội"
            spec.promulgationDate = "2026/11/23"
            let seed = serial
            spec.files = [.init(name: "a.pdf", contentType: "application/pdf",
                                data: Data((0..<attachment).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed) }))]
            return try XMLSigner.signEdXML(try EdXMLWriter.write(.document(EdXMLBuilder.document(spec))), key: key,
                                           certificateChainDER: chain)
        }
    }
}

/// Send times by document, shared between the sending loop and the long-polling watcher.
private final class LockedDictionary: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: ContinuousClock.Instant] = [:]

    func set(_ key: String, _ value: ContinuousClock.Instant) {
        lock.lock()
        values[key] = value
        lock.unlock()
    }

    func get(_ key: String) -> ContinuousClock.Instant? {
        lock.lock()
        defer { lock.unlock() }
        return values[key]
    }
}
