import Foundation
import PKI

/// Where the user PIN of a token comes from. The PIN itself is never kept in configuration, never
/// logged and never put in an error message; only the variable name or file path is.
public enum PIN: Sendable, Equatable, CustomStringConvertible {
    /// The value of an environment variable (GovOffice's convention: `GOVOFFICE_PKCS11_PIN`).
    case environment(String)
    /// The contents of a file (e.g. a secret mounted by the service manager); one trailing
    /// newline (`\n` or `\r\n`) is removed.
    case file(String)

    /// The environment variable GovOffice reads the token PIN from by default.
    public static let defaultEnvironmentVariable = "GOVOFFICE_PKCS11_PIN"

    /// Names the source, never the PIN.
    public var description: String {
        switch self {
        case .environment(let name): "environment variable \(name)"
        case .file(let path): "file \(path)"
        }
    }

    /// Reads the PIN now. Throws `.pinMissing` when the variable is unset or empty, or the file
    /// is missing, unreadable or empty.
    func secret() throws(SigningError) -> PINSecret {
        switch self {
        case .environment(let name):
            guard !name.isEmpty, let raw = getenv(name) else {
                throw PIN.missing(vi: "biến môi trường \(name) chưa được đặt", en: "environment variable \(name) is not set")
            }
            let bytes = Array(String(cString: raw).utf8)
            guard !bytes.isEmpty else {
                throw PIN.missing(vi: "biến môi trường \(name) rỗng", en: "environment variable \(name) is empty")
            }
            return PINSecret(bytes)
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw PIN.missing(vi: "không đọc được tệp \(path)", en: "file \(path) is missing or unreadable")
            }
            var bytes = [UInt8](data)
            if bytes.last == 0x0A {
                bytes.removeLast()
                if bytes.last == 0x0D {
                    bytes.removeLast()
                }
            }
            guard !bytes.isEmpty else {
                throw PIN.missing(vi: "tệp \(path) rỗng", en: "file \(path) is empty")
            }
            return PINSecret(bytes)
        }
    }

    private static func missing(vi: String, en: String) -> SigningError {
        SigningError(
            .pinMissing,
            vi: "Chưa có mã PIN của token: \(vi).",
            en: "No token PIN was supplied: \(en)."
        )
    }
}

/// The PIN bytes, kept by a key so it can log in again after the token's session is lost.
/// Best effort: the bytes are overwritten when the last reference goes.
final class PINSecret: @unchecked Sendable, CustomStringConvertible {
    private(set) var bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    deinit {
        for index in bytes.indices {
            bytes[index] = 0
        }
    }

    var description: String { "PIN(redacted)" }
}
