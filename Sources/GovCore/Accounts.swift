import Foundation

/// Login names. One canonical form per person, so `Nguyen.Van.A ` and `nguyen.van.a` are the same account.
public enum Username {
    /// The canonical username: trimmed and lowercased, 3–64 characters of `a-z 0-9 . _ -`.
    ///
    /// Throws `.invalid` error `username_invalid` otherwise (e.g. spaces inside or Vietnamese letters,
    /// which would make names that look alike but differ).
    public static func normalize(_ raw: String) throws(GovError) -> String {
        let candidate = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let scalars = candidate.unicodeScalars
        let allowed = scalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "0"..."9", ".", "_", "-": return true
            default: return false
            }
        }
        guard allowed, (3...64).contains(scalars.count) else {
            throw GovError(
                "username_invalid", .invalid,
                vi: "Tên đăng nhập phải dài 3–64 ký tự, chỉ gồm chữ cái không dấu, chữ số và . _ -",
                en: "The username must be 3–64 characters of letters a–z, digits and . _ -"
            )
        }
        return candidate
    }
}

/// The minimum strength rule for passwords people choose.
public enum PasswordPolicy {
    /// Fewest characters accepted.
    public static let minLength = 10
    /// Most characters accepted, so hashing cost stays bounded.
    public static let maxLength = 128

    /// Accepts 10–128 characters containing at least one letter (any script) and one digit 0–9.
    ///
    /// The password is checked exactly as given (never trimmed). Throws `.invalid` error `password_weak`
    /// whose messages state the rule.
    public static func check(_ password: String) throws(GovError) {
        let length = password.count
        let hasLetter = password.contains { $0.isLetter }
        let hasDigit = password.unicodeScalars.contains { ("0"..."9").contains($0) }
        guard (minLength...maxLength).contains(length), hasLetter, hasDigit else {
            throw GovError(
                "password_weak", .invalid,
                vi: "Mật khẩu phải dài từ \(minLength) đến \(maxLength) ký tự, có ít nhất một chữ cái và một chữ số.",
                en: "The password must be \(minLength) to \(maxLength) characters long and contain at least one letter and one digit."
            )
        }
    }
}

/// A cheap sanity check for e-mail addresses; deliverability is only proven by sending mail.
public enum EmailAddress {
    /// True for `local@domain.tld`-like text: exactly one `@`, a non-empty local part, a domain with a dot
    /// between non-empty labels, no whitespace or control characters, at most 254 characters.
    public static func isPlausible(_ s: String) -> Bool {
        guard !s.isEmpty, s.unicodeScalars.count <= 254 else { return false }
        guard !s.unicodeScalars.contains(where: {
            $0.properties.isWhitespace || $0.properties.generalCategory == .control
        }) else { return false }
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { return false }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { !$0.isEmpty }
    }
}

/// How long an account is locked after repeated failed logins: doubling lock times deter guessing
/// without locking out a person who mistypes a few times.
public struct LoginThrottlePolicy: Sendable, Equatable {
    /// Failures tolerated before the first lock.
    public var maxFailures: Int
    /// Length of the first lock, in seconds.
    public var baseLockSeconds: Int
    /// Longest lock, in seconds, however many failures follow.
    public var maxLockSeconds: Int

    /// Creates a policy; the defaults are 5 failures, a 60-second first lock, at most one hour.
    public init(maxFailures: Int = 5, baseLockSeconds: Int = 60, maxLockSeconds: Int = 3600) {
        self.maxFailures = maxFailures
        self.baseLockSeconds = baseLockSeconds
        self.maxLockSeconds = maxLockSeconds
    }

    /// Seconds to lock after `failures` consecutive failures, or nil while below ``maxFailures``.
    ///
    /// From ``maxFailures`` on, the lock is `baseLockSeconds × 2^(failures − maxFailures)`, capped at
    /// ``maxLockSeconds`` and never negative; huge counts saturate at the cap instead of overflowing.
    public func lockSeconds(afterFailures failures: Int) -> Int? {
        guard failures >= maxFailures else { return nil }
        let cap = max(0, maxLockSeconds)
        let base = max(0, baseLockSeconds)
        let (exponent, overflow) = failures.subtractingReportingOverflow(maxFailures)
        if overflow || exponent >= Int.bitWidth - 2 {
            return base == 0 ? 0 : cap
        }
        let (value, multiplyOverflow) = base.multipliedReportingOverflow(by: 1 << exponent)
        if multiplyOverflow { return cap }
        return min(value, cap)
    }
}
