import ArgumentParser
import Crypto
import EdXML
import Foundation
import GovCore
import Vapor

/// `govoffice edxml validate|show|build|status`: the codec on the command line, on files only
/// (run through `ToolBridge`).
struct EdXMLTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "govoffice edxml",
        abstract: "Gói tin edXML (QCVN 102:2016) / edXML messages (QCVN 102:2016)",
        subcommands: [Validate.self, Show.self, Build.self, Status.self])

    /// Writes to `path`, or to standard output when nil.
    static func emit(_ data: Data, to path: String?) throws {
        if let path {
            try ToolFiles.write(data, to: path)
        } else {
            FileHandle.standardOutput.write(data)
        }
    }

    /// `validate FILE…`: exit 0 when no file has an error (warnings are printed: the hub accepts
    /// such a message and keeps them with it), 1 otherwise.
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Kiểm tra gói tin / validate messages")

        @ArgumentParser.Argument(help: "edXML files") var files: [String]
        @ArgumentParser.Flag(help: "JSON output") var json = false

        struct FileResult: Encodable {
            var file: String
            var valid: Bool
            var kind: String?
            var errors: [EdXMLIssue]
            var warnings: [EdXMLIssue]
        }

        func run() throws {
            guard !files.isEmpty else { throw ValidationError("Cần ít nhất một tệp / give at least one file") }
            var results: [FileResult] = []
            for file in files {
                do {
                    let parsed = try EdXMLReader.read(try ToolFiles.read(file))
                    let report = parsed.validate()
                    let kind = if case .document = parsed.message { "document" } else { "status" }
                    results.append(FileResult(file: file, valid: report.isValid, kind: kind, errors: report.errors,
                                              warnings: report.warnings))
                } catch let error as EdXMLReadError {
                    let issue = EdXMLIssue(.error, error.path ?? "", error.code, vi: error.vi, en: error.en)
                    results.append(FileResult(file: file, valid: false, kind: nil, errors: [issue], warnings: []))
                }
            }
            if json {
                try EdXMLTool.emit(try ToolFiles.json(results), to: nil)
            } else {
                for result in results {
                    print("\(result.valid ? "✓" : "✗") \(result.file)\(result.kind.map { " (\($0))" } ?? "")")
                    for issue in result.errors + result.warnings {
                        print("  \(issue.severity == .error ? "lỗi/error" : "cảnh báo/warning") \(issue.code) [\(issue.path)]")
                        print("    \(issue.vi)")
                        print("    \(issue.en)")
                    }
                }
            }
            if results.contains(where: { !$0.valid }) { throw ExitCode(1) }
        }
    }

    /// `show FILE`: the model as JSON (attachments summarised unless --content).
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hiển thị gói tin dạng JSON / print the model as JSON")

        @ArgumentParser.Argument(help: "edXML file") var file: String
        @ArgumentParser.Flag(help: "include attachment bytes (base64)") var content = false

        struct AttachmentSummary: Encodable {
            var contentId: String?
            var name: String?
            var bytes: Int?
            var sha256: String?
            var zip: Bool
        }

        struct Output: Encodable {
            var message: EdXMLMessage
            var attachments: [AttachmentSummary]
            var report: EdXMLReport
        }

        func run() throws {
            let parsed: ParsedEdXML
            do {
                parsed = try EdXMLReader.read(try ToolFiles.read(file))
            } catch let error as EdXMLReadError {
                throw ValidationError("\(error.code): \(error.vi) / \(error.en)")
            }
            var message = parsed.message
            var summaries: [AttachmentSummary] = []
            if case .document(var document) = message {
                summaries = document.attachments.map { attachment in
                    // Read attachments decode on access: decode once.
                    let content = attachment.content
                    return AttachmentSummary(
                        contentId: attachment.contentId, name: attachment.attachmentName, bytes: content?.count,
                        sha256: content.map { SHA256.hash(data: $0).map { String(format: "%02x", $0) }.joined() },
                        zip: attachment.isZip)
                }
                if !content {
                    for index in document.attachments.indices { document.attachments[index].content = Data() }
                    message = .document(document)
                }
            }
            try EdXMLTool.emit(try ToolFiles.json(Output(message: message, attachments: summaries, report: parsed.validate())),
                               to: nil)
        }
    }

    /// `build --from SPEC.json`: a new document from a JSON description.
    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Tạo văn bản mới từ JSON / build a new document from JSON")

        @ArgumentParser.Option(name: .customLong("from"), help: "document description (JSON, see docs/edxml.md)") var spec: String
        @ArgumentParser.Option(name: .shortAndLong, help: "output file (default: standard output)") var out: String?

        func run() throws {
            let decoded: DocumentSpec
            do {
                decoded = try JSONDecoder().decode(DocumentSpec.self, from: try ToolFiles.read(spec))
            } catch let error as DecodingError {
                throw ValidationError("Mô tả JSON không hợp lệ / invalid JSON description: \(error.readable)")
            }
            let message = EdXMLMessage.document(EdXMLBuilder.document(decoded))
            let report = EdXMLValidator.validate(message)
            guard report.isValid else {
                for issue in report.errors {
                    FileHandle.standardError.write(Data("✗ \(issue.code) [\(issue.path)]: \(issue.vi) / \(issue.en)\n".utf8))
                }
                throw ExitCode(1)
            }
            try EdXMLTool.emit(try EdXMLWriter.write(message), to: out)
        }
    }

    /// `status --code 03 --for FILE --from AGENCY`: a status reply to a document.
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Tạo gói tin trạng thái / build a status reply")

        @ArgumentParser.Option(help: "01–06, 13, 15, 16") var code: String
        @ArgumentParser.Option(name: .customLong("for"), help: "the document (edXML file) answered") var document: String
        @ArgumentParser.Option(name: .customLong("from"), help: "the reporting agency's code") var agency: String
        @ArgumentParser.Option(help: "for 13: the receiver the request goes to") var receiver: String?
        @ArgumentParser.Option(help: "description (default: the official one)") var description: String?
        @ArgumentParser.Option(name: .shortAndLong, help: "output file (default: standard output)") var out: String?

        func run() throws {
            guard let status = StatusCode(rawValue: code) else {
                throw ValidationError("Mã trạng thái không hợp lệ / unknown status code \(code) (01–06, 13, 15, 16)")
            }
            let parsed: ParsedEdXML
            do {
                parsed = try EdXMLReader.read(try ToolFiles.read(document))
            } catch let error as EdXMLReadError {
                throw ValidationError("\(error.code): \(error.vi) / \(error.en)")
            }
            guard case .document(let original) = parsed.message else {
                throw ValidationError("Tệp --for phải là gói tin văn bản / --for must be a document message")
            }
            let reply = EdXMLMessage.status(EdXMLBuilder.status(status, for: original, from: Organization(organId: agency),
                                                                receiver: receiver, description: description))
            let report = EdXMLValidator.validate(reply)
            guard report.isValid else {
                for issue in report.errors {
                    FileHandle.standardError.write(Data("✗ \(issue.code) [\(issue.path)]: \(issue.vi) / \(issue.en)\n".utf8))
                }
                throw ExitCode(1)
            }
            try EdXMLTool.emit(try EdXMLWriter.write(reply), to: out)
        }
    }
}

extension DecodingError {
    /// Where the JSON went wrong, for people.
    var readable: String {
        switch self {
        case .keyNotFound(let key, let context):
            return "missing \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "bad value at \(path)"
        @unknown default:
            return "\(self)"
        }
    }
}
