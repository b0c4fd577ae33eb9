/// Where requests go, parsed from an `http://host[:port][/path][?query]` URL.
struct Endpoint: Sendable, Equatable {
    /// The host to connect to (an IPv6 literal without its brackets).
    var host: String
    var port: Int
    /// The request target: path (at least `/`) and query.
    var target: String
    /// The `Host` header: the authority as written in the URL.
    var hostHeader: String

    /// Why a URL cannot be used.
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ url: String) -> Result<Endpoint, Invalid> {
        let text = OTLPHTTPExporterConfiguration.trimmed(url)
        let lowered = text.lowercased()
        if lowered.hasPrefix("https://") {
            return .failure(Invalid(description: "https endpoints are not supported (plain http only): \(text)"))
        }
        guard lowered.hasPrefix("http://") else {
            return .failure(Invalid(description: "endpoint must be an http:// URL: \(text)"))
        }
        var rest = text.dropFirst("http://".count)
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
        guard !authority.isEmpty else {
            return .failure(Invalid(description: "endpoint has no host: \(text)"))
        }
        guard !authority.contains("@") else {
            return .failure(Invalid(description: "credentials in the endpoint URL are not supported; use headers: \(text)"))
        }
        let host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                return .failure(Invalid(description: "unclosed IPv6 literal in endpoint: \(text)"))
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                return .failure(Invalid(description: "malformed endpoint authority: \(text)"))
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        var port = 80
        if let portText {
            guard let parsed = Int(portText), (1...65535).contains(parsed) else {
                return .failure(Invalid(description: "invalid port in endpoint: \(text)"))
            }
            port = parsed
        }
        guard !host.isEmpty else {
            return .failure(Invalid(description: "endpoint has no host: \(text)"))
        }
        return .success(Endpoint(host: String(host), port: port, target: target, hostHeader: String(authority)))
    }
}
