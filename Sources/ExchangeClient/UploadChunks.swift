import Foundation
import NIOCore
import NIOPosix

/// An upload body handed to AsyncHTTPClient one chunk at a time, so a large message is never
/// copied whole into a second buffer and progress reflects what the connection really took.
///
/// Progress is reported when AsyncHTTPClient asks for the next chunk: it only asks once the previous
/// one was written or the channel is writable again, so the count follows the network, not the
/// speed of memory.
struct UploadChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    enum Source: Sendable {
        case memory(Data)
        case file(URL)
    }

    let source: Source
    /// Bytes announced in `Content-Length`; a file is read up to exactly this many bytes.
    let total: Int64
    let chunkSize: Int
    let progress: (@Sendable (Int64, Int64) -> Void)?

    func makeAsyncIterator() -> Iterator {
        Iterator(source: source, total: total, chunkSize: Swift.max(1, chunkSize), progress: progress)
    }

    struct Iterator: AsyncIteratorProtocol {
        let source: Source
        let total: Int64
        let chunkSize: Int
        let progress: (@Sendable (Int64, Int64) -> Void)?
        private var handedOut: Int64 = 0
        private var reported: Int64 = -1
        private var file: FileHandle?

        init(source: Source, total: Int64, chunkSize: Int, progress: (@Sendable (Int64, Int64) -> Void)?) {
            self.source = source
            self.total = total
            self.chunkSize = chunkSize
            self.progress = progress
        }

        mutating func next() async throws -> ByteBuffer? {
            if handedOut != reported {
                reported = handedOut
                progress?(handedOut, total)
            }
            guard handedOut < total else {
                try? file?.close()
                file = nil
                return nil
            }
            let want = Int(Swift.min(Int64(chunkSize), total - handedOut))
            let chunk: ByteBuffer
            switch source {
            case .memory(let data):
                let start = data.index(data.startIndex, offsetBy: Int(handedOut))
                chunk = ByteBuffer(bytes: data[start..<data.index(start, offsetBy: want)])
            case .file(let url):
                chunk = try await readChunk(from: url, count: want)
            }
            handedOut += Int64(chunk.readableBytes)
            return chunk
        }

        /// Reads on NIO's blocking-I/O pool: a slow disk (network share) must not stall the
        /// cooperative threads that run everyone's async code.
        private mutating func readChunk(from url: URL, count: Int) async throws -> ByteBuffer {
            let handle: FileHandle
            if let file {
                handle = file
            } else {
                do {
                    handle = try FileHandle(forReadingFrom: url)
                } catch {
                    throw UploadReadError(path: url.path, reason: error.localizedDescription)
                }
                file = handle
            }
            let data: Data
            do {
                data = try await NIOThreadPool.singleton.runIfActive { try handle.read(upToCount: count) ?? Data() }
            } catch {
                try? handle.close()
                file = nil
                throw UploadReadError(path: url.path, reason: error.localizedDescription)
            }
            guard !data.isEmpty else {
                // The file shrank after its size was announced as Content-Length.
                try? handle.close()
                file = nil
                throw UploadReadError(path: url.path, reason: "the file became shorter while it was being sent")
            }
            return ByteBuffer(bytes: data)
        }
    }
}
