import Fluent
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Vapor

/// Periodic clean-up while `serve` runs: expired web sessions, sign-in failure counts that have
/// been quiet for a day (so old typos do not count towards a future lock-out), and the hub's
/// retention rules. Each step is
/// an idempotent delete, so several nodes may run it at once.
final class Housekeeping: LifecycleHandler, Sendable {
    private let task = NIOLockedValueBox<RepeatedTask?>(nil)
    private let interval: TimeAmount

    init(interval: TimeAmount = .minutes(10)) {
        self.interval = interval
    }

    func didBoot(_ application: Application) throws {
        let repeated = application.eventLoopGroup.next().scheduleRepeatedAsyncTask(
            initialDelay: .seconds(30), delay: interval
        ) { _ in
            application.eventLoopGroup.any().makeFutureWithTask {
                await Self.run(application)
            }
        }
        task.withLockedValue { $0 = repeated }
    }

    func shutdown(_ application: Application) {
        task.withLockedValue { $0?.cancel(); $0 = nil }
    }

    /// One pass; failures are logged and retried on the next pass.
    static func run(_ app: Application) async {
        do {
            try await WebSessionDriver.sweep(app.db, maxHours: app.govConfig.sessionMaxHours)
            try await AccountService.forgetQuietFailures(on: app.db)
            if app.govConfig.hub.workers {
                let purged = try await HubService(app: app).purge()
                if purged.payloads + purged.messages > 0 {
                    app.logger.info("hub retention: \(purged.payloads) payloads purged, \(purged.messages) messages deleted")
                }
            }
        } catch {
            app.logger.warning("housekeeping failed: \(String(reflecting: error))")
        }
    }
}
