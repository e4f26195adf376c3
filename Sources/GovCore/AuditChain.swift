import Crypto
import Foundation

/// An audit event before it is sealed into the chain.
public struct AuditDraft: Sendable, Equatable {
    /// When it happened, in milliseconds since 1970-01-01T00:00:00Z.
    public var atMillis: Int64
    /// Who did it (a username, a system ID, or `system` for the platform itself).
    public var actor: String
    /// The agency on whose behalf it was done, if any; lets agency admins read their own slice of the log.
    public var agencyCode: String?
    /// What was done, e.g. `user.create`.
    public var action: String
    /// The kind of thing acted on, e.g. `user`.
    public var entityType: String
    /// The identifier of the thing acted on, if there is one.
    public var entityID: String?
    /// Extra facts as a JSON text; hashed byte for byte, so it must be stored unchanged.
    public var details: String
    /// The client's IP address, if the event came from a request.
    public var ip: String?
    /// The request's correlation ID, if any.
    public var requestID: String?

    /// Creates a draft; `details` defaults to the empty JSON object.
    public init(
        atMillis: Int64,
        actor: String,
        agencyCode: String? = nil,
        action: String,
        entityType: String,
        entityID: String? = nil,
        details: String = "{}",
        ip: String? = nil,
        requestID: String? = nil
    ) {
        self.atMillis = atMillis
        self.actor = actor
        self.agencyCode = agencyCode
        self.action = action
        self.entityType = entityType
        self.entityID = entityID
        self.details = details
        self.ip = ip
        self.requestID = requestID
    }
}

/// A sealed audit record as stored: the draft's fields plus its place in the chain.
///
/// Every text field takes part in the hash byte for byte (no Unicode normalisation), so storage must
/// return exactly what was written.
public struct AuditEntry: Sendable, Equatable, Codable {
    /// Position in the chain, starting at 1 with no gaps.
    public var seq: Int64
    /// See ``AuditDraft/atMillis``.
    public var atMillis: Int64
    /// See ``AuditDraft/actor``.
    public var actor: String
    /// See ``AuditDraft/agencyCode``.
    public var agencyCode: String?
    /// See ``AuditDraft/action``.
    public var action: String
    /// See ``AuditDraft/entityType``.
    public var entityType: String
    /// See ``AuditDraft/entityID``.
    public var entityID: String?
    /// See ``AuditDraft/details``.
    public var details: String
    /// See ``AuditDraft/ip``.
    public var ip: String?
    /// See ``AuditDraft/requestID``.
    public var requestID: String?
    /// The previous entry's ``hash`` (``AuditChain/genesisHash`` for seq 1).
    public var prevHash: String
    /// ``AuditChain/computeHash(seq:draft:prevHash:)`` of this entry.
    public var hash: String

    /// Creates an entry from stored columns; nothing is checked here, that is the verifier's job.
    public init(
        seq: Int64,
        atMillis: Int64,
        actor: String,
        agencyCode: String?,
        action: String,
        entityType: String,
        entityID: String?,
        details: String,
        ip: String?,
        requestID: String?,
        prevHash: String,
        hash: String
    ) {
        self.seq = seq
        self.atMillis = atMillis
        self.actor = actor
        self.agencyCode = agencyCode
        self.action = action
        self.entityType = entityType
        self.entityID = entityID
        self.details = details
        self.ip = ip
        self.requestID = requestID
        self.prevHash = prevHash
        self.hash = hash
    }

    /// The event fields of this entry, without its chain position.
    public var draft: AuditDraft {
        AuditDraft(
            atMillis: atMillis, actor: actor, agencyCode: agencyCode, action: action,
            entityType: entityType, entityID: entityID, details: details, ip: ip, requestID: requestID
        )
    }
}

/// Sealing rules of the append-only audit log: each entry's hash covers its content and the previous
/// hash, so editing, deleting or reordering any stored entry is detectable.
///
/// The hash encoding is a stored format: changing it invalidates every existing log.
public enum AuditChain {
    /// The `prevHash` of the first entry: 64 zeros.
    public static let genesisHash: String = String(repeating: "0", count: 64)

    /// Label hashed first, so these hashes can never equal hashes of any other GovOffice structure.
    private static let domainTag = "govoffice.audit.v1"

