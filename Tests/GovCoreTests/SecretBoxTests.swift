import Foundation
import GovCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SecretBoxTests {
    static let key = Array(repeating: UInt8(7), count: 32)

    func code(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as GovError {
            return error.code
        } catch {
            return "\(error)"
        }
    }

    @Test func sealsAndOpens() throws {
        let box = try SecretBox(key: Self.key)
        let sealed = try box.seal("gos_secret", context: "t.c:1")
        #expect(sealed.hasPrefix("v1:\(box.keyID):"))
        #expect(!sealed.contains("gos_secret"))
        #expect(try box.open(sealed, context: "t.c:1") == "gos_secret")
        #expect(try box.seal("gos_secret", context: "t.c:1") != sealed, "a fresh nonce each time")
        #expect(SecretBox.isSealed(sealed) && SecretBox.keyID(of: sealed) == box.keyID)
        #expect(!SecretBox.isSealed("gos_secret") && !SecretBox.isSealed("v1:zz:abc"))
    }

    @Test func keyIDIsTheStartOfTheKeysHash() throws {
        // SHA-256 of 32 bytes of 0x07, first 8 bytes.
        #expect(try SecretBox(key: Self.key).keyID.count == 16)
        #expect(try SecretBox(key: Self.key).keyID == (try SecretBox(base64: Data(Self.key).base64EncodedString() + "\n")).keyID)
        #expect(try SecretBox(base64: SecretBox.generateKeyBase64()).keyID != (try SecretBox(key: Self.key)).keyID)
    }

    @Test func refusesOtherKeysRowsAndAlterations() throws {
        let box = try SecretBox(key: Self.key)
        let sealed = try box.seal("gos_secret", context: "t.c:1")
        let other = try SecretBox(base64: SecretBox.generateKeyBase64())
        #expect(code { _ = try other.open(sealed, context: "t.c:1") } == "secrets_key_wrong")
        #expect(code { _ = try box.open(sealed, context: "t.c:2") } == "secret_unreadable", "moved to another row")
        var bytes = Array(sealed.utf8)
        let last = bytes.count - 3
        bytes[last] = bytes[last] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(code { _ = try box.open(String(decoding: bytes, as: UTF8.self), context: "t.c:1") } == "secret_unreadable")
        #expect(code { _ = try box.open("gos_secret", context: "t.c:1") } == "secret_unreadable", "clear text is not a secret")
    }

    @Test func refusesKeysOfTheWrongLength() {
        #expect(code { _ = try SecretBox(key: [1, 2, 3]) } == "secrets_key_invalid")
        #expect(code { _ = try SecretBox(base64: "not base64!") } == "secrets_key_invalid")
        #expect(code { _ = try SecretBox(base64: Data(count: 16).base64EncodedString()) } == "secrets_key_invalid")
    }
}

@Suite struct PrivateFileTests {
    static func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("private-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func createdOwnerOnlyEvenWithAPermissiveUmask() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let old = umask(0)
        defer { umask(old) }
        try PrivateFile.write(Data("key".utf8), to: "\(dir)/a.key")
        #expect(try PrivateFile.permissions("\(dir)/a.key") == 0o600)
        #expect(try !PrivateFile.isShared("\(dir)/a.key"))
        #expect(FileManager.default.contents(atPath: "\(dir)/a.key") == Data("key".utf8))
        // No temporary file is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["a.key"])
    }

    @Test func replacesAWorldReadableFileInsteadOfWritingThroughIt() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = "\(dir)/b.key"
        #expect(FileManager.default.createFile(atPath: path, contents: Data("old".utf8), attributes: [.posixPermissions: 0o644]))
        #expect(try PrivateFile.isShared(path))
        // A second name for the old file keeps its (readable) inode: the secret must not land there.
        #expect(link(path, "\(dir)/hard-link") == 0)
        try PrivateFile.writePEM(["NEW"], to: path)
        #expect(try PrivateFile.permissions(path) == 0o600)
        #expect(FileManager.default.contents(atPath: "\(dir)/hard-link") == Data("old".utf8))
    }

    @Test func createNewNeverReplaces() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try PrivateFile.createNew(Data("first".utf8), at: "\(dir)/k"))
        #expect(try !PrivateFile.createNew(Data("second".utf8), at: "\(dir)/k"))
        #expect(FileManager.default.contents(atPath: "\(dir)/k") == Data("first".utf8))
        #expect(try PrivateFile.permissions("\(dir)/k") == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["k"])
    }
}
