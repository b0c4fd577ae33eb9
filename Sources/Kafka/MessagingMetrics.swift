import Metrics

/// The Kafka client's metrics, named as OpenTelemetry's messaging metrics are in Prometheus
/// form: `messaging_client_sent_messages_total`, `messaging_client_consumed_messages_total`,
/// `messaging_client_operation_duration_seconds` (a send, until its delivery reports) and
/// `messaging_process_duration_seconds` (a batch in the handler), labelled with
/// `messaging_system`, `messaging_destination_name`, `messaging_consumer_group_name` and
/// `error_type`. Counted per batch, not per record. Without a metrics backend (swift-metrics not
/// bootstrapped) they cost a no-op.
enum MessagingMetrics {
    static func sent(_ records: [KafkaProducerRecord], outcomes: [Result<KafkaDeliveryReport, KafkaError>], duration: Duration) {
        var delivered: [String: Int] = [:]
        var failed: [String: Int] = [:]
        // Counted in runs of one topic and outcome (records of a send mostly share a topic), so
        // the dictionaries are touched once a run, not once a record.
        var run: (topic: String, succeeded: Bool, count: Int)?
        func close(_ run: (topic: String, succeeded: Bool, count: Int)) {
            if run.succeeded { delivered[run.topic, default: 0] += run.count } else { failed[run.topic, default: 0] += run.count }
        }
        for (record, outcome) in zip(records, outcomes) {
            let succeeded: Bool
            switch outcome {
            case .success: succeeded = true
            case .failure: succeeded = false
            }
            if let current = run, current.succeeded == succeeded, current.topic == record.topic {
                run!.count += 1
            } else {
                if let run { close(run) }
                run = (record.topic, succeeded, 1)
            }
        }
        if let run { close(run) }
        for (topic, count) in delivered {
            Counter(label: "messaging_client_sent_messages_total", dimensions: [("messaging_system", "kafka"), ("messaging_destination_name", topic)])
                .increment(by: count)
        }
        for (topic, count) in failed {
            Counter(
                label: "messaging_client_sent_messages_total",
                dimensions: [("messaging_system", "kafka"), ("messaging_destination_name", topic), ("error_type", "delivery")]
            ).increment(by: count)
        }
        Timer(label: "messaging_client_operation_duration_seconds", dimensions: [("messaging_system", "kafka"), ("messaging_operation_name", "send")])
            .recordNanoseconds(duration.nanoseconds)
    }

    static func processed(_ topics: [String: Int], duration: Duration, group: String) {
        for (topic, count) in topics {
            Counter(
                label: "messaging_client_consumed_messages_total",
                dimensions: [("messaging_system", "kafka"), ("messaging_destination_name", topic), ("messaging_consumer_group_name", group)]
            ).increment(by: count)
        }
        Timer(
            label: "messaging_process_duration_seconds",
            dimensions: [("messaging_system", "kafka"), ("messaging_consumer_group_name", group)]
        ).recordNanoseconds(duration.nanoseconds)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
