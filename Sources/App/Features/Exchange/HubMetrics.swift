import Foundation
import Prometheus
import Vapor

/// The hub's figures on `/metrics`: messages accepted by kind, refused by reason, deliveries
/// waiting (read from the database at scrape time, so every node reports the shared truth), and
/// the delivery and status latency histograms.
struct HubMetrics: Sendable {
    let registry: PrometheusCollectorRegistry

    static let latencyBuckets: [Double] = [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 1800, 3600, 14_400, 86_400, 604_800]

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "govoffice", subsystem: "exchange", metricName: metric, unitName: unit,
                             helpText: help)
    }

    func accepted(kind: String) {
        registry.makeCounter(descriptor: Self.name("accepted", "total", "Messages accepted by the hub, by kind"),
                             labels: [("kind", kind)]).increment()
    }

    func refused(reason: String) {
        registry.makeCounter(descriptor: Self.name("refused", "total", "Messages refused by the hub, by error code"),
                             labels: [("reason", reason)]).increment()
    }

    /// Seconds from a message's acceptance to its recipient's acknowledgement (or push).
    func deliveryLatency(_ seconds: Double) {
        registry.makeValueHistogram(
            descriptor: Self.name("delivery_latency", "seconds", "From acceptance to the recipient's acknowledgement"),
            buckets: Self.latencyBuckets).record(max(seconds, 0))
    }

    /// Seconds from a document's acceptance to each status relayed about it.
    func statusLatency(_ seconds: Double) {
        registry.makeValueHistogram(
            descriptor: Self.name("status_latency", "seconds", "From a document's acceptance to each status about it"),
            buckets: Self.latencyBuckets).record(max(seconds, 0))
    }

    func pending(_ count: Int, state: String) {
        registry.makeGauge(descriptor: Self.name("deliveries", "", "Deliveries by state, read at scrape time"),
                           labels: [("state", state)]).set(Double(count))
    }
}

extension Application {
    /// The hub's metrics, in the application's one registry.
    var hubMetrics: HubMetrics { HubMetrics(registry: metrics.registry) }
}
