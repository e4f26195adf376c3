import Fluent
import GovCore
import Foundation
import SQLKit
import Vapor

/// Liveness, readiness and metrics for operators and load balancers.
struct OperationsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("healthz", use: healthz)
        routes.get("readyz", use: readyz)
        routes.get("metrics", use: metrics)
        routes.get("openapi.yaml", use: openAPI)
    }

    /// The API description (docs/openapi.yaml), for integrators and API fuzzers.
    @Sendable func openAPI(req: Request) async throws -> Response {
        let path = req.application.directory.workingDirectory + "docs/openapi.yaml"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GovError("openapi_missing", .notFound, vi: "Không tìm thấy mô tả API.", en: "The API description is missing.")
        }
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "application", subType: "yaml", parameters: ["charset": "utf-8"])
        return Response(status: .ok, headers: headers, body: .init(data: data))
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
        // Delivery counts come from the database, so every node reports the shared queue. Before
        // the first migration the table is missing: the other series are still served.
        if let counts = try? await req.hub.deliveryCounts() {
            for (state, n) in counts { req.application.hubMetrics.pending(n, state: state) }
        }
        var buffer: [UInt8] = []
        req.application.metrics.registry.emit(into: &buffer)
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "text", subType: "plain", parameters: ["version": "0.0.4", "charset": "utf-8"])
        return Response(status: .ok, headers: headers, body: .init(data: Data(buffer)))
    }
}
