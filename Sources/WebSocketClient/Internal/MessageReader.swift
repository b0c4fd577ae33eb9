import NIOCore
import NIOWebSocket

/// Turns the connection's data and close frames into whole messages: puts fragments together,
/// holds them to the size limit, and answers the server's close frame. One per connection; the
/// inbound sequence and the client's closing handshake share it, so the frames are iterated once.
final class MessageReader {
    private var frames: NIOAsyncChannelInboundStream<WebSocketFrame>.AsyncIterator
    private let outbound: WebSocketOutbound
    private let maxMessageSize: Int
    /// The message being put together from fragments.
    private var partial: (opcode: WebSocketOpcode, data: ByteBuffer)?
    /// No more messages: the server closed, the connection ended, or an error was thrown.
    private(set) var isFinished = false
    /// The server's close frame, once it came.
    private(set) var closeFrame: WebSocketCloseFrame?

    init(frames: NIOAsyncChannelInboundStream<WebSocketFrame>, outbound: WebSocketOutbound, maxMessageSize: Int) {
        self.frames = frames.makeAsyncIterator()
        self.outbound = outbound
        self.maxMessageSize = maxMessageSize
    }

    /// The next whole message; `nil` once the server closed.
    func next(isolation actor: isolated (any Actor)? = #isolation) async throws -> WebSocketMessage? {
        while !isFinished {
            let next: WebSocketFrame?
            do {
                next = try await frames.next(isolation: actor)
            } catch {
                isFinished = true
                throw Self.translate(error, maxMessageSize: maxMessageSize)
            }
            guard let frame = next else {
                isFinished = true
                return nil
            }
            switch frame.opcode {
            case .text, .binary:
                guard partial == nil else { throw await fail(.protocolError, "a new message inside a fragmented one") }
                try await checkSize(frame.data.readableBytes)
                if frame.fin { return try await message(frame.opcode, frame.unmaskedData) }
                partial = (frame.opcode, frame.unmaskedData)
            case .continuation:
                guard var message = partial else { throw await fail(.protocolError, "a continuation frame outside a message") }
                partial = nil
                try await checkSize(message.data.readableBytes + frame.data.readableBytes)
                var data = frame.unmaskedData
                message.data.writeBuffer(&data)
                if frame.fin { return try await self.message(message.opcode, message.data) }
                partial = message
            case .connectionClose:
                isFinished = true
                var data = frame.unmaskedData
                let code = data.readWebSocketErrorCode()
                closeFrame = WebSocketCloseFrame(code: code, reason: data.readString(length: data.readableBytes))
                // Echo the status, as RFC 6455 §5.5.1 asks; a no-op when we closed first.
                try? await outbound.close(code ?? .normalClosure)
                return nil
            default:
                throw await fail(.protocolError, "a frame with the unknown opcode \(frame.opcode)")
            }
        }
        return nil
    }

    /// Reads and drops what is left until the server's close frame or the end of the connection.
    func drain(isolation actor: isolated (any Actor)? = #isolation) async {
        while !isFinished {
            _ = try? await next()
        }
    }

    private func checkSize(_ size: Int, isolation actor: isolated (any Actor)? = #isolation) async throws {
        guard size > maxMessageSize else { return }
        isFinished = true
        try? await outbound.close(.messageTooLarge)
        throw WebSocketClientError(
            code: .messageTooLarge, message: "the server sent a message larger than the limit of \(maxMessageSize) bytes; closed with 1009")
    }

    private func fail(
        _ code: WebSocketErrorCode, _ what: String, isolation actor: isolated (any Actor)? = #isolation
    ) async -> WebSocketClientError {
        isFinished = true
        try? await outbound.close(code)
        return WebSocketClientError(code: .protocolError, message: "the server sent \(what); closed with \(code)")
    }

    /// The message of `opcode` with `data`; text must be UTF-8 (RFC 6455 §8.1).
    private func message(
        _ opcode: WebSocketOpcode, _ data: ByteBuffer, isolation actor: isolated (any Actor)? = #isolation
    ) async throws -> WebSocketMessage {
        guard opcode == .text else { return .binary(data) }
        guard let text = String(validating: data.readableBytesView, as: UTF8.self) else {
            throw await fail(.dataInconsistentWithMessage, "a text message that is not UTF-8")
        }
        return .text(text)
    }

    /// Errors from below, in this client's terms.
    static func translate(_ error: any Error, maxMessageSize: Int) -> any Error {
        switch error {
        case NIOWebSocketError.invalidFrameLength:
            return WebSocketClientError(
                code: .messageTooLarge, message: "the server sent a frame larger than the limit of \(maxMessageSize) bytes; closed with 1009")
        case let error as NIOWebSocketError:
            return WebSocketClientError(code: .protocolError, message: "the server broke the WebSocket protocol (\(error)); closed with 1002")
        default:
            return error
        }
    }
}
