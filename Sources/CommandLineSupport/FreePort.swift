import NIOCore
import NIOPosix

/// A TCP port on 127.0.0.1 that nothing listens on now (bound to port 0 and let go).
package func freeTCPPort() throws -> Int {
    let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
    defer { try? channel.close().wait() }
    return channel.localAddress?.port ?? 0
}
