import HummingbirdWebSocket
import NIOCore
import NIOWebSocket

/// Writes a run of text messages to one WebSocket, one frame each, with one hop to the socket's
/// event loop and one flush (one `writev`) for the run.
///
/// swift-websocket's `WebSocketOutboundWriter` takes one frame per call, and each call hops to
/// the event loop and flushes. An update pushed at a low rate then woke the loop and made a
/// system call of its own. This writer puts the run's frames into the channel's pipeline
/// directly, in front of the same frame encoder. The gateway uses no WebSocket extension, so
/// swift-websocket has nothing to do to the frames on the way.
///
/// While the socket cannot take more (its client reads slowly), the run goes through
/// swift-websocket's writer instead. That writer waits until the socket can take more, ends the
/// wait when the task is cancelled, and throws once the socket is closed. Both ways hop to the
/// same event loop in the order of the calls, so the frames stay in order.
struct SocketFrameWriter: Sendable {
    let channel: any Channel
    let outbound: WebSocketOutboundWriter

    /// - Throws: when the socket is closed (or the task cancelled) before the run is handed over.
    func write(_ texts: [String]) async throws {
        guard channel.isActive, channel.isWritable else {
            for text in texts { try await outbound.write(.text(text)) }
            return
        }
        let frames = texts.map { WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: $0)) }
        let channel = self.channel
        channel.eventLoop.execute {
            for frame in frames { channel.write(frame, promise: nil) }
            channel.flush()
        }
    }
}
