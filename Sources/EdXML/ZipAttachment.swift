import Foundation
import ZIPFoundation

/// Bounds on unpacking a ZIP attachment: an attacker's archive may declare small sizes and
/// expand to gigabytes, so the bytes actually produced are counted while they are produced.
public struct ZipLimits: Sendable, Equatable {
    /// Most bytes all files together may expand to.
    public var maxTotalBytes: Int
    /// Most files.
    public var maxEntries: Int
    /// Most expansion relative to the archive's size.
    public var maxRatio: Int

    /// Limits; by default 200 MB, 1,000 files, 100× expansion.
    public init(maxTotalBytes: Int = 200 << 20, maxEntries: Int = 1000, maxRatio: Int = 100) {
        self.maxTotalBytes = maxTotalBytes
        self.maxEntries = maxEntries
        self.maxRatio = maxRatio
    }
}

/// A file unpacked from a ZIP attachment.
public struct UnpackedFile: Sendable, Equatable {
    /// The path inside the archive.
    public var path: String
    /// The file's bytes.
    public var data: Data
}

/// Why an archive could not be unpacked.
public struct ZipError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reason.
    public enum Code: String, Sendable {
        /// Not a readable ZIP archive.
        case unreadable
        /// Expands beyond the limits (a ZIP bomb, or just too big).
        case tooLarge
        /// More entries than allowed.
        case tooManyEntries
        /// An entry's path leaves the archive (`../`) or is absolute.
        case unsafePath
    }

    /// The reason.
    public let code: Code
    /// Details.
    public let message: String

    public var description: String { "\(code.rawValue): \(message)" }
}

extension Attachment {
    /// The files inside a ZIP attachment, within `limits`; for a non-ZIP attachment, the content
    /// itself under its attachment name.
    public func files(limits: ZipLimits = ZipLimits()) throws(ZipError) -> [UnpackedFile] {
        guard let content else { return [] }
        guard isZip else { return [UnpackedFile(path: attachmentName ?? contentId ?? "attachment", data: content)] }
        let archive: Archive
        do {
            archive = try Archive(data: content, accessMode: .read)
        } catch {
            throw ZipError(code: .unreadable, message: "\(error)")
        }
        let budget = min(limits.maxTotalBytes, max(content.count, 1) * limits.maxRatio)
        var produced = 0
        var files: [UnpackedFile] = []
        var entries = 0
        for entry in archive {
            entries += 1
            guard entries <= limits.maxEntries else {
                throw ZipError(code: .tooManyEntries, message: "more than \(limits.maxEntries) entries")
            }
            let path = entry.path
            guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
                throw ZipError(code: .unsafePath, message: path)
            }
            guard entry.type == .file else { continue }
            // Declared sizes are only a first filter; the consumer below counts real bytes.
            guard entry.uncompressedSize <= UInt64(budget - produced) else {
                throw ZipError(code: .tooLarge, message: "\(path) declares \(entry.uncompressedSize) bytes")
            }
            var data = Data()
            do {
                _ = try archive.extract(entry, skipCRC32: false) { chunk in
                    produced += chunk.count
                    if produced > budget { throw ZipError(code: .tooLarge, message: "expands beyond \(budget) bytes") }
                    data.append(chunk)
                }
            } catch let error as ZipError {
                throw error
            } catch {
                throw ZipError(code: .unreadable, message: "\(path): \(error)")
            }
            files.append(UnpackedFile(path: path, data: data))
        }
        return files
    }
}
