import Glibc
import Logging
import ServiceLifecycle

/// Stops a process whose supervisor died: `ordertrace up` starts its children with
/// `ORDERTRACE_PARENT_PID`, and a child that sees its parent change (the supervisor was killed,
/// or crashed, and the child was handed to init) shuts down gracefully, as on SIGTERM, instead of
/// holding its ports for the next `up`.
///
/// A check of `getppid()` twice a second: no signal to set up, and nothing that depends on which
/// of the parent's threads started the child.
struct ParentWatch: Service {
    let parent: pid_t
    let logger: Logger

    /// The watch `up` asked for, if any.
    static func fromEnvironment(_ environment: [String: String], logger: Logger) -> ParentWatch? {
        guard let parent = environment[variable].flatMap({ pid_t($0) }), parent > 1 else { return nil }
        // Our output is a pipe to the parent: once it is gone, a write must fail, not kill the
        // process before it stops cleanly.
        signal(SIGPIPE, SIG_IGN)
        return ParentWatch(parent: parent, logger: logger)
    }

    static let variable = "ORDERTRACE_PARENT_PID"

    /// Returns when the parent is gone (the group then shuts down) or at graceful shutdown.
    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if getppid() != parent {
                logger.warning("the supervising process (\(parent)) is gone: stopping")
                return
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(500)) }
        }
    }
}

extension Array where Element == ServiceGroupConfiguration.ServiceConfiguration {
    /// Adds the parent watch `up` asked for, if any: when it returns, the group stops.
    mutating func appendParentWatch(_ environment: [String: String], logger: Logger) {
        guard let watch = ParentWatch.fromEnvironment(environment, logger: logger) else { return }
        append(.init(service: watch, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup))
    }
}
