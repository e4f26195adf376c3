@testable import ExchangeClient
import Foundation
import NIOCore
import Synchronization
import Testing

/// The chunked upload body in isolation: exact bytes, real progress, file streaming.
@Suite struct UploadChunksTests {
    final class Recorder: Sendable {
        let calls = Mutex<[(Int64, Int64)]>([])
        func record(_ sent: Int64, _ total: Int64) { calls.withLock { $0.append((sent, total)) } }
    }

    static func drain(_ chunks: UploadChunks) async throws -> (Data, [Int]) {
        var data = Data()
        var sizes: [Int] = []
        for try await var buffer in chunks {
            sizes.append(buffer.readableBytes)
            data.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
        }
        return (data, sizes)
    }

    @Test func memoryChunksAndProgress() async throws {
        let payload = Data((0..<1000).map { UInt8($0 % 251) })[10...] // a slice: indices do not start at 0
        let recorder = Recorder()
        let chunks = UploadChunks(source: .memory(Data(payload)), total: Int64(payload.count), chunkSize: 256,
                                  progress: { recorder.record($0, $1) })
        let (data, sizes) = try await Self.drain(chunks)
        #expect(data == Data(payload))
        #expect(sizes == [256, 256, 256, 222])
        let calls = recorder.calls.withLock { $0 }
        #expect(calls.map(\.0) == [0, 256, 512, 768, 990])
        #expect(calls.allSatisfy { $0.1 == 990 })
    }

    @Test func sliceOfData() async throws {
        let whole = Data((0..<100).map { UInt8($0) })
        let slice = whole[40..<60]
        let (data, _) = try await Self.drain(UploadChunks(source: .memory(slice), total: 20, chunkSize: 7, progress: nil))
        #expect(data == Data(slice))
    }

    @Test func emptyBody() async throws {
        let recorder = Recorder()
        let (data, sizes) = try await Self.drain(UploadChunks(source: .memory(Data()), total: 0, chunkSize: 64,
                                                              progress: { recorder.record($0, $1) }))
        #expect(data.isEmpty)
        #expect(sizes.isEmpty)
        #expect(recorder.calls.withLock { $0.map(\.0) } == [0])
    }

    @Test func fileChunks() async throws {
        let payload = Data((0..<5000).map { UInt8($0 % 256) })
        let file = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("chunks-\(UUID()).xml")
        try payload.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let recorder = Recorder()
        let (data, sizes) = try await Self.drain(UploadChunks(source: .file(file), total: 5000, chunkSize: 2048,
                                                              progress: { recorder.record($0, $1) }))
        #expect(data == payload)
        #expect(sizes == [2048, 2048, 904])
        #expect(recorder.calls.withLock { $0.last?.0 } == 5000)
    }

    @Test func fileShorterThanAnnounced() async throws {
        let file = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("short-\(UUID()).xml")
        try Data(count: 10).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        await #expect(throws: UploadReadError.self) {
            _ = try await Self.drain(UploadChunks(source: .file(file), total: 20, chunkSize: 8, progress: nil))
        }
        let mapped = ExchangeClientError.transportFailed(UploadReadError(path: file.path, reason: "shrank"))
        #expect(mapped.code == "file_unreadable")
    }

    @Test func helpers() {
        #expect(ExchangeClient.wholeSeconds(.zero, max: 60) == 0)
        #expect(ExchangeClient.wholeSeconds(.milliseconds(1), max: 60) == 1)
        #expect(ExchangeClient.wholeSeconds(.seconds(30), max: 60) == 30)
        #expect(ExchangeClient.wholeSeconds(.seconds(600), max: 60) == 60)
        #expect(ExchangeClient.wholeSeconds(.seconds(-5), max: 60) == 0)
        #expect(ExchangeClient.formEncode("document") == "document")
        #expect(ExchangeClient.formEncode("a b&c=đ") == "a%20b%26c%3D%C4%91")
        #expect(ExchangeClient.pathID(UUID(uuidString: "6F1C2D3E-4A5B-4C6D-8E7F-0A1B2C3D4E5F")!) == "6f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f")
        #expect(ExchangeClient.timeAmount(.seconds(2)) == .seconds(2))
        #expect(ExchangeClient.timeAmount(.milliseconds(1500)) == .milliseconds(1500))
    }
}
