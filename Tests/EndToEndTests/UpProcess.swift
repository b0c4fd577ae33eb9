import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc
import KafkaTestSupport
import Synchronization

/// The repository's root, for its `topics/` folder.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A TCP port nobody listens on right now, for a process the test starts to listen on.
///
/// It is drawn below Linux's ephemeral range (32768-60999): a port from that range (what binding
/// port 0 gives) can be taken, between this choice and the child's bind, as the local port of any
/// outgoing connection on the machine, and the tests open many.
///
/// A port is handed out once per test process: tests run in parallel, and a port chosen for one
/// test is free until its process binds it, so another test could otherwise draw it too.
func freePort() -> Int {
    for _ in 0..<1_000 {
        let port = Int.random(in: 20_000..<32_768)
        guard handedOutPorts.withLock({ $0.insert(port).inserted }) else { continue }
        if canBind(port) { return port }
    }
    return 0
}

private let handedOutPorts = Mutex<Set<Int>>([])

private func canBind(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let length = socklen_t(MemoryLayout<sockaddr_in>.size)
    return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } } == 0
}

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
