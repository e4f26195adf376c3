import Fluent
import Foundation
import SQLKit
import Vapor

/// Liveness, readiness and metrics for operators and load balancers.
struct OperationsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("healthz", use: healthz)
        routes.get("readyz", use: readyz)
        routes.get("metrics", use: metrics)
    }

    struct Status: Content {
        var status: String
        var database: String?
    }

    /// The process answers: nothing else is checked.
    @Sendable func healthz(req: Request) async throws -> Status {
        Status(status: "ok", database: nil)
    }

    /// The database answers a query; 503 otherwise, so a balancer stops sending traffic here.
    @Sendable func readyz(req: Request) async throws -> Response {
        let kind = req.application.govConfig.database.isPostgres ? "postgresql" : "sqlite"
        do {
            _ = try await req.db.sql.raw("SELECT 1 AS ok").first()
            return try await Status(status: "ready", database: kind).encodeResponse(status: .ok, for: req)
        } catch {
            req.logger.warning("readiness check failed: \(String(reflecting: error))")
            return try await Status(status: "unavailable", database: kind)
                .encodeResponse(status: .serviceUnavailable, for: req)
        }
    }

    @Sendable func metrics(req: Request) async throws -> Response {
        var buffer: [UInt8] = []
        req.application.metrics.registry.emit(into: &buffer)
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "plain", parameters: ["version": "0.0.4", "charset": "utf-8"])
        return Response(status: .ok, headers: headers, body: .init(data: Data(buffer)))
    }
}
