import Foundation
import Kafka
import Logging
import Pipeline
import Settings

/// Settings of the gateway: where it listens, who may use it, and its limits.
///
/// Users are named by bearer tokens (`tokens`: token → user id), never by the payload. The local
/// stack uses the demo tokens (``demoTokens``) when asked to (`ORDERTRACE_DEMO=1`, loopback
/// addresses only); a real deployment passes its own through ``fromEnvironment(_:logger:)``.
public struct OrderGatewayConfiguration: Sendable {
    /// The address to listen on.
    public var host = "127.0.0.1"
    /// The port to listen on; 0 picks a free port (see `OrderGateway`'s `onListening`).
    public var port = 8080
    /// Bearer token → user id. A request whose token is not here gets HTTP 401.
    public var tokens: [String: String] = [:]
    /// The topics the gateway writes orders to and reads updates from.
    public var topics = PipelineTopics()
    /// The largest order message (a WebSocket message or a POST body), in bytes. A larger one is
    /// answered with a rejection (WebSocket) or HTTP 413 (POST).
    public var maxMessageBytes = 64 * 1024
    /// The largest single WebSocket frame, in bytes. A frame above ``maxMessageBytes`` but below
    /// this gets a rejection reply; a frame above this breaks the WebSocket protocol's limit and
    /// the connection is closed with code 1009 (message too big).
    public var maxFrameBytes = 1024 * 1024
    /// Messages (updates and replies) waiting to be written to one socket. A socket that falls
    /// this far behind is closed with code 1008 and a reason saying so; it never holds up the
    /// delivery to other sockets.
    public var maxOutboundMessagesPerSocket = 1_024
    /// Valid orders of one WebSocket connection waiting to be sent to Kafka. When it is full, the
    /// gateway stops reading that connection until there is room (backpressure to the client).
    public var maxPendingOrdersPerSocket = 256
    /// Open WebSockets one user may hold. One more is refused with HTTP 429.
    public var maxSocketsPerUser = 16
    /// Open WebSockets of all users together. One more is refused with HTTP 503.
    public var maxSockets = 4_096

    /// The tokens of the local stack: `demo-alice`, `demo-bob` and `demo-carol` for the users
    /// `alice`, `bob` and `carol`. Never use them outside a local machine.
    public static let demoTokens = ["demo-alice": "alice", "demo-bob": "bob", "demo-carol": "carol"]

    /// Creates a configuration; every setting has a default (no tokens: nobody gets in).
    public init(
        host: String = "127.0.0.1", port: Int = 8080, tokens: [String: String] = [:], topics: PipelineTopics = PipelineTopics()
    ) {
        self.host = host
        self.port = port
        self.tokens = tokens
        self.topics = topics
    }

