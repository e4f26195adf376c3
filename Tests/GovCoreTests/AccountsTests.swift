import Foundation
import GovCore
import Testing

@Suite struct UsernameTests {
    @Test(arguments: [
        ("  Nguyen.Van.A ", "nguyen.van.a"), ("abc", "abc"), ("A_B-C.9", "a_b-c.9"),
        (String(repeating: "x", count: 64), String(repeating: "x", count: 64)),
    ])
    func normalizes(raw: String, expected: String) throws {
        #expect(try Username.normalize(raw) == expected)
    }

    @Test(arguments: [
        "", "  ", "ab", " ab ", String(repeating: "x", count: 65), "nguyễn", "a b c", "user@gov", "tên",
        "İstanbul", "ａｂｃ", "abc\u{0}", "abc/def", "a\u{200B}bc",
    ])
    func rejects(raw: String) {
        #expect(thrownCode { try Username.normalize(raw) } == "username_invalid")
    }
}

@Suite struct PasswordPolicyTests {
    @Test(arguments: ["abcdefghi1", "Mậtkhẩu2025", " spaces ok 1 ", String(repeating: "a", count: 127) + "1"])
    func accepts(password: String) {
        #expect(thrownCode { try PasswordPolicy.check(password) } == nil)
    }

    @Test(arguments: [
        "", "abc1", "abcdefgh1", "abcdefghij", "1234567890", "!!!!!!!!!!!", String(repeating: "a", count: 128) + "1",
        "１２３４５６７８９abc",
    ])
    func rejects(password: String) {
        #expect(thrownCode { try PasswordPolicy.check(password) } == "password_weak")
    }

    @Test func messageStatesTheRule() {
        do {
            try PasswordPolicy.check("short")
            Issue.record("expected an error")
        } catch {
            #expect(error.en.contains("10") && error.en.contains("128") && error.en.contains("digit"))
            #expect(error.vi.contains("10") && error.vi.contains("chữ số"))
            #expect(error.kind == .invalid)
        }
    }
}

@Suite struct EmailAddressTests {
    @Test(arguments: ["a@b.vn", "van.thu@hanoi.gov.vn", "x+tag@sub.domain.com"])
    func plausible(address: String) {
        #expect(EmailAddress.isPlausible(address))
    }

    @Test(arguments: [
        "", "plain", "@gov.vn", "a@", "a@localhost", "a@@gov.vn", "a@b@gov.vn", "a b@gov.vn", "a@gov .vn",
        "a@.vn", "a@gov.", "a@gov..vn", "a@gov.vn\n", "\ta@gov.vn", String(repeating: "a", count: 250) + "@b.vn",
    ])
    func implausible(address: String) {
        #expect(!EmailAddress.isPlausible(address))
    }
}

@Suite struct LoginThrottlePolicyTests {
    @Test func defaults() {
        let policy = LoginThrottlePolicy()
        #expect(policy == LoginThrottlePolicy(maxFailures: 5, baseLockSeconds: 60, maxLockSeconds: 3600))
        #expect(policy.lockSeconds(afterFailures: 0) == nil)
        #expect(policy.lockSeconds(afterFailures: 4) == nil)
        #expect(policy.lockSeconds(afterFailures: 5) == 60)
        #expect(policy.lockSeconds(afterFailures: 6) == 120)
        #expect(policy.lockSeconds(afterFailures: 7) == 240)
        #expect(policy.lockSeconds(afterFailures: 10) == 1920)
        #expect(policy.lockSeconds(afterFailures: 11) == 3600)
        #expect(policy.lockSeconds(afterFailures: 12) == 3600)
    }

    @Test(arguments: [63, 64, 65, 1_000, Int.max])
    func hugeCountsSaturate(failures: Int) {
        #expect(LoginThrottlePolicy().lockSeconds(afterFailures: failures) == 3600)
    }

    @Test func negativeCountsNeverLock() {
        #expect(LoginThrottlePolicy().lockSeconds(afterFailures: -1) == nil)
        #expect(LoginThrottlePolicy().lockSeconds(afterFailures: Int.min) == nil)
    }

    @Test func oddConfigurationsStayInRange() {
        let hugeBase = LoginThrottlePolicy(maxFailures: 1, baseLockSeconds: Int.max, maxLockSeconds: Int.max)
        #expect(hugeBase.lockSeconds(afterFailures: 3) == Int.max)
        let negative = LoginThrottlePolicy(maxFailures: Int.min, baseLockSeconds: -5, maxLockSeconds: 100)
        #expect(negative.lockSeconds(afterFailures: Int.max) == 0)
        let lowCap = LoginThrottlePolicy(maxFailures: 3, baseLockSeconds: 60, maxLockSeconds: 30)
        #expect(lowCap.lockSeconds(afterFailures: 3) == 30)
    }
}
