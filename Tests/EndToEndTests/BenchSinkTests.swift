import Foundation
import KafkaTestSupport
import Testing

/// `ordertrace bench sink`, as the benchmarks drive it: a line on its input asks for its count.
@Suite("bench sink: its count on request, its end with its input", .timeLimit(.minutes(2)))
struct BenchSinkTests {
    @Test("a count asked for before the sink is ready is answered once it is; the end of its input stops it")
    func countAskedEarly() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ordertrace.path), "build the ordertrace product first")
        let sink = try OrdertraceProcess(command: "bench", arguments: ["sink"], environment: [:], withInput: true)
        defer { sink.process.terminate() }
        let input = try #require(sink.input)
        // Asked at once, before "listening": the request waits in the pipe.
        try input.write(contentsOf: Data("count\n".utf8))
        func lines() -> [Substring] { sink.fullOutput.split(separator: "\n") }
        #expect(await eventually(timeout: .seconds(60)) { lines().count >= 2 }, "\(sink.log)")
        #expect(lines().first?.hasPrefix("listening http://127.0.0.1:") == true, "\(sink.log)")
        #expect(lines().dropFirst().first == "0", "\(sink.log)")
        try input.write(contentsOf: Data("count\n".utf8))
        #expect(await eventually(timeout: .seconds(60)) { lines().count == 3 }, "\(sink.log)")
        try input.close()
        #expect(await eventually(timeout: .seconds(60)) { !sink.process.isRunning }, "\(sink.log)")
        #expect(sink.process.terminationStatus == 0)
    }
}