    /// Reads the environment:
    /// - `GATEWAY_HOST` (default `127.0.0.1`), `GATEWAY_PORT` (default 8080; 0 picks a free port);
    /// - `ORDERTRACE_TOKENS`: `token=user` pairs separated by `,`;
    /// - `ORDERTRACE_TOKENS_FILE`: a file with one `token user` or `token=user` per line; blank
    ///   lines and lines starting with `#` are skipped;
    /// - `ORDERTRACE_DEMO=1`: with neither token source, accept the ``demoTokens``; refused
    ///   unless `GATEWAY_HOST` is a loopback address;
    /// - `GATEWAY_MAX_SOCKETS_PER_USER` (default 16), `GATEWAY_MAX_SOCKETS` (default 4096): open
    ///   WebSockets per user and in all;
    /// - `GATEWAY_MAX_QUEUED_MESSAGES` (default 1024): messages waiting to be written to one
    ///   socket before it is closed as too slow;
    /// - `ORDERTRACE_TOPIC_PREFIX` (see `PipelineTopics`).
    ///
    /// Both token sources may be given; their tokens are merged, and `ORDERTRACE_DEMO` is then
    /// ignored. With neither and without `ORDERTRACE_DEMO=1`, nobody could get in: that throws.
    ///
    /// - Throws: `ConfigurationError` naming the variable and what is wrong with it (a port that
    ///   is not a number in 0...65535, an empty host, a token entry that is not `token=user`, an
    ///   empty or ill-formed token or user, a token given for two users, a file that cannot be
    ///   read, token sources that name no token at all, no token source and no demo, demo tokens
    ///   on an address that is not loopback, a limit that is not a positive number).
    public static func fromEnvironment(
        _ environment: [String: String], logger: Logger = Logger(label: "ordertrace.gateway")
    ) throws(ConfigurationError) -> OrderGatewayConfiguration {
        let reader = EnvironmentReader(environment)
        var configuration = OrderGatewayConfiguration()
        configuration.topics = PipelineTopics.fromEnvironment(environment)
        if let host = environment["GATEWAY_HOST"] {
            let host = host.trimmingCharacters(in: .whitespaces)
            guard !host.isEmpty else {
                throw ConfigurationError(
                    setting: "GATEWAY_HOST", problem: "the address is empty",
                    remedy: "set it to the address to listen on, or unset it to use 127.0.0.1")
            }
            configuration.host = host
        }
        if let text = environment["GATEWAY_PORT"] {
            guard let port = Int(text.trimmingCharacters(in: .whitespaces)), (0...65_535).contains(port) else {
                throw ConfigurationError(
                    setting: "GATEWAY_PORT", problem: "'\(text)' is not a port number (0...65535)",
                    remedy: "set it to one (0 picks a free port), or unset it to use 8080")
            }
            configuration.port = port
        }
        configuration.maxSocketsPerUser = try socketLimit("GATEWAY_MAX_SOCKETS_PER_USER", environment, default: configuration.maxSocketsPerUser)
        configuration.maxSockets = try socketLimit("GATEWAY_MAX_SOCKETS", environment, default: configuration.maxSockets)
        configuration.maxOutboundMessagesPerSocket = try positiveLimit(
            "GATEWAY_MAX_QUEUED_MESSAGES", of: "messages", environment, default: configuration.maxOutboundMessagesPerSocket)
        let inline = reader.string("ORDERTRACE_TOKENS")
        let path = reader.string("ORDERTRACE_TOKENS_FILE")
        let demo = environment["ORDERTRACE_DEMO"]?.trimmingCharacters(in: .whitespaces)
        guard inline != nil || path != nil else {
            guard demo == "1" || demo == "true" else {
                throw ConfigurationError(
                    .missing, setting: "ORDERTRACE_TOKENS / ORDERTRACE_TOKENS_FILE",
                    problem: "no bearer tokens are configured: nobody could use the gateway",
                    remedy: "set ORDERTRACE_TOKENS=token=user,... or ORDERTRACE_TOKENS_FILE; for a local demo only, ORDERTRACE_DEMO=1 accepts the demo tokens on 127.0.0.1")
            }
            guard isLoopback(configuration.host) else {
                throw ConfigurationError(
                    setting: "ORDERTRACE_DEMO",
                    problem: "the demo tokens are public, and GATEWAY_HOST '\(configuration.host)' is not a loopback address",
                    remedy: "give real tokens (ORDERTRACE_TOKENS or ORDERTRACE_TOKENS_FILE), or listen on 127.0.0.1 for a demo")
            }
            logger.notice("ORDERTRACE_DEMO=1: accepting the demo tokens demo-alice, demo-bob, demo-carol on \(configuration.host)")
            configuration.tokens = demoTokens
            return configuration
        }
        var tokens: [String: String] = [:]
        if let path {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ConfigurationError(
                    .unreadable, setting: "ORDERTRACE_TOKENS_FILE", problem: "cannot read '\(path)' as UTF-8 text",
                    remedy: "name a readable file with one 'token user' per line")
            }
            try merge(parseTokensFile(text, source: "ORDERTRACE_TOKENS_FILE '\(path)'"), into: &tokens, source: "ORDERTRACE_TOKENS_FILE")
        }
        if let inline {
            try merge(parseTokens(inline, source: "ORDERTRACE_TOKENS"), into: &tokens, source: "ORDERTRACE_TOKENS")
        }
        guard !tokens.isEmpty else {
            throw ConfigurationError(
                .missing, setting: "ORDERTRACE_TOKENS / ORDERTRACE_TOKENS_FILE", problem: "they name no token: nobody could use the gateway",
                remedy: "give at least one token=user pair")
        }
        configuration.tokens = tokens
        return configuration
    }

    /// Whether `host` names the loopback interface only (`localhost`, `127.x.x.x`, `::1`).
    public static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    private static func socketLimit(_ name: String, _ environment: [String: String], default value: Int) throws(ConfigurationError) -> Int {
        try positiveLimit(name, of: "sockets", environment, default: value)
    }

    private static func positiveLimit(_ name: String, of things: String, _ environment: [String: String], default value: Int) throws(ConfigurationError) -> Int {
        guard let text = environment[name] else { return value }
        guard let limit = Int(text.trimmingCharacters(in: .whitespaces)), limit > 0 else {
            throw ConfigurationError(
                setting: name, problem: "'\(text)' is not a positive number of \(things)", remedy: "set it to one, or unset it to use \(value)")
        }
        return limit
    }

    /// Parses `token=user` pairs separated by `,` (surrounding spaces are ignored, empty entries
    /// skipped).
    /// - Throws: `ConfigurationError` for an entry that is not `token=user`, an ill-formed token
    ///   or user, or a token given twice for different users.
    public static func parseTokens(_ text: String, source: String = "ORDERTRACE_TOKENS") throws(ConfigurationError) -> [String: String] {
        var tokens: [String: String] = [:]
        for (index, rawEntry) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let entry = rawEntry.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty { continue }
            guard let equals = entry.firstIndex(of: "=") else {
                throw ConfigurationError(setting: "\(source) entry \(index + 1)", problem: "not of the form token=user")
            }
            let token = entry[..<equals].trimmingCharacters(in: .whitespaces)
            let user = entry[entry.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            try add(token: token, user: user, to: &tokens, place: "\(source) entry \(index + 1)")
        }
        return tokens
    }

    /// Parses a tokens file: one `token user` or `token=user` per line; blank lines and lines
    /// starting with `#` are skipped.
    /// - Throws: `ConfigurationError` naming the line that is wrong.
    public static func parseTokensFile(_ text: String, source: String = "ORDERTRACE_TOKENS_FILE") throws(ConfigurationError) -> [String: String] {
        var tokens: [String: String] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let place = "\(source) line \(index + 1)"
            let parts: [Substring]
            if line.contains("=") {
                parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            } else {
                parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            }
            guard parts.count == 2 else {
                throw ConfigurationError(setting: place, problem: "not of the form 'token user' or 'token=user'")
            }
            try add(
                token: parts[0].trimmingCharacters(in: .whitespaces), user: parts[1].trimmingCharacters(in: .whitespaces),
                to: &tokens, place: place)
        }
        return tokens
    }

    private static func add(token: String, user: String, to tokens: inout [String: String], place: String) throws(ConfigurationError) {
        guard !token.isEmpty else { throw ConfigurationError(setting: place, problem: "the token is empty") }
        guard token.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw ConfigurationError(setting: place, problem: "a token may hold printable ASCII without spaces only")
        }
        guard !user.isEmpty else { throw ConfigurationError(setting: place, problem: "the user is empty") }
        guard user.utf8.count <= 128, user.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F && $0 != "\"" && $0 != "\\" }) else {
            throw ConfigurationError(
                setting: place, problem: "user '\(user)' is not a valid user id (at most 128 bytes, no spaces, quotes or control characters)")
        }
        if let existing = tokens[token], existing != user {
            throw ConfigurationError(.conflict, setting: place, problem: "a token is given for two users ('\(existing)' and '\(user)')")
        }
        tokens[token] = user
    }

    private static func merge(_ new: [String: String], into tokens: inout [String: String], source: String) throws(ConfigurationError) {
        for (token, user) in new {
            if let existing = tokens[token], existing != user {
                throw ConfigurationError(.conflict, setting: source, problem: "a token is given for two users ('\(existing)' and '\(user)')")
            }
            tokens[token] = user
        }
    }
}
