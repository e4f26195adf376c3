import Foundation

/// A signed note of a hash chain's head, kept outside the database: whoever can write the
/// database can recompute every hash of a chain or cut its tail so that the chain checks out again,
/// but cannot make the seal sign a head it never had. A checkpoint pins record `seq`'s hash; a
/// later verification finds the chain shorter than a checkpoint (a cut tail) or another hash at that
/// sequence (a recomputed chain).
public struct ChainCheckpoint: Codable, Sendable, Equatable {
    /// The format written in every file; a reader refuses others.
    public static let format = "govoffice-checkpoint-v1"

    /// Which chain: `audit` or `evidence`.
    public var chain: String
    /// The head's sequence number when the checkpoint was taken (0: the chain was empty).
    public var seq: Int64
    /// The head record's hash (the genesis hash for an empty chain).
    public var hash: String
    /// When, in milliseconds since 1970-01-01T00:00:00Z.
    public var atMillis: Int64
    /// Which node wrote it (host name and process id), for the operator.
    public var node: String

    /// A checkpoint with every field given.
    public init(chain: String, seq: Int64, hash: String, atMillis: Int64, node: String) {
        self.chain = chain
        self.seq = seq
        self.hash = hash
        self.atMillis = atMillis
        self.node = node
    }

    /// The bytes the seal signs: the format and every field, one per line, so that no field can be
    /// moved into another (fields with a line feed are refused by `isWellFormed`).
    public var signedBytes: Data {
        Data("\(Self.format)\n\(chain)\n\(seq)\n\(hash)\n\(atMillis)\n\(node)\n".utf8)
    }

    /// Whether the fields can be signed unambiguously and describe a head: no line feeds, a
    /// non-negative sequence, a 64-digit lower-case hex hash.
    public var isWellFormed: Bool {
        ![chain, hash, node].contains(where: { $0.contains("\n") || $0.contains("\r") }) && seq >= 0
            && hash.count == 64 && hash.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }

    /// A file name no other node or process picks at the same time: chain, UTC time to the
    /// millisecond, node, sequence and a random suffix; sorting the names sorts by time per chain.
    public func fileName(random: UInt32 = UInt32.random(in: .min ... .max)) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmssSSS'Z'"
        let time = formatter.string(from: Date(timeIntervalSince1970: Double(atMillis) / 1000))
        let safeNode = String(node.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
        return "\(chain)-\(time)-\(safeNode)-\(seq)-\(String(random, radix: 16)).checkpoint.json"
    }

    /// What a chain of `length` records with `recordHash` at this checkpoint's sequence says about
    /// it: nil when it agrees.
    public func compare(chainLength length: Int64, recordHash: String?) -> CheckpointMismatch? {
        if seq == 0 { return nil }
        if length < seq { return .chainShorter(checkpointSeq: seq, chainLength: length) }
        if recordHash != hash { return .hashDiffers(seq: seq) }
        return nil
    }
}

/// How a chain disagrees with a signed checkpoint of it.
public enum CheckpointMismatch: Sendable, Equatable {
    /// The chain has fewer records than the checkpoint's sequence: its tail was cut.
    case chainShorter(checkpointSeq: Int64, chainLength: Int64)
    /// The record at the checkpoint's sequence has another hash: the chain was recomputed.
    case hashDiffers(seq: Int64)

    /// A one-line explanation in English and Vietnamese.
    public var message: String {
        switch self {
        case .chainShorter(let seq, let length):
            return "chain shorter than checkpoint \(seq): the chain has \(length) records / chuỗi ngắn hơn điểm kiểm \(seq): chuỗi chỉ có \(length) bản ghi"
        case .hashDiffers(let seq):
            return "record \(seq) differs from the checkpoint at sequence \(seq) (the chain was recomputed) / bản ghi \(seq) khác điểm kiểm tại số thứ tự \(seq) (chuỗi đã bị tính lại)"
        }
    }
}

/// A checkpoint as stored in its file: the fields and the seal's detached CMS signature over
/// `ChainCheckpoint.signedBytes`.
public struct SignedCheckpoint: Codable, Sendable, Equatable {
    /// `ChainCheckpoint.format`.
    public var format: String
    /// The signed fields.
    public var checkpoint: ChainCheckpoint
    /// Base64 of the DER CMS SignedData (detached, with the seal's certificate chain).
    public var cms: String

    /// A stored checkpoint of `checkpoint` with its signature.
    public init(checkpoint: ChainCheckpoint, cms: [UInt8]) {
        self.format = ChainCheckpoint.format
        self.checkpoint = checkpoint
        self.cms = Data(cms).base64EncodedString()
    }

    /// The file's bytes (sorted keys: the same checkpoint always writes the same file).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Reads a file written by `encoded`; nil for anything else (another format included).
    public static func decode(_ data: Data) -> SignedCheckpoint? {
        guard let stored = try? JSONDecoder().decode(SignedCheckpoint.self, from: data), stored.format == ChainCheckpoint.format,
              stored.checkpoint.isWellFormed, Data(base64Encoded: stored.cms) != nil else { return nil }
        return stored
    }

    /// The signature's bytes.
    public var cmsBytes: [UInt8] { Data(base64Encoded: cms).map { [UInt8]($0) } ?? [] }
}
