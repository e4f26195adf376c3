import Foundation
import GovCore
import Testing

@Suite struct AuditChainTests {
    static func draft(_ i: Int) -> AuditDraft {
        AuditDraft(
            atMillis: 1_750_000_000_000 + Int64(i),
            actor: i % 3 == 0 ? "system" : "nguyen.van.\(i)",
            agencyCode: i % 2 == 0 ? "000.00.00.G22" : nil,
            action: "user.update",
            entityType: "user",
            entityID: i % 5 == 0 ? nil : "id-\(i)",
            details: #"{"ghi_chú":"Cập nhật \#(i)"}"#,
            ip: i % 4 == 0 ? nil : "10.0.0.\(i % 255)",
            requestID: "req-\(i)"
        )
    }

    static func chain(_ count: Int) -> [AuditEntry] {
        var entries: [AuditEntry] = []
        var prev = AuditChain.genesisHash
        for i in 1...count {
            let entry = AuditChain.seal(draft(i), seq: Int64(i), prevHash: prev)
            entries.append(entry)
            prev = entry.hash
        }
        return entries
    }

    static func verify(_ entries: [AuditEntry], headSeq: Int64, headHash: String) -> (AuditBreak?, Int) {
        var verifier = AuditChainVerifier()
        for entry in entries {
            if let found = verifier.feed(entry) {
                return (found, verifier.verifiedCount)
            }
        }
        return (verifier.finish(headSeq: headSeq, headHash: headHash), verifier.verifiedCount)
    }

    @Test func genesis() {
        #expect(AuditChain.genesisHash == String(repeating: "0", count: 64))
    }

    @Test func sealFillsEntry() {
        let entry = AuditChain.seal(Self.draft(1), seq: 1, prevHash: AuditChain.genesisHash)
        #expect(entry.seq == 1)
        #expect(entry.prevHash == AuditChain.genesisHash)
        #expect(entry.draft == Self.draft(1))
        #expect(entry.hash.count == 64)
        #expect(entry.hash.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(AuditChain.recomputedHash(of: entry) == entry.hash)
    }

    @Test func draftDefaults() {
        let d = AuditDraft(atMillis: 1, actor: "a", action: "b", entityType: "c")
        #expect(d.details == "{}")
        #expect(d.agencyCode == nil && d.entityID == nil && d.ip == nil && d.requestID == nil)
    }

    @Test func hashIsDeterministicAndCoversEveryField() {
        let base = Self.draft(7)
        let h = AuditChain.computeHash(seq: 7, draft: base, prevHash: AuditChain.genesisHash)
        #expect(AuditChain.computeHash(seq: 7, draft: base, prevHash: AuditChain.genesisHash) == h)
        var variants: [AuditDraft] = []
        var d = base; d.atMillis += 1; variants.append(d)
        d = base; d.actor += "x"; variants.append(d)
        d = base; d.agencyCode = "H01"; variants.append(d)
        d = base; d.action = "user.delete"; variants.append(d)
        d = base; d.entityType = "agency"; variants.append(d)
        d = base; d.entityID = "other"; variants.append(d)
        d = base; d.details = "{}"; variants.append(d)
        d = base; d.ip = "10.0.0.8"; variants.append(d)
        d = base; d.requestID = nil; variants.append(d)
        for variant in variants {
            #expect(AuditChain.computeHash(seq: 7, draft: variant, prevHash: AuditChain.genesisHash) != h)
        }
        #expect(AuditChain.computeHash(seq: 8, draft: base, prevHash: AuditChain.genesisHash) != h)
        #expect(AuditChain.computeHash(seq: 7, draft: base, prevHash: String(repeating: "1", count: 64)) != h)
    }

