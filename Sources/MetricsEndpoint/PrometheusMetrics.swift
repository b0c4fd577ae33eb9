import CoreMetrics
import Prometheus
import Synchronization

/// The process's metrics: swift-metrics backed by one Prometheus registry, bootstrapped once.
public enum PrometheusMetrics {
    private static let bootstrapped = Mutex<PrometheusCollectorRegistry?>(nil)

    /// The registry every `Counter`, `Gauge`, `Timer` and `Recorder` of this process reports to;
    /// bootstraps swift-metrics with it on the first call.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        bootstrapped.withLock { registry in
            if let registry { return registry }
            let created = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: created)
            // Messaging durations are milliseconds, not seconds: finer buckets than the default.
            factory.defaultDurationHistogramBuckets = [
                .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                .seconds(1), .seconds(2), .seconds(5), .seconds(10),
            ]
            factory.defaultValueHistogramBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]
            MetricsSystem.bootstrap(factory)
            registry = created
            return created
        }
    }
}
