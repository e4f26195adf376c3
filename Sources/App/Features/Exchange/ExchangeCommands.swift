import ArgumentParser
import Foundation
import GovCore
import Vapor

/// `govoffice exchange evidence verify` and `govoffice exchange purge`: the hub operator's tools.
struct ExchangeTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "govoffice exchange",
        abstract: "Trục liên thông: chuỗi bằng chứng, dọn dữ liệu / the hub: evidence chain, retention",
        subcommands: [Evidence.self, Purge.self])

    struct Evidence: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Chuỗi bằng chứng của trục / the hub's evidence chain", subcommands: [Verify.self])

        /// Exit 0 when every receipt links to the one before and the head matches (and, with
        /// `--checkpoints DIR`, every signed checkpoint there agrees); 1 naming the first broken
        /// entry or each disagreeing checkpoint.
        struct Verify: AppToolCommand {
            static let configuration = CommandConfiguration(
                abstract: "Kiểm tra chuỗi băm bằng chứng / verify the hash-chained evidence log")

            @ArgumentParser.Option(name: .customLong("checkpoints"),
                    help: "Thư mục điểm kiểm đã ký / folder of signed checkpoints (GOVOFFICE_CHECKPOINT_DIR)")
            var checkpoints: String?

            func execute(_ app: Application) async throws {
                let result = try await ChainedLog.evidence.verify(on: app.db)
                if let broken = result.broken {
                    throw ToolFailure(message: """
                        ✗ Chuỗi bằng chứng bị thay đổi tại mục \(broken.seq) (\(broken.kind.rawValue)): \(broken.vi)
                        ✗ Evidence chain broken at entry \(broken.seq) (\(broken.kind.rawValue)): \(broken.en)
                        """, exitCode: 1)
                }
                print("✓ Chuỗi bằng chứng toàn vẹn: \(result.checked) mục / evidence chain intact: \(result.checked) entries")
                if let checkpoints {
                    try await ChainCheckpoints.verifyCommand(app, chain: "evidence", log: .evidence, directory: checkpoints)
                }
            }
        }
    }

    /// Runs the retention rules once (the server also runs them periodically).
    struct Purge: AppToolCommand {
        static let configuration = CommandConfiguration(
            abstract: "Xóa nội dung đã hết hạn lưu / purge payloads and metadata past their retention")

        func execute(_ app: Application) async throws {
            let result = try await HubService(app: app).purge()
            print("Đã xóa nội dung / payloads purged: \(result.payloads); siêu dữ liệu / metadata deleted: \(result.messages)")
        }
    }
}
