import App
import Foundation
import Logging
import Vapor

// The thin executable: logging, the application, the command line. Everything else is in App.
var env = try Environment.detect()
try LoggingSystem.bootstrap(from: &env) { level in
    let format = ProcessInfo.processInfo.environment["GOVOFFICE_LOG_FORMAT"]?.lowercased()
    return { label in
        if format == "json" { return JSONLogHandler(label: label, level: level) }
        var handler = StreamLogHandler.standardOutput(label: label)
        handler.logLevel = level
        return handler
    }
}
let app = try await Application.make(env)
do {
    try await configure(app)
    try await app.execute()
    try await app.asyncShutdown()
} catch let exit as ExitStatus {
    try? await app.asyncShutdown()
    Foundation.exit(exit.code)
} catch {
    app.logger.critical("\(String(describing: error))")
    try? await app.asyncShutdown()
    Foundation.exit(1)
}
