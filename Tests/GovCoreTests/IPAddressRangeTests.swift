import GovCore
import Testing

@Suite struct IPAddressRangeTests {
    @Test func readsRangesAndSingleAddresses() throws {
        let net = try #require(IPAddressRange("10.1.2.3/8"))
        #expect(net.description == "10.0.0.0/8")
        #expect(net.contains("10.255.0.1"))
        #expect(!net.contains("11.0.0.1"))
        let one = try #require(IPAddressRange("192.0.2.7"))
        #expect(one.prefixLength == 32 && one.contains("192.0.2.7") && !one.contains("192.0.2.8"))
        let v6 = try #require(IPAddressRange("2001:db8::/32"))
        #expect(v6.contains("2001:db8:ffff::1") && !v6.contains("2001:db9::1"))
        #expect(IPAddressRange("::1")?.contains("::1") == true)
        #expect(IPAddressRange("0.0.0.0/0")?.contains("203.0.113.9") == true)
    }

    @Test func refusesWhatIsNotARange() {
        for bad in ["", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "10.0.0", "999.1.1.1",
                    "localhost", "10.0.0.0/ 8", "1.2.3.4/+8"] {
            #expect(IPAddressRange(bad) == nil, "\(bad)")
        }
        #expect(IPAddressRange.parseList("127.0.0.0/8, ::1")?.count == 2)
        #expect(IPAddressRange.parseList("127.0.0.0/8, nonsense") == nil)
    }

    @Test func anIPv4MappedPeerMatchesIPv4Ranges() {
        #expect(IPAddressRange("127.0.0.0/8")?.contains("::ffff:127.0.0.1") == true)
        #expect(IPAddressRange("127.0.0.0/8")?.contains("::ffff:10.0.0.1") == false)
        #expect(IPAddressRange("10.0.0.0/8")?.contains("fe80::1%eth0") == false)
    }
}

@Suite struct ForwardedClientTests {
    let loopback = IPAddressRange.loopback

    @Test func aSpoofedLeftMostEntryIsNotTheClient() {
        // The client wrote "1.2.3.4"; nginx on loopback appended the address it saw.
        #expect(ForwardedClient.address(peer: "127.0.0.1", forwardedFor: ["1.2.3.4, 198.51.100.9"], trusted: loopback)
                == "198.51.100.9")
        #expect(ForwardedClient.address(peer: "127.0.0.1", forwardedFor: ["1.2.3.4", "198.51.100.9"], trusted: loopback)
                == "198.51.100.9")
    }

    @Test func trustedHopsAreSkippedFromTheRight() throws {
        let trusted = try #require(IPAddressRange.parseList("127.0.0.0/8,10.0.0.0/8"))
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
