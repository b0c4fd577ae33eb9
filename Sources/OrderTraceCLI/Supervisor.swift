import CommandLineSupport
import Logging
import ServiceLifecycle

/// Starts the children in order, stops them in reverse order on graceful shutdown, and ends
/// (shutting the group down) when one of them dies.
struct Supervisor: Service {
    let executable: String
    let children: [(name: String, arguments: [String])]
    let environment: [String: String]
    /// Variables of one child only, by its name (its metrics port).
    var childEnvironment: [String: [String: String]] = [:]
    /// Sees each line a child prints, with the child's name.
    var onLine: @Sendable (_ line: Substring, _ child: String) -> Void = { _, _ in }
    let logger: Logger
    let gatewayPort: Int
    /// The explorer's UI, when `up` started it.
    let explorerURL: String?

    func run() async throws {
        var started: [ChildProcess] = []
        var failure: String?
        await withTaskGroup(of: (String, Int32)?.self) { group in
            group.addTask {
                // Ends when graceful shutdown starts (or this task is cancelled).
                try? await gracefulShutdown()
                return nil
            }
            for child in children {
                var environment = self.environment
                environment["OTEL_SERVICE_NAME"] = "ordertrace-" + child.name
                environment.merge(childEnvironment[child.name] ?? [:]) { $1 }
                let onLine = self.onLine
                let name = child.name
                let process = ChildProcess(
                    name: child.name, executable: executable, arguments: child.arguments, environment: environment,
                    onLine: { line in onLine(line, name) })
                do {
                    try process.start()
                } catch {
                    failure = "cannot start \(child.name): \(error)"
                    break
                }
                started.append(process)
                group.addTask { (process.name, await process.waitForExit()) }
            }
            if failure == nil {
                say("up: all components started. Gateway: ws://127.0.0.1:\(gatewayPort)/v1/orders and http://127.0.0.1:\(gatewayPort)/v1/orders (tokens demo-alice, demo-bob, demo-carol). Ctrl-C stops.")
                if let explorerURL {
                    say("up: traces: open \(explorerURL) to follow an order (or `ordertrace trace <order id>`)")
                }
                if case .some(.some(let (name, status))) = await group.next() {
                    failure = "\(name) exited with status \(status)"
                }
            }
            say("up: stopping")
            // Stop the rest, last started first: each flushes its spans and leaves its group.
            for process in started.reversed() where process.exitStatus == nil {
                process.terminate()
                var stopped = false
                for _ in 0..<150 where !stopped {
                    try? await Task.sleep(for: .milliseconds(100))
                    stopped = process.exitStatus != nil
                }
                if stopped {
                    logger.debug("\(process.name) stopped with status \(process.exitStatus ?? -1)")
                } else {
                    logger.warning("\(process.name) did not stop within 15 s; killing it")
                    process.kill()
                }
            }
            group.cancelAll()
        }
        if let failure, !Task.isShuttingDownGracefully {
            throw CommandError(description: "up: \(failure)")
        }
    }
}
