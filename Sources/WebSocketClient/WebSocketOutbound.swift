import NIOCore
import NIOWebSocket
import Synchronization

/// Sends messages on an open WebSocket. Sendable: any task may write; each message goes out as one
/// masked frame, in the order the writes were made.
public struct WebSocketOutbound: Sendable {
    let writer: NIOAsyncChannelOutboundWriter<WebSocketFrame>
    let closing: CloseLatch

    /// Sends one message.
    /// - Throws: ``WebSocketClientError`` with code ``WebSocketClientError/Code/closed`` once a close
    ///   frame was sent (by ``close(_:reason:)``, or in reply to the server's), or when the
    ///   connection is gone.
    public func write(_ message: WebSocketMessage) async throws {
        guard !closing.isSet else { throw Self.closedError }
        let frame: WebSocketFrame
        switch message {
        case .text(let text): frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(string: text))
        case .binary(let bytes): frame = WebSocketFrame(fin: true, opcode: .binary, maskKey: .random(), data: bytes)
        }
        try await send(frame)
    }

    /// Starts the closing handshake: sends a close frame with `code` and `reason` (cut to the
    /// protocol's 123 bytes). The inbound sequence ends when the server answers with its own close
    /// frame. Closing twice, or after the server closed, does nothing.
    /// - Throws: ``WebSocketClientError`` with code ``WebSocketClientError/Code/closed`` when the
    ///   connection is already gone.
    public func close(_ code: WebSocketCloseCode = .normalClosure, reason: String? = nil) async throws {
        guard closing.set() else { return }
        try await send(ControlFrameHandler.closeFrame(code, reason: reason.map(Self.closeReason)))
    }

    private func send(_ frame: WebSocketFrame) async throws {
        do {
            try await writer.write(frame)
        } catch is NIOAsyncWriterError {
            throw Self.closedError
        } catch let error as ChannelError where error == .ioOnClosedChannel || error == .alreadyClosed {
            throw Self.closedError
        }
    }

    private static let closedError = WebSocketClientError(code: .closed, message: "the connection is closed: nothing more can be sent")

    /// `reason` cut to at most 123 bytes of UTF-8, on a character boundary.
    static func closeReason(_ reason: String) -> String {
        var reason = Substring(reason)
        while reason.utf8.count > 123 { reason = reason.dropLast() }
        return String(reason)
    }
}

/// Set once, when the first close frame is sent, by either the writer or the reader.
final class CloseLatch: Sendable {
    private let state = Mutex(false)

    /// Whether a close frame was sent.
    var isSet: Bool { state.withLock { $0 } }

    /// Sets it; true when it was not set before (the caller sends the close frame).
    func set() -> Bool {
        state.withLock { isSet in
            defer { isSet = true }
            return !isSet
        }
    }
}
