import ArgumentParser
import EdXML
import ExchangeClient
import Foundation
import GovCore
import Vapor

/// `govoffice client …`: an agency system's hub client on the command line, over `ExchangeClient`.
/// The hub and credentials come from `--hub`, `--system-id`, `--secret` or from
/// `GOVOFFICE_HUB_URL`, `GOVOFFICE_SYSTEM_ID`, `GOVOFFICE_SECRET_KEY`.
struct ClientTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "govoffice client",
        abstract: "Máy khách trục liên thông / the hub client",
        subcommands: [Send.self, Inbox.self, Fetch.self, Ack.self, Status.self, History.self, Watch.self])

    /// Where the hub is and who is calling.
    struct Connection: ParsableArguments {
        @ArgumentParser.Option(help: "Địa chỉ trục / hub URL (GOVOFFICE_HUB_URL)") var hub: String?
        @ArgumentParser.Option(name: .customLong("system-id"), help: "Mã hệ thống / system id (GOVOFFICE_SYSTEM_ID)")
        var systemID: String?
        @ArgumentParser.Option(help: "Khóa bí mật / secret key (GOVOFFICE_SECRET_KEY)") var secret: String?

        func client() throws -> ExchangeClient {
            let env = ProcessInfo.processInfo.environment
            guard let url = hub.flatMap(URL.init(string:)) ?? HubCredentials.hubURL(fromEnvironment: env) else {
                throw ToolFailure(message: "Thiếu địa chỉ trục / no hub URL: --hub or GOVOFFICE_HUB_URL")
            }
            let fromEnv = HubCredentials.fromEnvironment(env)
            guard let id = systemID ?? fromEnv?.systemID, let key = secret ?? fromEnv?.secret else {
                throw ToolFailure(message: """
                    Thiếu thông tin xác thực / no credentials: --system-id and --secret, or GOVOFFICE_SYSTEM_ID and GOVOFFICE_SECRET_KEY
                    """)
            }
            return ExchangeClient(hub: url, credentials: HubCredentials(systemID: id, secret: key))
        }
    }

    static func failure(_ error: ExchangeClientError) -> ToolFailure {
        ToolFailure(message: "\(error.code)\(error.status.map { " (HTTP \($0))" } ?? ""): \(error.vi) / \(error.en)",
                    exitCode: error.status.map { (400..<500).contains($0) } == true ? 1 : 2)
    }

    static func uuid(_ text: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw ValidationError("Mã gói tin không hợp lệ / not a message id: \(text)") }
        return id
    }

    // MARK: send

    struct Send: AppToolCommand {
        static let configuration = CommandConfiguration(abstract: "Gửi gói tin edXML lên trục / submit an edXML message")
        @OptionGroup var connection: Connection
        @OptionGroup var signing: SigningOptions
        @ArgumentParser.Flag(help: "Không hiện thanh tiến trình / no progress bar") var quiet = false
        @ArgumentParser.Argument(help: "Tệp edXML / the edXML file") var file: String

        func execute(_ app: Application) async throws {
            let client = try connection.client()
            let progress: (@Sendable (Int64, Int64) -> Void)? = quiet ? nil : { @Sendable sent, total in ProgressBar.draw(sent, total) }
            let result: SubmitResult
            do {
                if signing.isGiven {
                    let signed = try signing.signEdXML(try ToolFiles.read(file))
                    result = try await client.submit(signed, progress: progress)
                } else {
                    result = try await client.submit(fileAt: URL(fileURLWithPath: file), progress: progress)
                }
            } catch let error as ExchangeClientError {
                if !quiet { ProgressBar.finish() }
                throw ClientTool.failure(error)
            }
            if !quiet { ProgressBar.finish() }
            print("\(result.duplicate ? "Đã có trên trục (gửi lặp) / already on the hub (repeat)" : "Trục đã nhận / accepted"): \(result.messageID.uuidString.lowercased())")
            print("  nơi nhận / recipients: \(result.recipients.joined(separator: ", "))")
            print("  sha256: \(result.sha256)")
        }
    }

    // MARK: inbox

    struct Inbox: AppToolCommand {
        static let configuration = CommandConfiguration(abstract: "Gói tin đang chờ / what waits in the inbox")
        @OptionGroup var connection: Connection
        @ArgumentParser.Option(help: "document | status") var type: String?
        @ArgumentParser.Option(help: "Chờ tối đa N giây / long-poll up to N seconds") var wait: Int = 0
        @ArgumentParser.Flag(help: "JSON") var json = false

        func execute(_ app: Application) async throws {
            let kind = try type.map { raw -> MessageKind in
                guard let kind = MessageKind(rawValue: raw) else { throw ValidationError("--type document|status") }
                return kind
            }
            let items: [InboxItem]
            do {
                items = try await connection.client().inbox(type: kind, wait: .seconds(wait))
            } catch let error as ExchangeClientError {
                throw ClientTool.failure(error)
            }
            if json {
                FileHandle.standardOutput.write(try ToolFiles.json(items))
                return
            }
            if items.isEmpty { print("Hộp thư trống / the inbox is empty") }
            for item in items {
                let what = item.kind == .status ? "trạng thái \(item.statusCode ?? "?")" : "văn bản"
                print("\(item.messageID.uuidString.lowercased())  #\(item.sequence)  \(item.sender)  \(what)  \(item.documentID ?? "")")
            }
        }
    }

    // MARK: fetch

    struct Fetch: AppToolCommand {
        static let configuration = CommandConfiguration(abstract: "Tải gói tin / download a message")
        @OptionGroup var connection: Connection
        @ArgumentParser.Option(name: .shortAndLong, help: "Tệp ra (mặc định: ID.edxml) / output file") var out: String?
        @ArgumentParser.Argument(help: "Mã gói tin / message id") var id: String

        func execute(_ app: Application) async throws {
            let messageID = try ClientTool.uuid(id)
            let fetched: FetchedMessage
            do {
                fetched = try await connection.client().fetch(messageID)
            } catch let error as ExchangeClientError {
                throw ClientTool.failure(error)
            }
            let path = out ?? "\(id.lowercased()).edxml"
            try ToolFiles.write(fetched.bytes, to: path)
            print("Đã tải / saved: \(path) (\(fetched.bytes.count) bytes, sha256 \(fetched.sha256))")
        }
    }

    // MARK: ack

    struct Ack: AppToolCommand {
        static let configuration = CommandConfiguration(abstract: "Xác nhận đã nhận / acknowledge a message")
        @OptionGroup var connection: Connection
        @ArgumentParser.Option(help: "Báo lỗi kèm lý do / report a failure with this reason") var failed: String?
        @ArgumentParser.Argument(help: "Mã gói tin / message id") var id: String

        func execute(_ app: Application) async throws {
            let messageID = try ClientTool.uuid(id)
            let result: AckResult
            do {
                result = try await connection.client().acknowledge(messageID, outcome: failed.map { .failed(reason: $0) } ?? .done)
            } catch let error as ExchangeClientError {
                throw ClientTool.failure(error)
            }
            print("\(result.messageID.uuidString.lowercased()): \(result.state)")
        }
    }

    // MARK: status

    struct Status: AppToolCommand {
        static let configuration = CommandConfiguration(
            abstract: "Gửi trạng thái xử lý cho một văn bản / send a processing status about a document")
        @OptionGroup var connection: Connection
        @OptionGroup var signing: SigningOptions
        @ArgumentParser.Option(help: "01–06, 13, 15, 16") var code: String
        @ArgumentParser.Option(name: .customLong("from"), help: "Mã cơ quan mình (mặc định: theo thông tin xác thực) / own agency code (default: from whoami)")
        var agency: String?
        @ArgumentParser.Option(help: "Với 13: cơ quan nhận yêu cầu / for 13: the receiver asked") var receiver: String?
        @ArgumentParser.Option(help: "Mô tả / description") var description: String?
        @ArgumentParser.Argument(help: "Văn bản được trả lời (tệp edXML) / the document answered (edXML file)") var file: String

        func execute(_ app: Application) async throws {
            guard let status = StatusCode(rawValue: code) else {
                throw ValidationError("Mã trạng thái không hợp lệ / unknown status code \(code) (01–06, 13, 15, 16)")
            }
            let parsed: ParsedEdXML
            do {
                parsed = try EdXMLReader.read(try ToolFiles.read(file))
            } catch let error as EdXMLReadError {
                throw ToolFailure(message: "\(error.code): \(error.vi) / \(error.en)")
            }
            guard case .document(let original) = parsed.message else {
                throw ToolFailure(message: "Tệp phải là gói tin văn bản / the file must be a document message")
            }
            let client = try connection.client()
            do {
                let own: String
                if let agency { own = agency } else { own = try await client.whoami().agencyCode }
                let reply = EdXMLBuilder.status(status, for: original, from: Organization(organId: own),
                                                receiver: receiver, description: description)
                var data = try EdXMLWriter.write(.status(reply))
                if signing.isGiven { data = try signing.signEdXML(data) }
                let result = try await client.submit(data)
                print("Đã gửi trạng thái \(status.rawValue) / status sent: \(result.messageID.uuidString.lowercased())")
            } catch let error as ExchangeClientError {
                throw ClientTool.failure(error)
            }
        }
    }

    // MARK: history

    struct History: AppToolCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tình hình chuyển phát và trạng thái của văn bản đã gửi / a sent document's deliveries and statuses")
        @OptionGroup var connection: Connection
        @ArgumentParser.Flag(help: "JSON") var json = false
        @ArgumentParser.Argument(help: "Mã gói tin / message id") var id: String

        func execute(_ app: Application) async throws {
            let history: DeliveryHistory
            do {
                history = try await connection.client().history(try ClientTool.uuid(id))
            } catch let error as ExchangeClientError {
                throw ClientTool.failure(error)
            }
            if json {
                FileHandle.standardOutput.write(try ToolFiles.json(history))
                return
            }
            print("\(history.documentID ?? "")")
            for line in history.recipients {
                let statuses = line.statuses.map(\.code).joined(separator: "→")
                print("  \(line.agency)  \(line.deliveryState)  \(line.latestStatus ?? "—")  \(statuses)")
            }
        }
    }

    // MARK: watch

    struct Watch: AppToolCommand {
        static let configuration = CommandConfiguration(
            abstract: "Chờ và tải gói tin mới liên tục / long-poll, save and acknowledge new messages")
        @OptionGroup var connection: Connection
        @ArgumentParser.Option(help: "Thư mục lưu (mặc định: chỉ in) / save into this folder (default: print only)") var out: String?
        @ArgumentParser.Option(help: "Dừng sau N gói tin / stop after N messages") var count: Int?
        @ArgumentParser.Option(help: "Giây chờ mỗi lượt / seconds per long-poll") var wait: Int = 30

        func execute(_ app: Application) async throws {
            let client = try connection.client()
            var seen = 0
            do {
                // ExchangeClient's watch long-polls, backs off on transport errors and yields each
                // waiting message once.
                for try await item in client.watch(wait: .seconds(wait)) {
                    let id = item.messageID.uuidString.lowercased()
                    if let out {
                        let fetched = try await client.fetch(item.messageID)
                        try ToolFiles.write(fetched.bytes, to: "\(out)/\(item.sequence)-\(id).edxml")
                        _ = try await client.acknowledge(item.messageID, outcome: .done)
                    }
                    print("\(id)  #\(item.sequence)  \(item.kind.rawValue)  \(item.sender)  \(item.statusCode ?? item.documentID ?? "")")
                    seen += 1
                    if let count, seen >= count { return }
                }
            } catch let error as ExchangeClientError {
                throw ClientTool.failure(error)
            }
        }
    }
}

/// A one-line progress bar on standard error, for large uploads.
enum ProgressBar {
    static func draw(_ sent: Int64, _ total: Int64) {
        guard total > 0 else { return }
        let fraction = min(Double(sent) / Double(total), 1)
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let line = String(format: "\r%@ %3d%% %@/%@", bar, Int(fraction * 100), ByteCountFormatter.string(fromByteCount: sent, countStyle: .file),
                          ByteCountFormatter.string(fromByteCount: total, countStyle: .file))
        FileHandle.standardError.write(Data(line.utf8))
    }

    static func finish() { FileHandle.standardError.write(Data("\n".utf8)) }
}
