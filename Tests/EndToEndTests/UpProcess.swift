import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import CommandLineSupport
import Glibc
import KafkaTestSupport

/// The repository's root, for its `topics/` folder.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A TCP port nobody listens on right now, for a process the test starts to listen on: below
/// the ephemeral range, and handed out once per test process (`freeTCPPort()`); 0 when none is
/// free, which the process then fails to use.
func freePort() -> Int { (try? freeTCPPort()) ?? 0 }

/// Runs `ordertrace` with `arguments` to the end; returns its status and output.
func runOrdertrace(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
    try runToEnd(ordertrace.path, arguments, environment: environment)
}

/// `ordertrace up` in the background, its output kept for a failure message.
typealias UpProcess = OrdertraceProcess

/// GETs `url`; the status, or nil when nothing answers.
func httpStatus(_ url: String) async -> Int? {
    guard let url = URL(string: url) else { return nil }
    var request = URLRequest(url: url)
    request.timeoutInterval = 2
    guard let (_, response) = try? await URLSession.shared.data(for: request) else { return nil }
    return (response as? HTTPURLResponse)?.statusCode
}