    /// The lowercase hex SHA-256 that seals `draft` at position `seq` after `prevHash`.
    ///
    /// Encoding (each text as an 8-byte big-endian byte count then its UTF-8 bytes, integers as 8-byte
    /// big-endian): domain tag `govoffice.audit.v1`, seq, atMillis, actor, agencyCode ?? "", one presence
    /// byte (0/1) each for agencyCode, entityID, ip, requestID, then action, entityType, entityID ?? "",
    /// details, ip ?? "", requestID ?? "", prevHash. Length prefixes make field boundaries unforgeable;
    /// presence bytes tell nil from "".
    public static func computeHash(seq: Int64, draft: AuditDraft, prevHash: String) -> String {
        var hasher = SHA256()
        func integer(_ value: Int64) {
            withUnsafeBytes(of: UInt64(bitPattern: value).bigEndian) { hasher.update(bufferPointer: $0) }
        }
        func text(_ value: String) {
            let bytes = Array(value.utf8)
            integer(Int64(bytes.count))
            hasher.update(data: bytes)
        }
        func flag(_ present: Bool) {
            hasher.update(data: [present ? 1 : 0] as [UInt8])
        }
        text(domainTag)
        integer(seq)
        integer(draft.atMillis)
        text(draft.actor)
        text(draft.agencyCode ?? "")
        flag(draft.agencyCode != nil)
        flag(draft.entityID != nil)
        flag(draft.ip != nil)
        flag(draft.requestID != nil)
        text(draft.action)
        text(draft.entityType)
        text(draft.entityID ?? "")
        text(draft.details)
        text(draft.ip ?? "")
        text(draft.requestID ?? "")
        text(prevHash)
        return hasher.finalize().map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// The entry to store for `draft` at `seq`, chained after the entry whose hash is `prevHash`.
    public static func seal(_ draft: AuditDraft, seq: Int64, prevHash: String) -> AuditEntry {
        AuditEntry(
            seq: seq, atMillis: draft.atMillis, actor: draft.actor, agencyCode: draft.agencyCode,
            action: draft.action, entityType: draft.entityType, entityID: draft.entityID,
            details: draft.details, ip: draft.ip, requestID: draft.requestID,
            prevHash: prevHash, hash: computeHash(seq: seq, draft: draft, prevHash: prevHash)
        )
    }

    /// What `entry.hash` should be given its other fields; differs from `entry.hash` if it was edited.
    public static func recomputedHash(of entry: AuditEntry) -> String {
        computeHash(seq: entry.seq, draft: entry.draft, prevHash: entry.prevHash)
    }
}

/// The first place where a stored audit chain is not what was sealed.
public struct AuditBreak: Sendable, Equatable {
    /// How the chain was broken.
    public enum Kind: String, Sendable, CaseIterable {
        /// An entry's content no longer matches its hash, or the head no longer matches the last entry.
        case altered
        /// One or more entries are missing.
        case deleted
        /// An entry is out of place: a repeated or earlier seq, or not chained to its predecessor.
        case reordered
    }

    /// How the chain was broken.
    public let kind: Kind
    /// The first record where the chain breaks; for ``Kind/deleted``, the first missing seq.
    public let seq: Int64
    /// Vietnamese explanation naming the seq.
    public var vi: String
    /// English explanation naming the seq.
    public var en: String

    /// Creates a break with the standard explanations.
    public init(_ kind: Kind, seq: Int64) {
        self.kind = kind
        self.seq = seq
        switch kind {
        case .altered:
            vi = "Bản ghi nhật ký số \(seq) đã bị sửa đổi: nội dung không khớp với mã băm."
            en = "Audit record #\(seq) was altered: its content does not match its hash."
        case .deleted:
            vi = "Bản ghi nhật ký số \(seq) đã bị xóa: chuỗi bị thiếu từ vị trí này."
            en = "Audit record #\(seq) was deleted: the chain is missing records from here."
        case .reordered:
            vi = "Bản ghi nhật ký số \(seq) bị đặt sai thứ tự: không nối đúng với bản ghi trước."
            en = "Audit record #\(seq) is out of order: it does not link to the previous record."
        }
    }

    /// The explanation for people who read `language`.
    public func message(in language: Language) -> String {
        language == .vi ? vi : en
    }
}

/// Checks a stored chain page by page without holding it in memory.
///
/// Feed every entry in ascending seq order, then call ``finish(headSeq:headHash:)`` with the stored
/// chain head. Only the first break is reported: everything after it is suspect anyway.
public struct AuditChainVerifier: Sendable {
    private var expectedSeq: Int64 = 1
    private var previousHash: String = AuditChain.genesisHash
    private var broken: AuditBreak?

    /// How many entries have been verified as intact and in place so far.
    public private(set) var verifiedCount: Int = 0

    /// A verifier expecting the chain to start at seq 1 after ``AuditChain/genesisHash``.
    public init() {}

    /// Checks the next entry; returns the first break found so far (again on every later call), else nil.
    ///
    /// In order: content not matching its hash is `altered` at its seq; a seq beyond the expected one is
    /// `deleted` at the expected seq; an earlier or repeated seq, or a `prevHash` not equal to the previous
    /// entry's hash, is `reordered` at its seq.
    @discardableResult
    public mutating func feed(_ entry: AuditEntry) -> AuditBreak? {
        if let broken { return broken }
        let found: AuditBreak?
        if AuditChain.recomputedHash(of: entry) != entry.hash {
            found = AuditBreak(.altered, seq: entry.seq)
        } else if entry.seq > expectedSeq {
            found = AuditBreak(.deleted, seq: expectedSeq)
        } else if entry.seq < expectedSeq || entry.prevHash != previousHash {
            found = AuditBreak(.reordered, seq: entry.seq)
        } else {
            found = nil
        }
        if let found {
            broken = found
            return found
        }
        verifiedCount += 1
        expectedSeq += 1
        previousHash = entry.hash
        return nil
    }

    /// Compares what was fed with the stored head (last seq and its hash); returns the first break, else nil.
    ///
    /// Entries missing after the last one fed are `deleted` at the first missing seq. A head whose hash
    /// differs from the last entry's, or that is behind the entries fed, is `altered` (at the head seq, or
    /// the first entry past the head). Read the head before the entries and feed only `seq <= headSeq`, so
    /// appends during verification are not mistaken for tampering. An empty chain has head 0 and
    /// ``AuditChain/genesisHash``.
    @discardableResult
    public mutating func finish(headSeq: Int64, headHash: String) -> AuditBreak? {
        if let broken { return broken }
        let lastSeq = expectedSeq - 1
        let found: AuditBreak?
        if lastSeq < headSeq {
            found = AuditBreak(.deleted, seq: lastSeq + 1)
        } else if lastSeq > headSeq {
            found = AuditBreak(.altered, seq: max(headSeq, 0) + 1)
        } else if previousHash != headHash {
            found = AuditBreak(.altered, seq: headSeq)
        } else {
            found = nil
        }
        broken = found
        return found
    }
}
