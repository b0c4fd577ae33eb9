import Glibc
import Synchronization

/// A TCP port on 127.0.0.1 that nobody listens on right now, for a process about to listen on it.
///
/// It is drawn below Linux's ephemeral range (32768-60999): a port from that range (what binding
/// port 0 gives) can be taken, between this choice and the child's bind, as the local port of any
/// outgoing connection on the machine, and a running pipeline opens many. (A benchmark's `up`
/// once failed to start so: its exchange simulator found its port taken.)
///
/// A port is handed out once per process: callers may run in parallel (tests), and a port chosen
/// for one is free until its process binds it, so another could otherwise draw it too.
/// - Throws: when 1,000 draws found none free.
package func freeTCPPort() throws -> Int {
    for _ in 0..<1_000 {
        let port = Int.random(in: 20_000..<32_768)
        guard handedOutPorts.withLock({ $0.insert(port).inserted }) else { continue }
        if canBind(port) { return port }
    }
    throw CommandError(description: "no free TCP port found in 20000-32767 on 127.0.0.1")
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
