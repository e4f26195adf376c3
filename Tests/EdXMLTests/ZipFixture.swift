import Foundation
import ZIPFoundation

/// Builds ZIP archives in memory for tests.
enum ZipFixture {
    static func zeros(megabytes: Int) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        let size = megabytes << 20
        try archive.addEntry(with: "zeros.bin", type: .file, uncompressedSize: Int64(size), compressionMethod: .deflate) {
            position, chunk in Data(count: min(chunk, size - Int(position)))
        }
        guard let data = archive.data else { throw CocoaError(.fileWriteUnknown) }
        return data
    }
}
