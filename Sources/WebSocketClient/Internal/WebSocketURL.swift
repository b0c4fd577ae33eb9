/// A `ws://` URL taken apart: where to connect and what to ask for.
struct WebSocketURL: Equatable {
    /// The host to connect to, without brackets for an IPv6 address.
    var host: String
    var port: Int
    /// The request target: the path (at least `/`) and the query, if any.
    var target: String
    /// The `Host` header's value.
    var hostHeader: String

    /// Parses `ws://host[:port][/path][?query]`; `wss://` is refused as unsupported.
    init(parsing text: String) throws(WebSocketClientError) {
        func invalid(_ why: String) -> WebSocketClientError {
            WebSocketClientError(code: .invalidURL, message: "'\(text)' is not a ws:// URL: \(why)")
        }
        guard let schemeEnd = text.firstRange(of: "://") else { throw invalid("no scheme") }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        switch scheme {
        case "ws": break
        case "wss":
            throw WebSocketClientError(
                code: .unsupportedScheme,
                message: "'\(text)': wss:// (WebSocket over TLS) is not supported by this client; use ws://")
        default: throw invalid("the scheme is '\(scheme)', not ws")
        }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if let fragment = target.firstIndex(of: "#") { target = String(target[..<fragment]) }
        if !target.hasPrefix("/") { target = "/" + target }
        guard !authority.contains("@") else { throw invalid("user information is not supported") }

        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("an unclosed '['") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("text after ']'") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw invalid("no host") }
        var port = 80
        if let portText {
            guard let value = Int(portText), (1...65_535).contains(value) else { throw invalid("the port '\(portText)' is not 1-65535") }
            port = value
        }
        self.host = String(host)
        self.port = port
        self.target = target
        let hostText = host.contains(":") ? "[\(host)]" : String(host)
        self.hostHeader = port == 80 ? hostText : "\(hostText):\(port)"
    }
}
