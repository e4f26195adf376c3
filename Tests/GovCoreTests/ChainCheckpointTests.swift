import Foundation
import GovCore
import Testing

@Suite struct ChainCheckpointTests {
    static let hash = String(repeating: "ab", count: 32)
    static let checkpoint = ChainCheckpoint(chain: "audit", seq: 12, hash: hash, atMillis: 1_795_421_700_000, node: "hub-1-77")

    @Test func agreesWithTheSameHead() {
        #expect(Self.checkpoint.compare(chainLength: 12, recordHash: Self.hash) == nil)
        #expect(Self.checkpoint.compare(chainLength: 40, recordHash: Self.hash) == nil)
    }

    @Test func aShorterChainIsACutTail() {
        #expect(Self.checkpoint.compare(chainLength: 11, recordHash: nil) == .chainShorter(checkpointSeq: 12, chainLength: 11))
        #expect(Self.checkpoint.compare(chainLength: 0, recordHash: nil)?.message.contains("chain shorter than checkpoint 12") == true)
    }

    @Test func anotherHashIsARecomputedChain() {
        let other = String(repeating: "cd", count: 32)
        #expect(Self.checkpoint.compare(chainLength: 12, recordHash: other) == .hashDiffers(seq: 12))
        #expect(Self.checkpoint.compare(chainLength: 20, recordHash: nil) == .hashDiffers(seq: 12))
    }

    @Test func signedBytesBindEveryField() {
        var moved = Self.checkpoint
        moved.seq = 11
        #expect(moved.signedBytes != Self.checkpoint.signedBytes)
        var renamed = Self.checkpoint
        renamed.chain = "evidence"
        #expect(renamed.signedBytes != Self.checkpoint.signedBytes)
        #expect(String(decoding: Self.checkpoint.signedBytes, as: UTF8.self)
            == "govoffice-checkpoint-v1\naudit\n12\n\(Self.hash)\n1795421700000\nhub-1-77\n")
    }

    @Test func onlyWellFormedFilesAreRead() throws {
        let stored = SignedCheckpoint(checkpoint: Self.checkpoint, cms: [1, 2, 3])
        let data = try stored.encoded()
        #expect(SignedCheckpoint.decode(data) == stored)
        #expect(SignedCheckpoint.decode(Data("{}".utf8)) == nil)
        var injected = stored
        injected.checkpoint.node = "a\nb"
        #expect(SignedCheckpoint.decode(try injected.encoded()) == nil)
        var shortHash = stored
        shortHash.checkpoint.hash = "abc"
        #expect(SignedCheckpoint.decode(try shortHash.encoded()) == nil)
        var otherFormat = stored
        otherFormat.format = "govoffice-checkpoint-v0"
        #expect(SignedCheckpoint.decode(try otherFormat.encoded()) == nil)
    }
}
