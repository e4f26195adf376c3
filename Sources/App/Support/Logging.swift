import Foundation
import Logging
import Vapor

/// One JSON object per log line (GOVOFFICE_LOG_FORMAT=json), for log collectors; the request id
/// Vapor adds to every request's logger appears as the `request-id` field.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String

    /// A handler for `label` that drops messages below `level`.
    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = [
            "ts": ISO8601DateFormatter().string(from: Date()),
            "level": event.level.rawValue,
            "label": label,
            "msg": event.message.description,
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) {
            fields[key] = value.description
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(fields), var line = String(data: data, encoding: .utf8) else { return }
        line += "\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}

/// A process exit status requested by a command. The command has already told the person what
/// went wrong, so Vapor logs it only at debug level.
public struct ExitStatus: DebuggableError, CustomStringConvertible {
    /// The status code.
    public let code: Int32
    /// Exit with `code`.
    public init(_ code: Int32) { self.code = code }
    public var description: String { "lệnh kết thúc với mã \(code) / command exited with status \(code)" }
    public var identifier: String { "exit\(code)" }
    public var reason: String { description }
    public var logLevel: Logger.Level { .debug }
}
