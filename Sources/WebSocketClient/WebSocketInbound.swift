import NIOCore
import NIOWebSocket

/// The messages the server sends, whole: fragments are put together, pings are answered and
/// pongs taken before a message gets here.
///
/// The sequence ends (returns `nil`) when the server closes the connection: after its close frame
/// (``closeFrame`` then says what it sent; the client has answered it) or when the TCP connection
/// ends. It throws ``WebSocketClientError`` when a message is larger than the configured maximum
/// (``WebSocketClientError/Code/messageTooLarge``), when the server breaks the protocol, or when a
/// ping goes unanswered. Iterate it from one task at a time; the client reads from the socket only
/// as far as a few frames ahead of the consumer.
public struct WebSocketInbound: AsyncSequence {
    public typealias Element = WebSocketMessage
    public typealias Failure = any Error

    let reader: MessageReader

    /// The close frame the server sent, once the sequence has ended because of it.
    public var closeFrame: WebSocketCloseFrame? { reader.closeFrame }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(reader: reader)
    }

    /// Iterates the messages; see ``WebSocketInbound``.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let reader: MessageReader

        public mutating func next() async throws -> WebSocketMessage? {
            try await reader.next()
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(any Error) -> WebSocketMessage? {
            try await reader.next(isolation: actor)
        }
    }
}

@available(*, unavailable)
extension WebSocketInbound.AsyncIterator: Sendable {}
