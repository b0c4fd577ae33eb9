import CommandLineSupport
import Foundation
import Glibc
import Logging
import ServiceLifecycle

/// Starts the children in order, waits until every one of them serves, then says so (the banner);
/// stops them in reverse order on graceful shutdown, and ends (shutting the group down) when one
/// of them dies or does not become ready in time.
struct Supervisor: Service {
    struct Child: Sendable {
        var name: String
        var arguments: [String]
        /// Variables of this child only (its metrics port).
        var environment: [String: String] = [:]
        /// The service it runs (its spans' `service.name` is `ordertrace-<service>`); a replica's
        /// name differs from it (`order-manager-2`).
        var service: String?
    }

    let executable: String
    let children: [Child]
    let environment: [String: String]
    /// Each child's output goes to `<logDirectory>/<name>.log`, when set.
    var logDirectory: String?
    /// Every line of every child on the terminal, not only warnings and errors.
    var verbose = false
    /// Sees each line a child prints, with the child's name.
    var onLine: @Sendable (_ line: Substring, _ child: String) -> Void = { _, _ in }
    /// The children that do not serve yet (empty: all ready).
    var notReady: @Sendable () async -> [String] = { [] }
    var readyTimeout: Duration = .seconds(180)
    /// What to print once every child serves.
    var banner: @Sendable (_ elapsed: Duration) -> String = { _ in "up: ready" }
    let logger: Logger

    private enum Event: Sendable {
        case shutdown
        case exited(String, Int32)
        case ready
        case notReadyInTime([String])
    }

    func run() async throws {
        var started: [ChildProcess] = []
        var failure: String?
        let start = ContinuousClock.now
        await withTaskGroup(of: Event.self) { group in
            group.addTask {
                // Ends when graceful shutdown starts (or this task is cancelled).
                try? await gracefulShutdown()
                return .shutdown
            }
            for child in children {
                var environment = self.environment
                environment["OTEL_SERVICE_NAME"] = "ordertrace-" + (child.service ?? child.name)
                environment[ParentWatch.variable] = String(getpid())
                environment.merge(child.environment) { $1 }
                let onLine = self.onLine
                let name = child.name
                let logFile = openLog(child.name)
                let everything = verbose || logFile == nil
                let process = ChildProcess(
                    name: child.name, executable: executable, arguments: child.arguments, environment: environment,
                    logFile: logFile, echo: { everything || Self.isNoteworthy($0) },
                    onLine: { line in onLine(line, name) })
                do {
                    try process.start()
                } catch {
                    failure = "cannot start \(child.name): \(error)"
                    break
                }
                started.append(process)
                group.addTask { .exited(process.name, await process.waitForExit()) }
            }
            if failure == nil {
                group.addTask { await waitUntilReady() }
                events: while let event = await group.next() {
                    switch event {
                    case .ready:
                        say(banner(ContinuousClock.now - start))
                    case .notReadyInTime(let names):
                        failure = "\(names.joined(separator: ", ")) did not become ready within \(readyTimeout) (see their logs)"
                        break events
                    case .exited(let name, let status):
                        failure = "\(name) exited with status \(status)" + (logDirectory.map { " (its log: \($0)/\(name).log)" } ?? "")
                        break events
                    case .shutdown:
                        break events
                    }
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

    /// Polls `notReady` until it is empty, saying which children it still waits for whenever that
    /// changes.
    private func waitUntilReady() async -> Event {
        let deadline = ContinuousClock.now + readyTimeout
        var waitingFor: [String] = []
        while !Task.isCancelled {
            let pending = await notReady()
            if pending.isEmpty { return .ready }
            if pending != waitingFor {
                say("up: waiting for \(pending.joined(separator: ", ")) (\(children.count - pending.count) of \(children.count) ready)")
                waitingFor = pending
            }
            if ContinuousClock.now >= deadline { return .notReadyInTime(pending) }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return .shutdown
    }

    /// The child's log file, emptied, or nil (no log directory, or it cannot be written).
    private func openLog(_ name: String) -> FileHandle? {
        guard let logDirectory else { return nil }
        let path = "\(logDirectory)/\(name).log"
        do {
            try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
            guard FileManager.default.createFile(atPath: path, contents: nil) else { return nil }
            return try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        } catch {
            logger.warning("cannot write \(path): \(error); \(name)'s output goes to the terminal only")
            return nil
        }
    }

    /// Whether a line of a child's output belongs on the terminal without `--verbose`: a warning
    /// or an error (swift-log's `<time> <level> <label>: <message>`), or the reason it exits.
    static func isNoteworthy(_ line: Substring) -> Bool {
        if line.hasPrefix("Error:") || line.contains("Fatal error") { return true }
        let words = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard words.count >= 2 else { return false }
        return ["warning", "error", "critical"].contains(words[1])
    }
}
