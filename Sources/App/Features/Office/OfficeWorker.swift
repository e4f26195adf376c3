import AsyncHTTPClient
import EdXML
import ExchangeClient
import Fluent
import Foundation
import GovCore
import NIOConcurrencyHelpers
import PKCS11
import PKI
import SQLKit
import Vapor
import X509
import XMLSecurity

/// The office's link to the hub, one pair of loops per connected agency, on every node:
/// - intake: long-polls the agency's hub inbox, takes each message in (`OfficeService.intake`) and
///   acknowledges it; a message fetched twice (a retry, another node) is stored once;
/// - outbox: signs each queued status or document with the organisation's key and submits it, in
///   the order the steps were taken; a lease keeps two nodes from sending the same item.
/// It speaks to the hub only through `ExchangeClient` over HTTP, so the hub may be remote.
final class OfficeWorker: LifecycleHandler, Sendable {
    private let tasks = NIOLockedValueBox<[Task<Void, Never>]>([])
    static let lease: TimeInterval = 60

    func didBoot(_ application: Application) throws {
        guard application.govConfig.hub.workers else { return }
        let supervisor = Task {
            var running: Set<String> = []
            // The server starts listening after the boot handlers; an office on the local hub
            // would otherwise call a port that is not open yet.
            try? await Task.sleep(for: .seconds(1))
            while !Task.isCancelled {
                let connections = (try? await OfficeConnection.query(on: application.db).filter(\.$enabled == true).all()) ?? []
                for connection in connections where !running.contains(connection.agencyCode) {
                    running.insert(connection.agencyCode)
                    let agency = connection.agencyCode
                    let intake = Task { await Self.intakeLoop(application, agency: agency) }
                    let outbox = Task { await Self.outboxLoop(application, agency: agency) }
                    tasks.withLockedValue { $0 += [intake, outbox] }
                }
                try? await Task.sleep(for: .seconds(5))
            }
        }
        tasks.withLockedValue { $0.append(supervisor) }
    }

    func shutdown(_ application: Application) {
        tasks.withLockedValue { $0.forEach { $0.cancel() } }
    }

    func shutdownAsync(_ application: Application) async {
        let running = tasks.withLockedValue { list -> [Task<Void, Never>] in
            defer { list = [] }
            return list
        }
        running.forEach { $0.cancel() }
        for task in running { await task.value }
    }

    // MARK: connection

    struct Link {
        var client: ExchangeClient
        var connection: OfficeConnection
        /// The hub secret, opened.
        var secret: String
    }

    static func link(_ app: Application, agency: String) async throws -> Link? {
        guard let connection = try await OfficeConnection.query(on: app.db).filter(\.$agencyCode == agency).first(),
              connection.enabled else { return nil }
        let url: URL
        if connection.hubURL == OfficeConnection.localHub {
            let server = app.http.server.configuration
            let host = ["0.0.0.0", "::", ""].contains(server.hostname) ? "127.0.0.1" : server.hostname
            url = URL(string: "http://\(host):\(server.port)")!
        } else if let remote = URL(string: connection.hubURL) {
            url = remote
        } else {
            return nil
        }
        let secret = try await app.secrets.open(connection.secret, .officeSecret, id: try connection.requireID(), on: app.db)
        // A short call limit: AsyncHTTPClient retries a refused connection until the deadline, and
        // a loop stuck for a minute on a hub that is restarting (or on this server before it
        // listens) would hold up every status behind it.
        return Link(client: ExchangeClient(hub: url, credentials: HubCredentials(systemID: connection.systemID, secret: secret),
                                           timeout: .seconds(15)),
                    connection: connection, secret: secret)
    }

    /// Records how the last contact with the hub went, shown to administrators. The long-poll
    /// returns every few seconds, so a healthy link writes at most once a minute.
    static func note(_ app: Application, agency: String, error: String?) async {
        let text = error.map { String($0.prefix(500)) }
        let now = Date()
        // One UPDATE, no read first: only when the outcome changed or a minute has passed.
        try? await OfficeConnection.query(on: app.db).filter(\.$agencyCode == agency)
            .group(.or) { changed in
                if let text {
                    changed.filter(\.$lastError == nil).filter(\.$lastError != text)
                } else {
                    changed.filter(\.$lastError != nil)
                }
                changed.filter(\.$lastContactAt == nil).filter(\.$lastContactAt < now.addingTimeInterval(-60))
            }
            .set(\.$lastError, to: text).set(\.$lastContactAt, to: now).update()
    }

    // MARK: intake

