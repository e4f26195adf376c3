import Foundation

/// The machine credentials the hub administrator issued to one agency system (mã hệ thống và khóa
/// bí mật). They authenticate every call, so the secret never appears in `description`, logs or
/// `dump` output.
public struct HubCredentials: Sendable, Hashable {
    /// The system id, sent as `X-SystemId` on every call.
    public var systemID: String
    /// The secret key, sent as `X-SecretKey` on every call; shown once by the hub, never stored by it.
    public var secret: String

    /// Credentials as issued. Surrounding whitespace is not trimmed here: callers that read them
    /// from files or the environment should use `fromEnvironment(_:)` or trim themselves.
    public init(systemID: String, secret: String) {
        self.systemID = systemID
        self.secret = secret
    }

    /// The environment variable holding the system id.
    public static let systemIDVariable = "GOVOFFICE_SYSTEM_ID"
    /// The environment variable holding the secret key.
    public static let secretVariable = "GOVOFFICE_SECRET_KEY"
    /// The environment variable holding the hub's base URL (for example `https://hub.example.gov.vn`).
    public static let hubURLVariable = "GOVOFFICE_HUB_URL"

    /// Reads `GOVOFFICE_SYSTEM_ID` and `GOVOFFICE_SECRET_KEY`, trimmed of whitespace (a trailing
    /// newline from a secrets file would otherwise make every call fail with 401). Nil when either
    /// is missing or empty, so a misconfigured deployment fails at start-up rather than at the first call.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> HubCredentials? {
        guard let id = trimmed(env[systemIDVariable]), let secret = trimmed(env[secretVariable]) else { return nil }
        return HubCredentials(systemID: id, secret: secret)
    }

    /// Reads `GOVOFFICE_HUB_URL`: nil unless it is an absolute `http` or `https` URL with a host, so
    /// a typo is caught before the first request.
    public static func hubURL(fromEnvironment env: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        guard let raw = trimmed(env[hubURLVariable]), let url = URL(string: raw),
              let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty
        else { return nil }
        return url
    }

    private static func trimmed(_ value: String?) -> String? {
        guard let value = value?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }
}

extension HubCredentials: CustomStringConvertible, CustomDebugStringConvertible {
    /// The system id with the secret redacted, safe for logs.
    public var description: String { "HubCredentials(systemID: \(systemID), secret: <redacted>)" }
    /// Same as `description`: debugging output must not carry the secret either.
    public var debugDescription: String { description }
}

extension HubCredentials: CustomReflectable {
    /// A mirror without the secret, so `dump(_:)` and debuggers' summaries do not print it.
    public var customMirror: Mirror {
        Mirror(self, children: ["systemID": systemID, "secret": "<redacted>"], displayStyle: .struct)
    }
}
