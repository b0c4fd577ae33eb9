import Synchronization

/// How a component says where its `/metrics` is, and how `up` reads it back from the
/// component's output: `up` starts every component with `METRICS_PORT=0`, so that the system
/// picks a port no other process holds, and learns the port from this line.
enum MetricsAnnouncement {
    static func line(component: String, host: String, port: Int) -> String {
        "\(component): metrics at http://\(host):\(port)/metrics"
    }

    /// The URL in `line` if it is the announcement of `component`.
    static func url(in line: Substring, component: String) -> String? {
        let prefix = "\(component): metrics at "
        guard line.hasPrefix(prefix) else { return nil }
        let url = line.dropFirst(prefix.count)
        guard url.hasPrefix("http://"), url.hasSuffix("/metrics"), !url.contains(" ") else { return nil }
        return String(url)
    }
}

/// The `/metrics` address of each component, as they announce them.
final class MetricsAddresses: Sendable {
    let components: [String]
    private let urls = Mutex<[String: String]>([:])

    init(components: [String]) {
        self.components = components
    }

    /// Reads one line of `component`'s output.
    func observe(_ line: Substring, of component: String) {
        guard components.contains(component), let url = MetricsAnnouncement.url(in: line, component: component) else { return }
        urls.withLock { $0[component] = url }
    }

    /// Every component, with its address once known.
    var sources: [(service: String, url: String?)] {
        let known = urls.withLock { $0 }
        return components.map { (service: $0, url: known[$0]) }
    }
}