    static func intakeLoop(_ app: Application, agency: String) async {
        var backoff = 1.0
        while !Task.isCancelled {
            do {
                guard let link = try await link(app, agency: agency) else {
                    try await Task.sleep(for: .seconds(5))
                    continue
                }
                let wait: Duration = link.connection.hubURL == OfficeConnection.localHub ? .seconds(5) : .seconds(20)
                let items = try await link.client.inbox(limit: 50, wait: wait)
                for item in items {
                    try await take(item, link: link, app: app, agency: agency)
                }
                await note(app, agency: agency, error: nil)
                backoff = 1
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                app.logger.warning("office intake \(agency): \(String(describing: error))")
                await note(app, agency: agency, error: String(describing: error))
                try? await Task.sleep(for: .seconds(backoff))
                backoff = min(backoff * 2, 30)
            }
        }
    }

    static func take(_ item: InboxItem, link: Link, app: Application, agency: String) async throws {
        let fetched = try await link.client.fetch(item.messageID)
        // Every message is verified here, statuses and revocations too: the hub may be remote
        // over plain HTTP, and what it relays is only as good as the sender's own seal.
        // Read once: the sender it names picks the seal to check, and intake uses the same reading.
        let parsed = try? EdXMLReader.read(fetched.bytes)
        let signature = try await app.signatureCheck.check(fetched.bytes, sender: parsed.flatMap(claimedSender) ?? item.sender)
        let outcome = try await app.office.intake(hubMessageID: item.messageID, bytes: fetched.bytes, parsed: parsed,
                                                  agency: agency, signature: signature)
        switch outcome {
        case .done: _ = try await link.client.acknowledge(item.messageID, outcome: .done)
        case .refused(let reason):
            app.logger.warning("office intake \(agency): hub message \(item.messageID) refused: \(reason)")
            _ = try await link.client.acknowledge(item.messageID, outcome: .failed(reason: String(reason.prefix(900))))
        }
    }

