import MetricsEndpoint
import Testing

@Suite struct PrometheusTextTests {
    let gateway = """
        # HELP messaging_client_sent_messages_total Messages sent.
        # TYPE messaging_client_sent_messages_total counter
        messaging_client_sent_messages_total{messaging_destination_name="client-orders"} 3
        # TYPE messaging_process_duration_seconds histogram
        messaging_process_duration_seconds_bucket{le="0.001"} 1
        messaging_process_duration_seconds_bucket{le="+Inf"} 2
        messaging_process_duration_seconds_sum 0.004
        messaging_process_duration_seconds_count 2
        # TYPE up_since gauge
        up_since 17
        """
    let allocator = """
        # TYPE messaging_client_sent_messages_total counter
        messaging_client_sent_messages_total{messaging_destination_name="order-updates"} 5
        # TYPE messaging_process_duration_seconds histogram
        messaging_process_duration_seconds_bucket{le="0.001"} 0
        messaging_process_duration_seconds_bucket{le="+Inf"} 1
        messaging_process_duration_seconds_sum 0.5
        messaging_process_duration_seconds_count 1
        """

    @Test func eachFamilyOnceAndEverySampleLabelledWithItsProcess() {
        let merged = PrometheusText.merge([("gateway", gateway), ("allocator", allocator)])
        let lines = merged.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0 == "# TYPE messaging_client_sent_messages_total counter" }.count == 1)
        #expect(lines.filter { $0.hasPrefix("# TYPE messaging_process_duration_seconds ") }.count == 1)
        #expect(lines.contains(#"messaging_client_sent_messages_total{service="gateway",messaging_destination_name="client-orders"} 3"#))
        #expect(lines.contains(#"messaging_client_sent_messages_total{service="allocator",messaging_destination_name="order-updates"} 5"#))
        #expect(lines.contains(#"messaging_process_duration_seconds_count{service="allocator"} 1"#))
        #expect(lines.contains(#"up_since{service="gateway"} 17"#))
        // A family's samples follow its header, the histogram's parts together.
        let header = lines.firstIndex(of: "# TYPE messaging_process_duration_seconds histogram")!
        let parts = lines.indices.filter { lines[$0].hasPrefix("messaging_process_duration_seconds") }
        #expect(parts.count == 8)
        #expect(parts.allSatisfy { $0 > header } && parts.last! - parts.first! == 7)
    }

    @Test func quotesInAProcessNameAreEscaped() {
        let merged = PrometheusText.merge([(#"a"b"#, "x 1\n")])
        #expect(merged.contains(#"x{service="a\"b"} 1"#))
    }
}
