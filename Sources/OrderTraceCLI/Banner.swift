import Foundation
import OrderGateway

/// What `ordertrace up` prints once everything serves: every address, the demo users, an order
/// to send with kcat and the command that shows its life.
struct Banner: Sendable {
    var gatewayPort: Int
    var explorerURL: String?
    var otlpEndpoint: String?
    var brokers: String
    var demoUsers: Bool
    var logDirectory: String
    var executable: String

    func text(metricsURL: String?, elapsed: Duration) -> String {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var lines = ["", "up: ready in \(String(format: "%.1f", seconds)) s", ""]
        func row(_ name: String, _ value: String) { lines.append("  " + name.padding(toLength: 10, withPad: " ", startingAt: 0) + " " + value) }
        row("gateway", "ws://127.0.0.1:\(gatewayPort)/v1/orders (or HTTP POST to http://127.0.0.1:\(gatewayPort)/v1/orders)")
        if demoUsers {
            let users = OrderGatewayConfiguration.demoTokens.sorted { $0.value < $1.value }.map { "\($0.value) (token \($0.key))" }
            row("users", users.joined(separator: ", "))
        } else {
            row("users", "the tokens of ORDERTRACE_TOKENS / ORDERTRACE_TOKENS_FILE")
        }
        if let explorerURL { row("explorer", "open \(explorerURL) to follow an order") }
        row("traces", otlpEndpoint.map { "OTLP/HTTP to \($0)" } ?? "off (OTEL_SDK_DISABLED)")
        if let metricsURL { row("metrics", "\(metricsURL) (every component; lag: `ordertrace lag`)") }
        row("Kafka", brokers)
        row("logs", "\(logDirectory)/ (--verbose shows them here)")
        let command = Self.shortPath(executable)
        lines += [
            "",
            "  Send an order:",
            #"    echo '{"clientOrderId":"k-1","userId":"alice","symbol":"AAPL","side":"buy","quantity":100,"orderType":"market"}' | kcat -P -b \#(brokers.split(separator: ",").first ?? "") -t client-orders -k AAPL"#,
            "  See its life:",
            "    \(command) trace k-1" + (explorerURL.map { "   or open \($0)#id=k-1" } ?? ""),
            "",
            "  Ctrl-C stops everything.",
        ]
        return lines.joined(separator: "\n")
    }

    /// `path` relative to the working directory when it lies under it (`.build/release/ordertrace`).
    static func shortPath(_ path: String) -> String {
        let directory = FileManager.default.currentDirectoryPath + "/"
        return path.hasPrefix(directory) ? String(path.dropFirst(directory.count)) : path
    }
}
