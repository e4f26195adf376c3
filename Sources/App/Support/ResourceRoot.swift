import Foundation
import Vapor

/// Finds the folder holding `Resources/` (templates, strings) and `Public/` (CSS, images), so
/// that `govoffice` works from any working directory: `GOVOFFICE_HOME` when set, else the
/// working directory when it has them, else the nearest ancestor of the executable that has them
/// (which covers `.build/debug/govoffice` in a checkout).
enum ResourceRoot {
    static func locate(environment: [String: String] = ProcessInfo.processInfo.environment,
                       executable: String = CommandLine.arguments.first ?? "",
                       workingDirectory: String = FileManager.default.currentDirectoryPath) -> URL? {
        var candidates: [URL] = [URL(fileURLWithPath: workingDirectory)]
        if let home = environment["GOVOFFICE_HOME"], !home.isEmpty { candidates.insert(URL(fileURLWithPath: home), at: 0) }
        var folder = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(folder)
            folder = folder.deletingLastPathComponent()
        }
        return candidates.first { isRoot($0) }
    }

    static func isRoot(_ url: URL) -> Bool {
        FileManager.default.fileExists(atPath: url.appendingPathComponent("Resources/Locales/vi.json").path)
    }

    /// Points Vapor's directory configuration at the resource root, or explains what is missing.
    static func configure(_ app: Application) throws {
        guard let root = locate() else {
            throw ConfigError(key: "GOVOFFICE_HOME", value: FileManager.default.currentDirectoryPath,
                              expected: "a folder with Resources/ and Public/ (the GovOffice checkout or install)")
        }
        let path = root.path.hasSuffix("/") ? root.path : root.path + "/"
        app.directory = DirectoryConfiguration(workingDirectory: path)
    }
}
