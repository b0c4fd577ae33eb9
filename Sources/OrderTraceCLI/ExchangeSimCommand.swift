import ArgumentParser
import CommandLineSupport
import ExchangeSimServer
import Foundation
import ServiceLifecycle

struct ExchangeSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exchange-sim",
        abstract: "Run the simulated exchange: WebSocket at ws://HOST:PORT/ (protocol: docs/exchange-protocol.md).",
        discussion: "Deterministic under --seed: the same orders give the same executions. It speaks no trace headers, as real exchanges don't."
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 9100

    @Option(help: "Seed of the simulated liquidity.")
    var seed: UInt64 = 1

    @Option(help: "Price levels of simulated liquidity on each side of every book (0 to 1000), laid again every 250 ms of simulated time; a market order that takes more is canceled for the rest.")
    var liquidityLevels = ExchangeSimServerConfiguration().liquidityLevels

    func validate() throws {
        let levels = ExchangeSimServerConfiguration.liquidityLevelRange
        guard levels.contains(liquidityLevels) else {
            throw ValidationError("--liquidity-levels must be \(levels.lowerBound) to \(levels.upperBound)")
        }
    }

    func run() async throws {
        let logger = Logs.bootstrap()
        let server = ExchangeSimServer(
            configuration: .init(host: host, port: port, seed: seed, liquidityLevels: liquidityLevels), logger: logger,
            onListening: { port in say("exchange-sim: listening on ws://\(host):\(port)/") })
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: server)]
        services.appendParentWatch(ProcessInfo.processInfo.environment, logger: logger)
        var configuration = ServiceGroupConfiguration(services: services, logger: logger)
        configuration.gracefulShutdownSignals = [.sigterm, .sigint]
        let group = ServiceGroup(configuration: configuration)
        try await group.run()
    }
}
