import NIOCore
import NIOPosix

/// Binds a server on `host:port` (port 0 picks a free one) and, for `127.0.0.1`, also `[::1]` on
/// the same port when it can, so `localhost` works whichever address a client tries first.
/// - Throws: `KafkaError.broker` when the address is taken, saying what to do.
func bindLocalListeners(host: String, port: Int, _ bootstrap: () -> ServerBootstrap) async throws -> (channels: [Channel], port: Int) {
    let primary: Channel
    do {
        primary = try await bootstrap().bind(host: host, port: port).get()
    } catch {
        throw KafkaError(
            code: .broker,
            message: "cannot listen on \(host):\(port): \(error). Is another broker running there? Stop it, or pick another address with --port")
    }
    let boundPort = primary.localAddress?.port ?? port
    var channels = [primary]
    if host == "127.0.0.1", let secondary = try? await bootstrap().bind(host: "::1", port: boundPort).get() {
        channels.append(secondary)
    }
    return (channels, boundPort)
}
