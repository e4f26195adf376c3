import GovCore
import Testing

@Suite struct NetworkAddressTests {
    @Test(arguments: [
        ("127.0.0.1", AddressCategory.loopback), ("127.255.255.254", .loopback), ("::1", .loopback),
        ("[::1]", .loopback), ("::ffff:127.0.0.1", .loopback), ("::ffff:7f00:1", .loopback),
        ("10.0.0.5", .private), ("10.255.255.255", .private), ("172.16.0.1", .private), ("172.31.255.255", .private),
        ("192.168.1.1", .private), ("100.64.0.1", .private), ("100.127.255.255", .private),
        ("fc00::1", .private), ("fd12:3456:789a::1", .private), ("fec0::1", .private),
        ("::ffff:10.0.0.5", .private), ("::ffff:192.168.0.1", .private), ("64:ff9b::10.0.0.5", .private),
        ("2002:c0a8:0101::1", .private), ("::10.0.0.5", .private),
        ("169.254.169.254", .linkLocal), ("169.254.0.1", .linkLocal), ("fe80::1", .linkLocal), ("febf::1", .linkLocal),
        ("::ffff:169.254.169.254", .linkLocal), ("::ffff:a9fe:a9fe", .linkLocal), ("64:ff9b::a9fe:a9fe", .linkLocal),
        ("0.0.0.0", .unspecified), ("0.1.2.3", .unspecified), ("::", .unspecified), ("::ffff:0.0.0.0", .unspecified),
        ("224.0.0.1", .multicast), ("239.255.255.250", .multicast), ("ff02::1", .multicast),
        ("255.255.255.255", .broadcast), ("::ffff:255.255.255.255", .broadcast),
        ("240.0.0.1", .reserved), ("192.0.0.8", .reserved),
        ("203.0.113.7", .publicAddress), ("8.8.8.8", .publicAddress), ("172.32.0.1", .publicAddress),
        ("172.15.255.255", .publicAddress), ("100.128.0.1", .publicAddress), ("169.253.0.1", .publicAddress),
        ("192.169.0.1", .publicAddress), ("11.0.0.1", .publicAddress), ("2001:db8::1", .publicAddress),
        ("2a00:1450:4001::1", .publicAddress), ("::ffff:8.8.8.8", .publicAddress), ("fec0::1:2", .private),
    ])
    func categories(text: String, expected: AddressCategory) throws {
        let address = try #require(IPAddress(text), "\(text) parses")
        #expect(AddressPolicy.category(of: address) == expected, "\(text)")
        // Nothing but public addresses passes an empty policy.
        #expect((AddressPolicy().refusal(for: address) == nil) == (expected == .publicAddress), "\(text)")
    }

    @Test(arguments: ["", "localhost", "127.1", "0x7f000001", "2130706433", "1.2.3.4.5", "256.0.0.1", "01.2.3.4x",
                      "fe80::1%eth0", ":::", "[127.0.0.1", "1.2.3.4/8", "hooks.example.vn"])
    func notAnAddress(text: String) {
        #expect(IPAddress(text) == nil, "\(text)")
    }

    @Test func canonicalText() throws {
        #expect(try #require(IPAddress("[::FFFF:127.0.0.1]")).description == "::ffff:127.0.0.1")
        #expect(try #require(IPAddress("2001:0db8:0000::0001")).description == "2001:db8::1")
        #expect(try #require(IPAddress("203.0.113.7")).description == "203.0.113.7")
        #expect(try #require(IPAddress("::ffff:10.0.0.5")).embeddedIPv4 == IPAddress("10.0.0.5"))
        #expect(IPAddress("::1")?.embeddedIPv4 == nil)
        #expect(IPAddress("2001:db8::1")?.embeddedIPv4 == nil)
    }

