import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Files only their owner may read: private keys, the secrets key.
///
/// Writing then `chmod`-ing leaves a moment in which the file is readable by everyone the umask
/// allows; here the bytes go into a new file created with mode 0600 (`O_CREAT | O_EXCL`, so an
/// existing file or a planted symbolic link is never written through), which is then renamed over
/// the target. The target therefore never exists with wider permissions, not even for an instant.
public enum PrivateFile {
    /// The mode every file written here has.
    public static let mode: mode_t = 0o600

    /// Writes `data` to `path` (folders created as needed, mode 0700 for new ones), replacing any
    /// file there atomically.
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("open", temporary) }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        do {
            defer { close(fd) }
            // The umask can only narrow the mode; fchmod makes it exactly 0600 either way.
            guard fchmod(fd, mode) == 0 else { throw failure("fchmod", temporary) }
            try data.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = systemWrite(fd, raw.baseAddress! + offset, raw.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw failure("write", temporary)
                    }
                    offset += written
                }
            }
            guard fsync(fd) == 0 else { throw failure("fsync", temporary) }
        }
        guard rename(temporary, path) == 0 else { throw failure("rename", path) }
        ok = true
    }

    /// Creates `path` with `data` only if nothing is there yet; returns false (and leaves the
    /// existing file alone) otherwise. Two processes racing to make the same key file thus end up
    /// using the same one.
    @discardableResult
    public static func createNew(_ data: Data, at path: String) throws -> Bool {
        let staged = path + ".\(UUID().uuidString).new"
        try write(data, to: staged)
        defer { unlink(staged) }
        // link(2) never replaces: the file appears complete, with its 0600 mode, or not at all.
        if link(staged, path) == 0 { return true }
        if errno == EEXIST { return false }
        throw failure("link", path)
    }

    /// Writes PEM blocks one after another, each ending in a newline.
    public static func writePEM(_ blocks: [String], to path: String) throws {
        try write(Data(blocks.map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined().utf8), to: path)
    }

    /// Whether the group or others may read, write or run `path` (which must exist).
    public static func isShared(_ path: String) throws -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { throw failure("stat", path) }
        return info.st_mode & 0o077 != 0
    }

    /// The permission bits of `path` (for tests and messages).
    public static func permissions(_ path: String) throws -> mode_t {
        var info = stat()
        guard stat(path, &info) == 0 else { throw failure("stat", path) }
        return info.st_mode & 0o7777
    }

    private static func failure(_ call: String, _ path: String) -> GovError {
        let reason = String(cString: strerror(errno))
        return GovError("private_file_failed", .conflict, vi: "Không dùng được tệp bí mật \(path) (\(call): \(reason)).",
                        en: "Cannot use the private file \(path) (\(call): \(reason)).")
    }
}

/// `write(2)`, out of the reach of `PrivateFile.write`'s name.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
