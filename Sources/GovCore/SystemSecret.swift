import Crypto
import Foundation

/// Credentials of agency systems calling machine-to-machine APIs.
///
/// Only the hash is stored; the secret is shown once at creation. A fast hash is enough because
/// secrets are 256-bit random, not guessable passwords.
public enum SystemSecret {
    /// A new secret: `gos_` followed by 43 base64url characters encoding 32 random bytes (no padding).
    ///
    /// The prefix makes leaked secrets recognisable by secret scanners.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let base64url = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "gos_" + base64url
    }

    /// The value to store: lowercase hex SHA-256 of the secret's UTF-8 bytes (64 characters).
    public static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Whether `secret` is the one whose ``hash(_:)`` is `storedHash` (hex, either case).
    ///
    /// The digests are compared in constant time, so response timing reveals nothing about the stored hash.
    /// A malformed stored hash never matches.
    public static func matches(_ secret: String, storedHash: String) -> Bool {
        guard let stored = decodeHex(storedHash), stored.count == SHA256.byteCount else { return false }
        return SHA256.hash(data: Data(secret.utf8)) == stored
    }

    /// The system identifier an agency chose, trimmed: 3–64 characters of `a-z A-Z 0-9 . _ -`.
    ///
    /// Throws `.invalid` error `system_id_invalid` otherwise.
    public static func validateSystemID(_ raw: String) throws(GovError) -> String {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        let scalars = trimmed.unicodeScalars
        let allowed = scalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": return true
            default: return false
            }
        }
        guard allowed, (3...64).contains(scalars.count) else {
            throw GovError(
                "system_id_invalid", .invalid,
                vi: "Mã hệ thống phải dài 3–64 ký tự, chỉ gồm chữ cái không dấu, chữ số và . _ -",
                en: "The system ID must be 3–64 characters of letters, digits and . _ -"
            )
        }
        return trimmed
    }

    private static func decodeHex(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