    @Test func blocks() throws {
        let ten = try #require(CIDRBlock("10.1.2.3/8"))
        #expect(ten.description == "10.0.0.0/8")
        #expect(ten.contains(try #require(IPAddress("10.200.0.1"))))
        #expect(ten.contains(try #require(IPAddress("::ffff:10.200.0.1"))))
        #expect(!ten.contains(try #require(IPAddress("11.0.0.1"))))
        #expect(!ten.contains(try #require(IPAddress("fd00::1"))))
        let host = try #require(CIDRBlock("192.168.5.20"))
        #expect(host.prefixLength == 32)
        #expect(host.contains(try #require(IPAddress("192.168.5.20"))))
        #expect(!host.contains(try #require(IPAddress("192.168.5.21"))))
        let odd = try #require(CIDRBlock("172.16.0.0/12"))
        #expect(odd.contains(try #require(IPAddress("172.31.255.255"))))
        #expect(!odd.contains(try #require(IPAddress("172.32.0.0"))))
        let v6 = try #require(CIDRBlock("fd00:abcd::/32"))
        #expect(v6.contains(try #require(IPAddress("fd00:abcd:1::5"))))
        #expect(!v6.contains(try #require(IPAddress("fd00:abce::5"))))
        #expect(!v6.contains(try #require(IPAddress("10.0.0.1"))))
        let everything = try #require(CIDRBlock("0.0.0.0/0"))
        #expect(everything.contains(try #require(IPAddress("1.2.3.4"))))
    }

    @Test(arguments: ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0/8", "fd00::/129", "abc",
                      "10.0.0.0/8/8", "10.0.0.0/ 8", "/8"])
    func badBlocks(text: String) {
        #expect(CIDRBlock(text) == nil, "\(text)")
    }

    @Test func lists() throws {
        #expect(try CIDRBlock.parseList(" 10.0.0.0/8, ,fd00::/8 ,127.0.0.1 ").map(\.description)
            == ["10.0.0.0/8", "fd00::/8", "127.0.0.1/32"])
        #expect(try CIDRBlock.parseList("").isEmpty)
        #expect(throws: CIDRListError(entry: "10.0.0.0/40")) { try CIDRBlock.parseList("127.0.0.0/8,10.0.0.0/40") }
        #expect(throws: CIDRListError(entry: "intranet.gov.vn")) { try CIDRBlock.parseList("intranet.gov.vn") }
    }

    @Test func allowListOpensPrivateAndLoopbackButNeverBroadcast() throws {
        let policy = AddressPolicy(allowed: try CIDRBlock.parseList("127.0.0.0/8,10.20.0.0/16,fd00::/8,0.0.0.0/0"))
        #expect(policy.refusal(for: try #require(IPAddress("127.0.0.1"))) == nil)
        #expect(policy.refusal(for: try #require(IPAddress("::ffff:127.0.0.1"))) == nil)
        #expect(policy.refusal(for: try #require(IPAddress("10.20.1.1"))) == nil)
        #expect(policy.refusal(for: try #require(IPAddress("fd00::7"))) == nil)
        #expect(policy.refusal(for: try #require(IPAddress("::1"))) == .loopback)
        #expect(policy.refusal(for: try #require(IPAddress("0.0.0.0"))) == .unspecified)
        #expect(policy.refusal(for: try #require(IPAddress("255.255.255.255"))) == .broadcast)
        #expect(policy.refusal(for: try #require(IPAddress("224.0.0.1"))) == .multicast)
        let narrow = AddressPolicy(allowed: try CIDRBlock.parseList("10.20.0.0/16"))
        #expect(narrow.refusal(for: try #require(IPAddress("10.21.0.1"))) == .private)
        #expect(narrow.refusal(for: try #require(IPAddress("169.254.169.254"))) == .linkLocal)
        #expect(narrow.refusal(for: try #require(IPAddress("::ffff:10.21.0.1"))) == .private)
    }

    @Test func ownAddressesRefusedUnlessListed() throws {
        let own = try #require(IPAddress("203.0.113.10"))
        let policy = AddressPolicy(ownAddresses: [own])
        #expect(policy.refusal(for: own) == .own)
        #expect(policy.refusal(for: try #require(IPAddress("::ffff:203.0.113.10"))) == .own)
        #expect(policy.refusal(for: try #require(IPAddress("203.0.113.11"))) == nil)
        let opened = AddressPolicy(allowed: [try #require(CIDRBlock("203.0.113.10/32"))], ownAddresses: [own])
        #expect(opened.refusal(for: own) == nil)
    }
}
