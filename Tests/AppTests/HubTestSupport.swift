import EdXML
import ExchangeClient
import Foundation
import GovCore
import PKI
import Testing
import VaporTesting
import X509
import XMLSecurity

@testable import App

/// A hub served over real HTTP on a free loopback port, with a demo PKI (one P-256 certificate
/// per agency, bound), machine credentials and an `ExchangeClient` per agency.
final class HubHarness: @unchecked Sendable {
    static let g22 = "000.00.00.G22"
    static let h41 = "000.00.00.H41"
    static let h37 = "000.00.00.H37"
    static let h56 = "000.00.00.H56"
    static let h30Locked = "000.00.00.H30"

    let app: Application
    let port: Int
    let demo: DemoPKI
    var certificates: [String: DemoPKI.Issued] = [:]
    var clients: [String: ExchangeClient] = [:]
    var credentials: [String: HubCredentials] = [:]
    var hubURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// One demo PKI for the whole test run: P-256 keys are immediate, the root is not worth redoing.
    static let sharedPKI: DemoPKI = try! DemoPKI(keyKind: .p256, sharedPersonKey: false)
    static let agencies = [g22, h41, h37, h56]
    static let issued: [String: DemoPKI.Issued] = {
        var map: [String: DemoPKI.Issued] = [:]
        for code in agencies { map[code] = try! sharedPKI.issueAgency(code: code, name: "Cơ quan \(code)") }
        return map
    }()

    private init(app: Application, port: Int) {
        self.app = app
        self.port = port
        self.demo = Self.sharedPKI
    }

    /// Runs `body` with a started hub; the server is stopped afterwards.
    static func run(adjust: @escaping (inout AppConfig) -> Void = { _ in },
                    _ body: (HubHarness) async throws -> Void) async throws {
        let pkiDir = FileManager.default.temporaryDirectory.appendingPathComponent("hub-pki-\(UUID().uuidString)").path
        try await withTestApp(adjust: { config in
            config.pkiDirectory = pkiDir
            config.hub.webhookBaseDelayMillis = 50
            // The receivers of these tests listen on loopback, which webhooks may not reach otherwise.
            config.hub.webhookAllow = [CIDRBlock("127.0.0.0/8")!]
            adjust(&config)
        }) { app in
            
            app.http.server.configuration.hostname = "127.0.0.1"
            app.http.server.configuration.port = 0 // the system picks a free one
            // Lifecycle handlers (the push worker) start on boot, which a bare server start skips.
            try await app.asyncBoot()
            try await app.server.start(address: nil)
            guard let port = app.http.server.shared.localAddress?.port else { throw TestFailure("the hub has no port") }
            let harness = HubHarness(app: app, port: port)
            do {
                try await harness.prepare()
                try await body(harness)
            } catch {
                await app.server.shutdown()
                throw error
            }
            await app.server.shutdown()
        }
        try? FileManager.default.removeItem(atPath: pkiDir)
    }

    private func prepare() async throws {
        try await app.pki.addAnchors(pem: demo.root.certificatePEM, source: "test", actor: .commandLine)
        for code in Self.agencies {
            guard let issued = Self.issued[code] else { continue }
            certificates[code] = issued
            try await app.pki.bind(certificatePEM: issued.certificatePEM, agencyCode: code, kind: "agency", username: nil,
                                   actor: .commandLine, agencies: AgencyDirectory(db: app.db))
            let agency = try await AgencyDirectory(db: app.db).require(code: code)
            let systemID = "qlvb-" + code.replacingOccurrences(of: ".", with: "").lowercased()
            let issuedSystem = try await SystemCredentials(db: app.db).issue(agency: agency, systemID: systemID,
                                                                               name: "QLVB \(code)", actor: .commandLine)
            let creds = HubCredentials(systemID: issuedSystem.system.systemID, secret: issuedSystem.secret)
            credentials[code] = creds
            clients[code] = ExchangeClient(hub: hubURL, credentials: creds)
        }
    }

    func client(_ code: String) throws -> ExchangeClient {
        guard let client = clients[code] else { throw TestFailure("no client for \(code)") }
        return client
    }

    // MARK: Messages

    static func spec(from: String, to: [String], number: String, subject: String = "Về việc thử nghiệm trục liên thông") -> DocumentSpec {
        var spec = DocumentSpec(from: Organization(organId: from, organName: "Cơ quan \(from)"),
                                to: to.map { Organization(organId: $0, organName: "Cơ quan \($0)") },
                                codeNumber: number, codeNotation: "VPCP-TH", typeName: "Công văn", subject: subject)
        spec.place = "Hà Nội"
        spec.promulgationDate = "2026/11/23"
        spec.content = "Nội dung thử nghiệm."
        spec.signer = SignerInfo(competence: "KT. BỘ TRƯỞNG, CHỦ NHIỆM", position: "Phó Chủ nhiệm", fullName: "Nguyễn Văn A")
        return spec
    }

