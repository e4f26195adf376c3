import Crypto
import Foundation

/// Secrets that must be stored but read back in clear (an office's hub secret, a webhook's HMAC
/// key), sealed with AES-256-GCM under one operator key.
///
/// The stored text is `v1:<key id>:<base64 of nonce ‖ ciphertext ‖ tag>`. The key id (the first 8
/// bytes of the key's SHA-256, hex) says which key sealed a row, so a start-up with another key is
/// refused by name instead of failing row by row, and rotation can count what is left to do.
/// `context` (for instance `office_connections:<row id>`) is authenticated with the ciphertext: a
/// sealed value copied into another row does not open there.
public struct SecretBox: Sendable {
    /// Length of the key in bytes (AES-256).
    public static let keyByteCount = 32
    /// The prefix of every sealed value of this format version.
    public static let prefix = "v1:"

    /// Which key this is: 16 lowercase hex digits of its SHA-256.
    public let keyID: String
    // The bytes, not a SymmetricKey: this swift-crypto's SymmetricKey is not Sendable.
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// A box for `key`, which must be exactly 32 bytes (`secrets_key_invalid` otherwise).
    public init(key bytes: [UInt8]) throws(GovError) {
        guard bytes.count == Self.keyByteCount else { throw Self.invalidKey }
        keyBytes = bytes
        keyID = Self.hex(SHA256.hash(data: bytes).prefix(8))
    }

    /// A box for the base64 text of a 32-byte key (surrounding whitespace and a final newline of a
    /// key file are ignored).
    public init(base64 text: String) throws(GovError) {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw Self.invalidKey
        }
        try self.init(key: Array(data))
    }

    /// A new random key as base64 text, the form `GOVOFFICE_SECRETS_KEY` and key files hold.
    public static func generateKeyBase64() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
    }

    /// Seals `plaintext` for the row named by `context`. A fresh random nonce each time.
    public func seal(_ plaintext: String, context: String) throws(GovError) -> String {
        do {
            let box = try AES.GCM.seal(Data(plaintext.utf8), using: key, authenticating: Self.associatedData(context))
            guard let combined = box.combined else { throw Self.malformed }
            return Self.prefix + keyID + ":" + combined.base64EncodedString()
        } catch let error as GovError {
            throw error
        } catch {
            throw Self.malformed
        }
    }

    /// Opens what ``seal(_:context:)`` made for the same `context`. Throws `secrets_key_wrong` when
    /// another key sealed it, `secret_unreadable` when it was altered, moved to another row, or is
    /// not a sealed value at all.
    public func open(_ sealed: String, context: String) throws(GovError) -> String {
        guard let parts = Self.parts(sealed) else { throw Self.malformed }
        guard parts.keyID == keyID else { throw Self.wrongKey(found: [parts.keyID], expected: keyID) }
        do {
            let box = try AES.GCM.SealedBox(combined: parts.payload)
            let clear = try AES.GCM.open(box, using: key, authenticating: Self.associatedData(context))
            guard let text = String(data: clear, encoding: .utf8) else { throw Self.malformed }
            return text
        } catch {
            throw Self.malformed
        }
    }

    /// Whether `text` has the shape of a sealed value (a clear secret from before sealing does not).
    public static func isSealed(_ text: String) -> Bool { parts(text) != nil }

    /// The key id a sealed value names, or nil when `text` is not sealed.
    public static func keyID(of text: String) -> String? { parts(text)?.keyID }

    /// The error of a start-up or command that finds rows sealed by keys other than `expected`.
    public static func wrongKey(found: [String], expected: String) -> GovError {
        GovError("secrets_key_wrong", .conflict,
                 vi: "Bí mật trong cơ sở dữ liệu được niêm phong bằng khóa \(found.joined(separator: ", ")), không phải khóa đang cấu hình (\(expected)). Đặt đúng khóa vào GOVOFFICE_SECRETS_KEY (hoặc GOVOFFICE_SECRETS_KEY_FILE).",
                 en: "Secrets in the database were sealed with key \(found.joined(separator: ", ")), not with the configured key (\(expected)). Put the right key into GOVOFFICE_SECRETS_KEY (or GOVOFFICE_SECRETS_KEY_FILE).")
    }

    static let invalidKey = GovError(
        "secrets_key_invalid", .invalid,
        vi: "Khóa bí mật (GOVOFFICE_SECRETS_KEY) phải là base64 của đúng 32 byte.",
        en: "The secrets key (GOVOFFICE_SECRETS_KEY) must be the base64 of exactly 32 bytes.")

    static let malformed = GovError(
        "secret_unreadable", .conflict,
        vi: "Không mở được bí mật đã niêm phong: dữ liệu bị sửa, bị chép sang dòng khác hoặc không đúng định dạng.",
        en: "A sealed secret cannot be opened: it was altered, copied from another row, or is not in the sealed format.")

    private static func associatedData(_ context: String) -> Data { Data("govoffice-secret-v1\n\(context)".utf8) }

    private static func parts(_ text: String) -> (keyID: String, payload: Data)? {
        guard text.hasPrefix(prefix) else { return nil }
        let rest = text.dropFirst(prefix.count).split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        // 12-byte nonce + 16-byte tag at least.
        guard rest.count == 2, rest[0].count == 16, rest[0].allSatisfy(\.isHexDigit),
              let payload = Data(base64Encoded: String(rest[1])), payload.count >= 28 else { return nil }
        return (String(rest[0]), payload)
    }

    private static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
