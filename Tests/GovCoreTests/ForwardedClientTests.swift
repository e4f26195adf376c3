import GovCore
import Testing

/// The trusted-proxy list is read with the same CIDRBlock as the webhook allow-list; these are the forms
/// GOVOFFICE_TRUSTED_PROXIES meets.
@Suite struct TrustedProxyListTests {
    func contains(_ block: String, _ address: String) -> Bool {
        guard let block = CIDRBlock(block), let address = IPAddress(address) else { return false }
        return block.contains(address)
    }

    @Test func readsRangesAndSingleAddresses() throws {
        #expect(CIDRBlock("10.1.2.3/8")?.description == "10.0.0.0/8")
        #expect(contains("10.0.0.0/8", "10.255.0.1") && !contains("10.0.0.0/8", "11.0.0.1"))
        #expect(contains("192.0.2.7", "192.0.2.7") && !contains("192.0.2.7", "192.0.2.8"))
        #expect(contains("2001:db8::/32", "2001:db8:ffff::1") && !contains("2001:db8::/32", "2001:db9::1"))
        #expect(contains("::1", "::1") && contains("0.0.0.0/0", "203.0.113.9"))
    }

    @Test func refusesWhatIsNotARange() {
        for bad in ["", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "10.0.0", "999.1.1.1",
                    "localhost", "10.0.0.0/ 8", "1.2.3.4/+8"] {
            #expect(CIDRBlock(bad) == nil, "\(bad)")
        }
        #expect((try? CIDRBlock.parseList("127.0.0.0/8, ::1"))?.count == 2)
        #expect((try? CIDRBlock.parseList("127.0.0.0/8, nonsense")) == nil)
    }

    @Test func anIPv4MappedPeerMatchesIPv4Ranges() {
        #expect(contains("127.0.0.0/8", "::ffff:127.0.0.1"))
        #expect(!contains("127.0.0.0/8", "::ffff:10.0.0.1"))
        #expect(!contains("10.0.0.0/8", "fe80::1%eth0"))
    }
}

@Suite struct ForwardedClientTests {
    let loopback = ForwardedClient.loopback

    @Test func aSpoofedLeftMostEntryIsNotTheClient() {
        // The client wrote "1.2.3.4"; nginx on loopback appended the address it saw.
        #expect(ForwardedClient.address(peer: "127.0.0.1", forwardedFor: ["1.2.3.4, 198.51.100.9"], trusted: loopback)
                == "198.51.100.9")
        #expect(ForwardedClient.address(peer: "127.0.0.1", forwardedFor: ["1.2.3.4", "198.51.100.9"], trusted: loopback)
                == "198.51.100.9")
    }

    @Test func trustedHopsAreSkippedFromTheRight() throws {
        let trusted = try CIDRBlock.parseList("127.0.0.0/8,10.0.0.0/8")
        // A load balancer (10.0.0.5) in front of nginx (loopback).
        #expect(ForwardedClient.address(peer: "127.0.0.1", forwardedFor: ["6.6.6.6, 203.0.113.7, 10.0.0.5"], trusted: trusted)
                == "203.0.113.7")
    }

    @Test func anUntrustedPeerIsTheClientWhateverTheHeaderSays() {
        #expect(ForwardedClient.address(peer: "203.0.113.50", forwardedFor: ["198.51.100.9"], trusted: loopback)
                == "203.0.113.50")
    }

    @Test func withoutAHeaderOrWithGarbageThePeerOrLastTrustedHopIsTheClient() {
        #expect(ForwardedClient.address(peer: "127.0.0.1", forwardedFor: [], trusted: loopback) == "127.0.0.1")
        #expect(ForwardedClient.address(peer: "127.0.0.1", forwardedFor: ["evil, 127.0.0.2"], trusted: loopback)
                == "127.0.0.2")
        #expect(ForwardedClient.address(peer: nil, forwardedFor: ["198.51.100.9"], trusted: loopback) == nil)
    }
}
