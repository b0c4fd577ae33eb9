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

/// The `/metrics` address of each child, as they announce them (a replica announces with its
/// component's name; it is known by its child's name, `order-manager-2`).
final class MetricsAddresses: Sendable {
    /// The children, in order, each with the component it runs.
    let children: [(name: String, component: String)]
    private let urls = Mutex<[String: String]>([:])

    init(children: [(name: String, component: String)]) {
        self.children = children
    }

    /// Children that run the component of the same name.
    convenience init(components: [String]) {
        self.init(children: components.map { ($0, $0) })
    }

    /// Reads one line of `child`'s output.
    func observe(_ line: Substring, of child: String) {
        guard let component = children.first(where: { $0.name == child })?.component,
            let url = MetricsAnnouncement.url(in: line, component: component)
        else { return }
        urls.withLock { $0[child] = url }
    }

    /// Every child, with its address once known.
    var sources: [(service: String, url: String?)] {
        let known = urls.withLock { $0 }
        return children.map { (service: $0.name, url: known[$0.name]) }
    }
}