    @Test func nilDiffersFromEmpty() {
        let none = AuditDraft(atMillis: 1, actor: "a", agencyCode: nil, action: "x", entityType: "y")
        let empty = AuditDraft(atMillis: 1, actor: "a", agencyCode: "", action: "x", entityType: "y")
        #expect(AuditChain.computeHash(seq: 1, draft: none, prevHash: AuditChain.genesisHash)
            != AuditChain.computeHash(seq: 1, draft: empty, prevHash: AuditChain.genesisHash))
        let noIP = AuditDraft(atMillis: 1, actor: "a", action: "x", entityType: "y", ip: nil)
        let emptyIP = AuditDraft(atMillis: 1, actor: "a", action: "x", entityType: "y", ip: "")
        #expect(AuditChain.computeHash(seq: 1, draft: noIP, prevHash: AuditChain.genesisHash)
            != AuditChain.computeHash(seq: 1, draft: emptyIP, prevHash: AuditChain.genesisHash))
    }

    @Test func separatorsCannotForgeACollision() {
        // Each pair joins to the same text with the given separator, so a naive encoding would collide.
        let pairs: [(String, AuditDraft, AuditDraft)] = [
            ("|", AuditDraft(atMillis: 1, actor: "Nguyễn|Văn", action: "A", entityType: "B"),
                  AuditDraft(atMillis: 1, actor: "Nguyễn", action: "Văn|A", entityType: "B")),
            (":", AuditDraft(atMillis: 1, actor: "a:b", action: "c", entityType: "d"),
                  AuditDraft(atMillis: 1, actor: "a", action: "b:c", entityType: "d")),
            ("\n", AuditDraft(atMillis: 1, actor: "x", action: "Đăng\nnhập", entityType: "user"),
                   AuditDraft(atMillis: 1, actor: "x\nĐăng", action: "nhập", entityType: "user")),
            ("", AuditDraft(atMillis: 1, actor: "x", action: "a", entityType: "b", entityID: "c", details: ""),
                 AuditDraft(atMillis: 1, actor: "x", action: "a", entityType: "b", entityID: "", details: "c")),
            ("", AuditDraft(atMillis: 12, actor: "3", action: "a", entityType: "b"),
                 AuditDraft(atMillis: 1, actor: "23", action: "a", entityType: "b")),
        ]
        func naive(_ d: AuditDraft, _ separator: String) -> String {
            [String(d.atMillis), d.actor, d.action, d.entityType, d.entityID ?? "", d.details].joined(separator: separator)
        }
        for (separator, a, b) in pairs {
            #expect(a != b)
            #expect(naive(a, separator) == naive(b, separator))
            #expect(AuditChain.computeHash(seq: 1, draft: a, prevHash: AuditChain.genesisHash)
                != AuditChain.computeHash(seq: 1, draft: b, prevHash: AuditChain.genesisHash))
        }
    }

    @Test func cleanChainOfThousandVerifies() {
        let entries = Self.chain(1_000)
        let (found, count) = Self.verify(entries, headSeq: 1_000, headHash: entries.last!.hash)
        #expect(found == nil)
        #expect(count == 1_000)
    }

    @Test func emptyChainVerifies() {
        var verifier = AuditChainVerifier()
        #expect(verifier.finish(headSeq: 0, headHash: AuditChain.genesisHash) == nil)
        #expect(verifier.verifiedCount == 0)
    }

    @Test func emptyChainWithHeadIsDeleted() {
        var verifier = AuditChainVerifier()
        let found = verifier.finish(headSeq: 3, headHash: String(repeating: "a", count: 64))
        #expect(found?.kind == .deleted)
        #expect(found?.seq == 1)
    }

    @Test(arguments: ["actor", "agencyCode", "details", "ip", "atMillis", "entityID", "requestID", "action"])
    func changedFieldIsAltered(field: String) {
        var entries = Self.chain(50)
        switch field {
        case "actor": entries[20].actor = "ke.gian"
        case "agencyCode": entries[20].agencyCode = entries[20].agencyCode == nil ? "X" : nil
        case "details": entries[20].details = "{}"
        case "ip": entries[20].ip = "1.2.3.4"
        case "atMillis": entries[20].atMillis -= 1
        case "entityID": entries[20].entityID = "forged"
        case "requestID": entries[20].requestID = nil
        default: entries[20].action = "user.view"
        }
        let (found, count) = Self.verify(entries, headSeq: 50, headHash: entries.last!.hash)
        #expect(found?.kind == .altered)
        #expect(found?.seq == 21)
        #expect(count == 20)
        #expect(found?.en.contains("21") == true)
        #expect(found?.vi.contains("21") == true)
    }

    @Test func forgedHashIsCaughtByTheNextLink() {
        // Re-hashing an edited entry keeps it self-consistent, but its successor no longer links to it.
        var entries = Self.chain(10)
        var edited = entries[4].draft
        edited.actor = "ke.gian"
        entries[4] = AuditChain.seal(edited, seq: 5, prevHash: entries[3].hash)
        let (found, _) = Self.verify(entries, headSeq: 10, headHash: entries.last!.hash)
        #expect(found?.kind == .reordered)
        #expect(found?.seq == 6)
    }

    @Test func deletedMiddleEntry() {
        var entries = Self.chain(100)
        entries.remove(at: 41)
        let (found, count) = Self.verify(entries, headSeq: 100, headHash: entries.last!.hash)
        #expect(found == AuditBreak(.deleted, seq: 42))
        #expect(count == 41)
    }

    @Test func deletedTailIsFoundByFinish() {
        let full = Self.chain(100)
        let truncated = Array(full.prefix(97))
        var verifier = AuditChainVerifier()
        for entry in truncated {
            #expect(verifier.feed(entry) == nil)
        }
        let found = verifier.finish(headSeq: 100, headHash: full.last!.hash)
        #expect(found?.kind == .deleted)
        #expect(found?.seq == 98)
        #expect(verifier.verifiedCount == 97)
    }

    @Test func headNotMatchingLastEntryIsAltered() {
        let entries = Self.chain(10)
        let (found, _) = Self.verify(entries, headSeq: 10, headHash: entries[8].hash)
        #expect(found?.kind == .altered)
        #expect(found?.seq == 10)
    }

    @Test func entriesBeyondHeadAreAltered() {
        let entries = Self.chain(10)
        let (found, _) = Self.verify(entries, headSeq: 8, headHash: entries[7].hash)
        #expect(found?.kind == .altered)
        #expect(found?.seq == 9)
    }

    @Test func swappedOrderIsDetected() {
        var entries = Self.chain(20)
        entries.swapAt(9, 10)
        let (found, _) = Self.verify(entries, headSeq: 20, headHash: entries.last!.hash)
        // seq 11 arrives where 10 is expected: by the rules that is a gap at 10.
        #expect(found == AuditBreak(.deleted, seq: 10))
    }

    @Test func swappedContentWithRenumberingIsReordered() {
        // An attacker swaps two records' content and re-seals both under the swapped seqs.
        var entries = Self.chain(20)
        let a = entries[9], b = entries[10]
        entries[9] = AuditChain.seal(b.draft, seq: 10, prevHash: b.prevHash)
        entries[10] = AuditChain.seal(a.draft, seq: 11, prevHash: a.prevHash)
        let (found, _) = Self.verify(entries, headSeq: 20, headHash: entries.last!.hash)
        #expect(found?.kind == .reordered)
        #expect(found?.seq == 10)
    }

    @Test func repeatedSeqIsReordered() {
        var entries = Self.chain(5)
        entries.insert(entries[2], at: 3)
        let (found, _) = Self.verify(entries, headSeq: 5, headHash: entries.last!.hash)
        #expect(found == AuditBreak(.reordered, seq: 3))
    }

    @Test func chainNotStartingAtGenesisIsReordered() {
        let entry = AuditChain.seal(Self.draft(1), seq: 1, prevHash: String(repeating: "f", count: 64))
        var verifier = AuditChainVerifier()
        #expect(verifier.feed(entry) == AuditBreak(.reordered, seq: 1))
    }

    @Test func firstBreakSticks() {
        var entries = Self.chain(10)
        entries[2].actor = "x"
        var verifier = AuditChainVerifier()
        var breaks: [AuditBreak] = []
        for entry in entries {
            if let found = verifier.feed(entry) { breaks.append(found) }
        }
        #expect(breaks.count == 8)
        #expect(Set(breaks.map(\.seq)) == [3])
        #expect(verifier.finish(headSeq: 10, headHash: entries.last!.hash) == AuditBreak(.altered, seq: 3))
        #expect(verifier.verifiedCount == 2)
    }

    @Test func finishResultSticks() {
        var verifier = AuditChainVerifier()
        let first = verifier.finish(headSeq: 2, headHash: AuditChain.genesisHash)
        #expect(first == AuditBreak(.deleted, seq: 1))
        #expect(verifier.feed(Self.chain(1)[0]) == first)
    }

    @Test func entryIsCodable() throws {
        let entry = Self.chain(3)[2]
        let decoded = try JSONDecoder().decode(AuditEntry.self, from: JSONEncoder().encode(entry))
        #expect(decoded == entry)
        #expect(AuditChain.recomputedHash(of: decoded) == entry.hash)
    }

    @Test func breakMessagesDifferByKind() {
        let messages = AuditBreak.Kind.allCases.map { AuditBreak($0, seq: 7).en }
        #expect(Set(messages).count == 3)
        #expect(messages.allSatisfy { $0.contains("7") })
        #expect(AuditBreak(.deleted, seq: 7).message(in: .vi).contains("7"))
    }
}
