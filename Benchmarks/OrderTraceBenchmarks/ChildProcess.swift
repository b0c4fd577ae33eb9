import CommandLineSupport
import Foundation
import NIOCore
import NIOPosix

/// Starts `executable` with `arguments` and the environment plus `environment`; its output is
/// discarded.
func startProcess(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    return process
}

/// Waits until something accepts connections on 127.0.0.1:`port` (60 s at most).
func waitForPort(_ port: Int) async throws {
    let deadline = ContinuousClock.now + .seconds(60)
    while ContinuousClock.now < deadline {
        if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get() {
            try? await channel.close()
            return
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw CommandError(description: "nothing listens on port \(port) after 60 s")
}

/// SIGTERM, then SIGKILL if it has not exited within 10 s.
func stop(_ process: Process) {
    guard process.isRunning else { return }
    kill(process.processIdentifier, SIGTERM)
    for _ in 0..<100 where process.isRunning {
        usleep(100_000)
    }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
}
