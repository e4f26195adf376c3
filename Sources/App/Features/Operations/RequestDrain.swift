import Foundation
import NIOConcurrencyHelpers
import Vapor

/// Graceful shutdown: counts the requests being handled, and when the application shuts down
/// (after the HTTP server has stopped accepting) waits for them to finish before the databases
/// close. Without it a handler whose client already hung up can still be running when Vapor
/// empties the application's storage, and Fluent's `req.db` then stops the process.
final class RequestDrain: AsyncMiddleware, LifecycleHandler, Sendable {
    private let inFlight = NIOLockedValueBox(0)
    private let limit: Duration

    init(limit: Duration = .seconds(15)) {
        self.limit = limit
    }

    /// Requests currently inside the application.
    var count: Int { inFlight.withLockedValue { $0 } }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        inFlight.withLockedValue { $0 += 1 }
        defer { inFlight.withLockedValue { $0 -= 1 } }
        return try await next.respond(to: request)
    }

    func shutdownAsync(_ application: Application) async {
        let deadline = ContinuousClock.now + limit
        while count > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        if count > 0 {
            application.logger.warning("shutdown: \(count) request(s) still running after \(limit)")
        }
    }
}
