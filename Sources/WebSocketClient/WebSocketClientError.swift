/// Why a WebSocket connection could not be opened, or failed while open.
///
/// Compare ``code`` with the static codes (`error.code == .upgradeFailed`); ``message`` says
/// what went wrong in words, and ``httpStatus`` is the server's answer when it refused the upgrade.
public struct WebSocketClientError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The URL is not `ws://host[:port][/path][?query]`.
        public static let invalidURL = Code("invalidURL")
        /// A `wss://` URL: this client speaks plain `ws://` only (no TLS).
        public static let unsupportedScheme = Code("unsupportedScheme")
        /// The TCP connection could not be made (refused, unreachable, name not resolved).
        public static let connectionFailed = Code("connectionFailed")
        /// The server answered the upgrade request with something other than `101 Switching Protocols`,
        /// or with a `101` that is not a valid WebSocket handshake.
        public static let upgradeFailed = Code("upgradeFailed")
        /// Connecting and upgrading took longer than the configured `connectTimeout`.
        public static let timedOut = Code("timedOut")
        /// A message (all its fragments together) was larger than `maxMessageSize`; the connection
        /// was closed with status 1009.
        public static let messageTooLarge = Code("messageTooLarge")
        /// The server broke the WebSocket protocol; the connection was closed with status 1002.
        public static let protocolError = Code("protocolError")
        /// A write after the connection was closed (by either side).
        public static let closed = Code("closed")
        /// The server did not answer a ping within the keep-alive interval; the connection was closed.
        public static let pingTimeout = Code("pingTimeout")

        public var description: String { name }
    }

    /// What kind of failure this is.
    public var code: Code
    /// What went wrong, for a person.
    public var message: String
    /// The HTTP status the server answered the upgrade request with (``Code/upgradeFailed`` only).
    public var httpStatus: Int?

    /// Makes an error; `message` should say what went wrong and, where it helps, what to do.
    public init(code: Code, message: String, httpStatus: Int? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
    }

    public var description: String { "WebSocket client: \(message)" }
}