    func sign(_ message: EdXMLMessage, as code: String) throws -> Data {
        guard let issued = certificates[code] else { throw TestFailure("no certificate for \(code)") }
        let data = try EdXMLWriter.write(message)
        return try XMLSigner.signEdXML(data, key: issued.key,
                                       certificateChainDER: [issued.certificate.derBytes, demo.root.certificate.derBytes])
    }

    func document(from: String, to: [String], number: String) throws -> (DocumentMessage, Data) {
        let message = EdXMLBuilder.document(Self.spec(from: from, to: to, number: number))
        return (message, try sign(.document(message), as: from))
    }

    func status(_ code: StatusCode, for document: DocumentMessage, from: String, receiver: String? = nil) throws -> Data {
        let reply = EdXMLBuilder.status(code, for: document, from: Organization(organId: from), receiver: receiver)
        return try sign(.status(reply), as: from)
    }

    /// Drains `agency`'s inbox: fetches and acknowledges every waiting message, returns their ids.
    func drain(_ agency: String, kind: MessageKind? = nil) async throws -> [InboxItem] {
        let client = try client(agency)
        var all: [InboxItem] = []
        while true {
            let items = try await client.inbox(type: kind, limit: 500)
            if items.isEmpty { return all }
            for item in items {
                _ = try await client.fetch(item.messageID)
                _ = try await client.acknowledge(item.messageID, outcome: .done)
            }
            all += items
        }
    }
}

/// Expects `body` to fail with the hub error `code` (and the HTTP status, when given).
func expectHubError<T>(_ code: String, status: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation,
                       _ body: () async throws -> T) async {
    do {
        _ = try await body()
        Issue.record("expected \(code), got success", sourceLocation: sourceLocation)
    } catch let error as ExchangeClientError {
        #expect(error.code == code, "got \(error.code) (\(error.status ?? 0)): \(error.en)", sourceLocation: sourceLocation)
        if let status { #expect(error.status == status, sourceLocation: sourceLocation) }
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
    }
}

/// A real HTTP endpoint standing where an agency system's webhook would be: it answers 503 to the
/// first `failures` pushes, then 200, and records every push.
final class WebhookReceiver: @unchecked Sendable {
    struct Call: Sendable {
        var body: Data
        var timestamp: Int
        var signature: String
        var envelope: WebhookSignature.Envelope
        var host: String
    }

    let app: Application
    private(set) var port = 0
    private let lock = NSLock()
    private var recorded: [Call] = []
    private var remainingFailures: Int

    var url: URL { URL(string: "http://127.0.0.1:\(port)/hook")! }
    /// The receiver's `path` under the host name `host` (which a test resolver maps to loopback).
    func url(host: String, path: String = "hook") -> URL { URL(string: "http://\(host):\(port)/\(path)")! }

    private init(app: Application, failures: Int) {
        self.app = app
        self.remainingFailures = failures
    }

    /// Runs `body` with a receiver that fails `failures` times first, and stops it however `body` ends.
    static func with(failures: Int, _ body: (WebhookReceiver) async throws -> Void) async throws {
        let receiver = try await start(failures: failures)
        do {
            try await body(receiver)
        } catch {
            try await receiver.stop()
            throw error
        }
        try await receiver.stop()
    }

    static func start(failures: Int) async throws -> WebhookReceiver {
        let app = try await Application.make(.testing)
        
        app.http.server.configuration.hostname = "127.0.0.1"
        app.http.server.configuration.port = 0 // the system picks a free one
        let receiver = WebhookReceiver(app: app, failures: failures)
        app.on(.POST, "hook", body: .collect(maxSize: "10mb")) { req -> HTTPStatus in
            let body = req.body.data.map { Data(buffer: $0) } ?? Data()
            let call = Call(body: body, timestamp: Int(req.headers.first(name: "X-GovOffice-Timestamp") ?? "") ?? 0,
                            signature: req.headers.first(name: "X-GovOffice-Signature") ?? "",
                            envelope: .init(messageID: req.headers.first(name: WebhookSignature.messageIDHeader) ?? "",
                                            kind: req.headers.first(name: WebhookSignature.kindHeader) ?? "",
                                            sequence: req.headers.first(name: WebhookSignature.sequenceHeader) ?? ""),
                            host: req.headers.first(name: .host) ?? "")
            return receiver.record(call)
        }
        // A receiver that sends the hub on to /hook: the hub must not follow (had it followed, /hook
        // would record the push; the target stays on loopback so a wrong hub still sends nothing outside).
        app.on(.POST, "moved") { req -> Response in
            Response(status: .temporaryRedirect, headers: ["Location": "http://127.0.0.1:\(receiver.port)/hook"])
        }
        try await app.server.start(address: nil)
        receiver.port = app.http.server.shared.localAddress?.port ?? 0
        return receiver
    }

    private func record(_ call: Call) -> HTTPStatus {
        lock.lock()
        defer { lock.unlock() }
        recorded.append(call)
        if remainingFailures > 0 {
            remainingFailures -= 1
            return .serviceUnavailable
        }
        return .ok
    }

    func calls() -> [Call] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    func stop() async throws {
        await app.server.shutdown()
        try await app.asyncShutdown()
    }
}
