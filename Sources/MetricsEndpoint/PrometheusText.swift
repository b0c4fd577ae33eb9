/// Merges the Prometheus text of several processes into one exposition: each sample gets a
/// `service` label naming its process, and each metric family is written once (its `# HELP` and
/// `# TYPE` lines, then the samples of every process), as the format requires.
public enum PrometheusText {
    public static func merge(_ sources: [(service: String, text: String)]) -> String {
        var order: [String] = []
        var headers: [String: [String]] = [:]
        var samples: [String: [String]] = [:]
        for (service, text) in sources {
            var family = ""
            for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
                if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                    let parts = line.split(separator: " ", maxSplits: 3)
                    guard parts.count >= 3 else { continue }
                    family = String(parts[2])
                    if headers[family] == nil {
                        order.append(family)
                        headers[family] = []
                    }
                    let header = String(line)
                    if !headers[family]!.contains(where: { $0.prefix(7) == header.prefix(7) }) {
                        headers[family]!.append(header)
                    }
                    continue
                }
                if line.hasPrefix("#") { continue }
                let name = sampleName(line)
                // A sample belongs to the family declared before it (histograms: _bucket, _sum, _count).
                let owner = name.hasPrefix(family) && !family.isEmpty ? family : name
                if headers[owner] == nil {
                    order.append(owner)
                    headers[owner] = []
                }
                samples[owner, default: []].append(labelled(line, service: service, nameLength: name.utf8.count))
            }
        }
        var output = ""
        for family in order {
            for header in headers[family] ?? [] { output += header + "\n" }
            for sample in samples[family] ?? [] { output += sample + "\n" }
        }
        return output
    }

    private static func sampleName(_ line: Substring) -> String {
        String(line.prefix { $0 != "{" && $0 != " " })
    }

    private static func labelled(_ line: Substring, service: String, nameLength: Int) -> String {
        let name = line.utf8.prefix(nameLength)
        let rest = line.utf8.dropFirst(nameLength)
        let escaped = service.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        if rest.first == UInt8(ascii: "{") {
            let labels = rest.dropFirst()
            let separator = labels.first == UInt8(ascii: "}") ? "" : ","
            return String(Substring(name)) + "{service=\"\(escaped)\"" + separator + String(Substring(labels))
        }
        return String(Substring(name)) + "{service=\"\(escaped)\"}" + String(Substring(rest))
    }
}
