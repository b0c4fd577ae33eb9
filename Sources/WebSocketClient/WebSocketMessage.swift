import NIOCore
import NIOWebSocket

/// A whole WebSocket message: a text or binary frame and its continuations, put together.
public enum WebSocketMessage: Sendable, Equatable {
    /// A text message (UTF-8 on the wire).
    case text(String)
    /// A binary message.
    case binary(ByteBuffer)
}

/// A WebSocket close status (RFC 6455 §7.4): `.normalClosure`, `.goingAway`, `.messageTooLarge`, ...
public typealias WebSocketCloseCode = WebSocketErrorCode

/// The close frame the server sent: its status code and reason, when it gave them.
public struct WebSocketCloseFrame: Sendable, Equatable {
    /// The status code, `nil` when the close frame had none.
    public var code: WebSocketCloseCode?
    /// The reason, `nil` when the close frame had none.
    public var reason: String?

    /// Makes a close frame description.
    public init(code: WebSocketCloseCode?, reason: String?) {
        self.code = code
        self.reason = reason
    }
}
