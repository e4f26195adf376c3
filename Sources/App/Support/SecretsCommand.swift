import Fluent
import Foundation
import GovCore
import Vapor

/// `govoffice secrets status|rotate`: which key seals the stored secrets, and changing that key.
struct SecretsCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "action", help: "status | rotate")
        var action: String
        @Option(name: "new-key-file", help: "Tệp chứa khóa mới (thay cho GOVOFFICE_SECRETS_NEW_KEY) / file holding the new key")
        var newKeyFile: String?
    }

    var help: String { "Khóa niêm phong bí mật: trạng thái, thay khóa / the key that seals stored secrets: status, rotation" }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        let vault = app.secrets
        do {
            switch signature.action {
            case "status":
                let current = try vault.configured()
                let census = try await SecretsVault.census(on: app.db)
                context.console.print("khóa hiện tại / current key: \(current.map { "\($0.box.keyID) (\(Self.describe($0.source)))" } ?? "—")")
                for (keyID, count) in census.sealed.sorted(by: { $0.key < $1.key }) {
                    let mark = keyID == current?.box.keyID ? "" : "  ← không phải khóa hiện tại / not the current key"
                    context.console.print("\(keyID)\t\(count)\(mark)")
                }
                context.console.print("rõ / clear\t\(census.clear.count)")
            case "rotate":
                let newText: String
                if let path = signature.newKeyFile {
                    _ = try SecretsVault.readKeyFile(path, setting: "--new-key-file")
                    newText = String(decoding: try ToolFiles.read(path), as: UTF8.self)
                } else if let text = ProcessInfo.processInfo.environment["GOVOFFICE_SECRETS_NEW_KEY"], !text.isEmpty {
                    newText = text
                } else {
                    context.console.error("Cần / needs: GOVOFFICE_SECRETS_NEW_KEY (base64 của 32 byte / of 32 bytes) or --new-key-file FILE")
                    throw ExitStatus(2)
                }
                let newBox = try SecretBox(base64: newText)
                let (count, keyFile) = try await vault.rotate(to: newBox, newKeyText: newText, on: app.db)
                context.console.print("Đã niêm phong lại / re-sealed: \(count) bí mật / secrets, khóa mới / new key \(newBox.keyID)")
                if let path = keyFile {
                    context.console.print("Tệp khóa / key file \(path) đã thay / replaced.")
                } else {
                    context.console.print("Giờ đặt khóa mới vào GOVOFFICE_SECRETS_KEY (hoặc tệp GOVOFFICE_SECRETS_KEY_FILE) rồi khởi động lại. / Now put the new key into GOVOFFICE_SECRETS_KEY (or the GOVOFFICE_SECRETS_KEY_FILE file) and restart.")
                }
            default:
                context.console.error("Lệnh không hỗ trợ / unknown action: \(signature.action). Dùng / use: status | rotate")
                throw ExitStatus(2)
            }
        } catch let error as GovError {
            context.console.error("\(error.code): \(error.vi) / \(error.en)")
            throw ExitStatus(1)
        }
    }

    static func describe(_ source: SecretsVault.Source) -> String {
        switch source {
        case .environment: return "GOVOFFICE_SECRETS_KEY"
        case .file(let path): return "GOVOFFICE_SECRETS_KEY_FILE=\(path)"
        case .generated(let path): return "tệp tự tạo / generated file \(path)"
        case .ephemeral: return "tạm / ephemeral"
        }
    }
}
