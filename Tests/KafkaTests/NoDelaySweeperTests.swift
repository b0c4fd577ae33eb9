import Glibc
import Testing

@testable import Kafka

@Suite("The embedded broker's sockets: Nagle's algorithm off")
struct NoDelaySweeperTests {
    /// TCP_NODELAY of a socket: 0 or 1.
    func noDelay(_ descriptor: Int32) -> Int32 {
        var value: Int32 = -1
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length)
        return value == 0 ? 0 : 1
    }

    @Test("a sweep turns TCP_NODELAY on for a connection it did not open, and reports it as done")
    func sweepSetsNoDelay() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && listen(listener, 1) == 0 && getsockname(listener, $0, &length) == 0 }
        }
        try #require(bound)
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) == 0 }
        }
        try #require(connected)
        let accepted = accept(listener, nil, nil)
        try #require(accepted >= 0)
        defer { close(accepted) }
        #expect(noDelay(accepted) == 0, "a new connection has Nagle's algorithm on")

        let done = NoDelaySweeper.sweep(skipping: [])
        #expect(noDelay(accepted) == 1)
        #expect(noDelay(client) == 1)
        #expect(done.contains(accepted) && done.contains(client))
        // A descriptor that is not a TCP socket is left alone and not reported.
        #expect(!done.contains(0) || noDelay(0) == 1)
        #expect(NoDelaySweeper.sweep(skipping: done).contains(accepted))
    }
}

@Suite("The embedded broker's sockets: one sweeping thread however many brokers")
struct NoDelaySweeperPoolTests {
    @Test("sweepers of one pool share one thread, which stops with the last of them and starts again for the next")
    func oneThreadForAllLeases() async {
        let pool = NoDelaySweeper.Pool()
        let first = NoDelaySweeper(pool: pool)
        let second = NoDelaySweeper(pool: pool)
        let third = NoDelaySweeper(pool: pool)
        #expect(pool.threadsStarted == 1)
        #expect(pool.isSweeping)
        await first.stop()
        await first.stop()  // a second stop of the same lease changes nothing
        await second.stop()
        #expect(pool.isSweeping)
        await third.stop()
        #expect(!pool.isSweeping)
        let again = NoDelaySweeper(pool: pool)
        #expect(pool.threadsStarted == 2)
        await again.stop()
        #expect(!pool.isSweeping)
    }
}
