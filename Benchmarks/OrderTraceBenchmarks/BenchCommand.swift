import ArgumentParser

/// `ordertrace bench`: the benchmarks, each a subcommand.
package struct BenchCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure hot paths; each benchmark prints ratios measured in one run.",
        subcommands: [KafkaBench.self, TracingBench.self, SpanBench.self, JSONBench.self, HotPathsBench.self, ExplorerBench.self, LagBench.self, LagLoadCommand.self, SinkCommand.self, PipelineBench.self, SoakBench.self]
    )

    package init() {}
}
