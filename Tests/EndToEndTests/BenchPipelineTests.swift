import Foundation
import KafkaTestSupport
import Testing

/// `ordertrace bench pipeline` on a few orders: what it reads of the system besides the clock.
@Suite("bench pipeline: updates, batches and Kafka steps per order", .timeLimit(.minutes(10)))
struct BenchPipelineTests {
    @Test("a short run reports updates an order, orders a batch, and each component's orders per Kafka step read from up's metrics")
    func shortRunReportsSteps() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ordertrace.path), "build the ordertrace product first")
        let bench = try OrdertraceProcess(
            command: "bench",
            arguments: [
                "pipeline", "--orders", "300", "--rounds", "1", "--warmup", "20", "--paced-orders", "100", "--paced-rate", "200",
                "--topics-dir", repositoryRoot.appendingPathComponent("topics").path,
            ],
            environment: [:])
        defer { bench.process.terminate() }
        #expect(await eventually(timeout: .seconds(540)) { !bench.process.isRunning }, "\(bench.log)")
        try #require(bench.process.terminationStatus == 0, "\(bench.log)")
        let lines = bench.fullOutput.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("bench: traced=") }, "\(bench.log)")

        // Every order gets at least `accepted`, `batched` and its terminal update.
        let rounds = lines.filter { $0.hasPrefix("  round 1 ") && $0.contains("updates an order") }
        #expect(rounds.count == 3, "\(bench.log)")
        for line in rounds {
            let updates = try #require(number(before: " updates an order", in: line), "\(line)")
            let perBatch = try #require(number(before: " orders a batch", in: line), "\(line)")
            #expect(updates >= 3, "\(line)")
            #expect(perBatch >= 1, "\(line)")
        }

        // Each component that consumes stepped at least once in each kind of round, and a step
        // carries at most all of a round's orders.
        let table = try #require(lines.firstIndex { $0.hasPrefix("orders per handler step") }, "\(bench.log)")
        let rows = lines[(table + 2)...].prefix { $0.hasPrefix("  ") }
        let components = rows.map { $0.split(separator: " ").first.map(String.init) ?? "" }
        #expect(Set(components) == ["algo", "allocator", "exchange-gateway", "gateway", "order-manager"], "\(bench.log)")
        for row in rows {
            let cells = row.split(separator: " ").dropFirst().map { Double($0) }
            #expect(cells.count == 3 && cells.allSatisfy { $0 != nil && $0! > 0 && $0! <= 300 }, "\(row)")
        }
    }

    /// The number just before `suffix` in `line`.
    private func number(before suffix: String, in line: String) -> Double? {
        guard let end = line.range(of: suffix)?.lowerBound else { return nil }
        let start = line[..<end].lastIndex(of: " ").map { line.index(after: $0) } ?? line.startIndex
        return Double(line[start..<end])
    }
}