    /// The agency the message itself says it comes from (`From/OrganId`): the seal must be that
    /// agency's, whatever the hub's inbox entry says.
    static func claimedSender(_ parsed: ParsedEdXML) -> String? {
        switch parsed.message {
        case .document(let document): document.header.from.organId.trimmingCharacters(in: .whitespacesAndNewlines)
        case .status(let status): status.from.organId.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    // MARK: outbox

    static func outboxLoop(_ app: Application, agency: String) async {
        while !Task.isCancelled {
            let sent = await sendDue(app, agency: agency)
            if sent == 0 { try? await Task.sleep(for: .milliseconds(300)) }
        }
    }

    /// Sends what is due for `agency`, oldest first; stops at the first item that must be retried,
    /// so that a document's statuses reach the hub in the order they were taken.
    static func sendDue(_ app: Application, agency: String) async -> Int {
        do {
            let due = try await OfficeOutboxItem.query(on: app.db).filter(\.$agencyCode == agency)
                .filter(\.$state == "pending").filter(\.$nextAt <= Date()).sort(\.$createdAt).limit(20).all()
            guard !due.isEmpty, let link = try await link(app, agency: agency) else { return 0 }
            let connection = link.connection
            // A refused module or key folder throws here: logged and noted below, the items wait.
            let (key, chain) = try OfficeSigner.load(keyPath: connection.keyPath, certPath: connection.certPath,
                                                     pkcs11Module: connection.pkcs11Module, tokenLabel: connection.tokenLabel,
                                                     keyLabel: connection.keyLabel, config: app.govConfig)
            var count = 0
            for item in due {
                guard try await claim(item, on: app.db) else { continue }
                do {
                    let signed = try XMLSigner.signEdXML(item.payload, key: key, certificateChainDER: chain)
                    let result = try await link.client.submit(signed)
                    try await app.db.atomically { tx in
                        item.state = "sent"
                        item.hubMessageID = result.messageID.uuidString.lowercased()
                        item.leaseUntil = nil
                        item.attempts += 1
                        try await item.update(on: tx)
                        if item.kind == "document", let id = item.documentID, let doc = try await OfficeDocument.find(id, on: tx) {
                            // The signed original is what the office keeps (Decree 30/2020 Art. 20).
                            doc.edxml = signed
                            doc.hubMessageID = item.hubMessageID
                            try await doc.update(on: tx)
                        }
                    }
                    count += 1
                } catch let error as ExchangeClientError where (error.status.map { (400..<500).contains($0) && $0 != 408 && $0 != 429 }) == true {
                    item.state = "failed"
                    item.lastError = "\(error.code): \(error.vi) / \(error.en)"
                    item.leaseUntil = nil
                    item.attempts += 1
                    try await item.update(on: app.db)
                } catch {
                    item.attempts += 1
                    item.lastError = String(describing: error).prefix(500).description
                    item.nextAt = Date().addingTimeInterval(min(pow(2, Double(item.attempts)), 300))
                    item.leaseUntil = nil
                    try await item.update(on: app.db)
                    await note(app, agency: agency, error: item.lastError)
                    break
                }
            }
            return count
        } catch {
            app.logger.warning("office outbox \(agency): \(String(describing: error))")
            await note(app, agency: agency, error: String(describing: error))
            return 0
        }
    }

    /// Takes the item for this node for `lease` seconds; false when another node holds it or sent it.
    static func claim(_ item: OfficeOutboxItem, on db: any Database) async throws -> Bool {
        let now = Date()
        let rows = try await db.sql.raw("""
            UPDATE office_outbox SET lease_until = \(bind: now.addingTimeInterval(lease))
            WHERE id = \(bind: item.requireID()) AND state = 'pending' AND (lease_until IS NULL OR lease_until < \(bind: now))
            RETURNING id
            """).all()
        return !rows.isEmpty
    }
}

/// The organisation's signing key of an office: a key file, or a key on a PKCS#11 token. A token
/// session is opened once and kept (logging in for every batch would be slow and, on real
/// tokens, wear the PIN counter).
enum OfficeSigner {
    private static let tokens = NIOLockedValueBox<[String: PKCS11SigningKey]>([:])

    /// The key (from a file or a token) of a connection. The module and key paths come from the
    /// database, so they are checked against the configuration before anything is read or loaded.
    static func load(keyPath: String, certPath: String, pkcs11Module: String?, tokenLabel: String?,
                     keyLabel: String?, config: AppConfig) throws -> (any SigningKey, [[UInt8]]) {
        try checkAllowed(keyPath: keyPath, pkcs11Module: pkcs11Module, config: config)
        guard let module = pkcs11Module, let token = tokenLabel else {
            return try SigningMaterial.software(keyPEM: try String(contentsOfFile: keyPath, encoding: .utf8),
                                                certificatesPEM: try String(contentsOfFile: certPath, encoding: .utf8))
        }
        let cacheKey = [module, token, keyLabel ?? ""].joined(separator: "|")
        if let open = tokens.withLockedValue({ $0[cacheKey] }) {
            return (open, [open.certificateDER] + open.certificateChainDER)
        }
        let opened = try PKCS11SigningKey.open(modulePath: module, tokenLabel: token, keyLabel: keyLabel,
                                               pin: .environment(PIN.defaultEnvironmentVariable))
        tokens.withLockedValue { $0[cacheKey] = opened }
        return (opened, [opened.certificateDER] + opened.certificateChainDER)
    }

    /// Refuses a PKCS#11 module not listed in `GOVOFFICE_PKCS11_MODULES` and a key file outside
    /// the folders of `GOVOFFICE_KEY_DIRS` (default: `GOVOFFICE_PKI_DIR`). Loading a module runs its
    /// code in the server; whoever can write a connection row must not choose which. Symbolic links
    /// are resolved first, so a link in an allowed folder cannot point elsewhere.
    static func checkAllowed(keyPath: String, pkcs11Module: String?, config: AppConfig) throws {
        if let module = pkcs11Module {
            let allowed = Set(config.pkcs11Modules.map(canonical))
            guard allowed.contains(canonical(module)) else {
                throw GovError("office_pkcs11_module_not_allowed", .forbidden,
                               vi: "Thư viện PKCS#11 \(module.prefix(200)) không có trong GOVOFFICE_PKCS11_MODULES; không nạp.",
                               en: "The PKCS#11 module \(module.prefix(200)) is not listed in GOVOFFICE_PKCS11_MODULES; it is not loaded.")
            }
            return
        }
        let key = canonical(keyPath)
        let inside = config.allowedKeyDirectories.map(canonical).contains { folder in
            key.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/")
        }
        guard inside else {
            throw GovError("office_key_path_not_allowed", .forbidden,
                           vi: "Tệp khóa \(keyPath.prefix(200)) không nằm trong thư mục được phép (GOVOFFICE_KEY_DIRS); không đọc.",
                           en: "The key file \(keyPath.prefix(200)) is not inside an allowed folder (GOVOFFICE_KEY_DIRS); it is not read.")
        }
    }

    /// The absolute path with symbolic links resolved (as far as the path exists).
    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
