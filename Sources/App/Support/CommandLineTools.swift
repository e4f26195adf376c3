import ArgumentParser
import Foundation
import GovCore
import Vapor

/// A command that needs the application (database, configuration); plain `ParsableCommand`s
/// that work on files alone just implement `run()`.
protocol AppToolCommand: ParsableCommand {
    func execute(_ app: Application) async throws
}

/// Runs a swift-argument-parser command tree inside Vapor's command line, so that several
/// options, flags and `--help` work as in any tool. Exit status: what the command throws
/// (`ExitCode`, `ExitStatus`), 2 for a `ToolFailure`, 1 for a refused `GovError`, and
/// swift-argument-parser's own codes for usage errors.

struct ToolBridge<Root: ParsableCommand>: AnyAsyncCommand {
    let help: String

    func run(using context: inout CommandContext) async throws {
        do {
            var command = try Root.parseAsRoot(context.input.arguments)
            if let appCommand = command as? any AppToolCommand {
                try await appCommand.execute(context.application)
            } else {
                // A file-only command, or a group without its own action (its help).
                try command.run()
            }
        } catch let error as ToolFailure {
            FileHandle.standardError.write(Data((error.message + "\n").utf8))
            throw ExitStatus(error.exitCode)
        } catch let error as GovError {
            FileHandle.standardError.write(Data("\(error.code): \(error.vi) / \(error.en)\n".utf8))
            throw ExitStatus(1)
        } catch let error as ExitStatus {
            throw error
        } catch {
            let code = Root.exitCode(for: error)
            let message = Root.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                return
            }
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            throw ExitStatus(code.rawValue)
        }
    }

    func outputHelp(using context: inout CommandContext) throws {
        print(Root.helpMessage())
    }
}

/// A command that stops with a message and an exit status (1: a verdict such as "invalid";
/// 2: the command could not run: bad arguments, unreadable files, a refused PIN).
struct ToolFailure: Error {
    var message: String
    var exitCode: Int32 = 2
}

enum ToolFiles {
    static func read(_ path: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ToolFailure(message: "Không đọc được tệp / cannot read file: \(path)")
        }
        return data
    }

    static func text(_ path: String) throws -> String {
        guard let text = String(data: try read(path), encoding: .utf8) else {
            throw ToolFailure(message: "Tệp phải là văn bản UTF-8 (PEM) / the file must be UTF-8 text (PEM): \(path)")
        }
        return text
    }

    /// Writes atomically; `secret` files (private keys) are created readable by their owner only
    /// (`PrivateFile`: never chmod-ed after the bytes are in).
    static func write(_ data: Data, to path: String, secret: Bool = false) throws {
        if secret { return try PrivateFile.write(data, to: path) }
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    }

    static func json<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(value) + Data("\n".utf8)
    }

    /// Writes PEM blocks one after another, each ending in a newline: swift-asn1's `pemString`
    /// has none, and `END…-----BEGIN` on one line is unreadable to openssl.
    static func writePEM(_ blocks: [String], to path: String, secret: Bool = false) throws {
        let text = blocks.map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined()
        try write(Data(text.utf8), to: path, secret: secret)
    }
}
