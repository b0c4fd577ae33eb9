import Foundation
import KafkaTestSupport
import TestSupport
import Testing

/// compose/docker-compose.yml, checked without a Docker engine: the file as PyYAML reads it
/// (Tests/Interop/yaml_json.py, `${VAR:-default}` replaced by its default as Compose does when the
/// variable is unset), against the repository, the Prometheus config, the collector's config, the
/// Dockerfile and the ordertrace executable itself.
@Suite("Compose stack: compose/docker-compose.yml")
struct ComposeFileTests {
    static let components = ["gateway", "order-manager", "algo", "exchange-gateway", "allocator"]
    /// The consumer-driven components, which run as several replicas (`--scale NAME=N`).
    static let scalable = ["order-manager", "algo", "exchange-gateway", "allocator"]
    /// The Kafka cluster: three nodes, each broker and KRaft controller.
    static let brokers = ["kafka-1", "kafka-2", "kafka-3"]
    static let services = components + brokers + [
        "topics-init", "exchange-sim", "lag-monitor", "explorer", "otel-collector", "jaeger", "prometheus", "grafana",
    ]

    @Test("every service of the stack is defined")
    func everyServiceIsDefined() async throws {
        let compose = try await ComposeFile.load()
        for name in Self.services {
            #expect(compose.services[name] != nil, "no service \(name)")
        }
        for broker in Self.brokers {
            #expect(compose.services[broker]?.image.hasPrefix("apache/kafka:3.") == true, "\(broker)")
        }
        #expect(compose.services["kafka"] == nil, "a single-node kafka service is still defined beside the cluster")
    }

    @Test("every bind-mounted path exists in the repository, every named volume is declared, the build context holds the Dockerfile")
    func mountsExist() async throws {
        let compose = try await ComposeFile.load()
        for (name, service) in compose.services {
            for mount in service.volumes {
                if mount.isBind {
                    #expect(!mount.source.hasPrefix("/") && !mount.source.hasPrefix("~"), "\(name) mounts a machine's path: \(mount.source)")
                    let path = ComposeFile.folder.appendingPathComponent(mount.source).standardizedFileURL.path
                    #expect(FileManager.default.fileExists(atPath: path), "\(name) mounts \(mount.source), which is not in compose/")
                    #expect(path.hasPrefix(repositoryRoot.standardizedFileURL.path), "\(name) mounts \(mount.source), outside the repository")
                } else {
                    #expect(compose.volumes.contains(mount.source), "\(name) mounts the undeclared volume \(mount.source)")
                }
            }
            if let build = service.build {
                let context = ComposeFile.folder.appendingPathComponent(build.context).standardizedFileURL
                #expect(context.path == repositoryRoot.standardizedFileURL.path, "\(name) builds from \(context.path), not the repository's root")
                #expect(FileManager.default.fileExists(atPath: context.appendingPathComponent(build.dockerfile).path), "\(name): no \(build.dockerfile)")
                #expect(FileManager.default.fileExists(atPath: context.appendingPathComponent(".dockerignore").path), "no .dockerignore beside the context")
            }
        }
        // State that outlives a container: Kafka's log, the allocator's and the explorer's SQLite.
        // Each broker its own log volume: a replica on a volume another broker writes is no replica.
        var logVolumes: [String] = []
        for broker in Self.brokers {
            let service = compose.services[broker]
            let logs = try #require(service?.environment["KAFKA_LOG_DIRS"], "\(broker) names no log folder")
            let volume = service?.volumes.first { !$0.isBind && $0.target == logs }
            #expect(volume != nil, "\(broker) keeps its log (\(logs)) on no named volume")
            if let volume { logVolumes.append(volume.source) }
        }
        #expect(Set(logVolumes).count == Self.brokers.count, "the brokers share log volumes: \(logVolumes)")
        #expect(compose.services["allocator"]?.volumes.contains { !$0.isBind && $0.target == "/data" } == true)
        #expect(compose.services["allocator"]?.environment["ALLOCATOR_DB"]?.hasPrefix("/data/") == true)
        #expect(compose.services["explorer"]?.volumes.contains { !$0.isBind && $0.target == "/data" } == true)
        #expect(compose.services["explorer"]?.environment["EXPLORER_DB"]?.hasPrefix("/data/") == true)
    }

    @Test("every depends_on names a defined service with a valid condition that the service can meet, without a cycle")
    func dependenciesAreValid() async throws {
        let compose = try await ComposeFile.load()
        for (name, service) in compose.services {
            for (dependency, condition) in service.dependsOn {
                let target = compose.services[dependency]
                #expect(target != nil, "\(name) depends on the undefined service \(dependency)")
                switch condition {
                case "service_started":
                    break
                case "service_healthy":
                    #expect(target?.healthcheck != nil, "\(name) waits for \(dependency) to be healthy, which has no health check")
                case "service_completed_successfully":
                    #expect(target?.restart == "no", "\(name) waits for \(dependency) to complete, which restarts (\(target?.restart ?? "-"))")
                default:
                    Issue.record("\(name) depends on \(dependency) with the condition \(condition)")
                }
            }
        }
        // Depth-first: a service met again on its own path is a cycle.
        func visit(_ name: String, path: [String]) {
            if path.contains(name) {
                Issue.record("a cycle: \((path + [name]).joined(separator: " -> "))")
                return
            }
            for dependency in compose.services[name]?.dependsOn.keys.sorted() ?? [] { visit(dependency, path: path + [name]) }
        }
        for name in compose.services.keys.sorted() { visit(name, path: []) }
        // The order that matters: Kafka healthy, then the topics, then the pipeline.
        for broker in Self.brokers {
            #expect(compose.services["topics-init"]?.dependsOn[broker] == "service_healthy", "topics-init does not wait for \(broker)")
            #expect(compose.services["explorer"]?.dependsOn[broker] == "service_healthy", "the explorer does not wait for \(broker)")
        }
        for name in Self.components + ["lag-monitor"] {
            #expect(compose.services[name]?.dependsOn["topics-init"] == "service_completed_successfully", "\(name) does not wait for the topics")
        }
        #expect(compose.services["exchange-gateway"]?.dependsOn["exchange-sim"] == "service_healthy")
    }

    @Test("every component reads Kafka from the three brokers, serves metrics on 9464 on all addresses with a /ready health check, and names its spans")
    func componentsFollowTheConventions() async throws {
        let compose = try await ComposeFile.load()
        for name in Self.components {
            let service = try #require(compose.services[name])
            #expect(service.command.first == name, "\(name) runs \(service.command)")
            #expect(service.environment["KAFKA_BROKERS"] == "kafka-1:9092,kafka-2:9092,kafka-3:9092", "\(name)")
            #expect(service.environment["METRICS_PORT"] == "9464", "\(name)")
            #expect(service.environment["METRICS_HOST"] == "0.0.0.0", "\(name)")
            #expect(service.environment["OTEL_SERVICE_NAME"] == "ordertrace-\(name)", "\(name)")
            #expect(service.environment["OTEL_EXPORTER_OTLP_ENDPOINT"] != nil, "\(name)")
            #expect(service.healthcheck?.contains("http://localhost:9464/ready") == true, "\(name)'s health check: \(service.healthcheck ?? [])")
            #expect(service.restart == "unless-stopped", "\(name)")
        }
        let gateway = try #require(compose.services["gateway"])
        #expect(gateway.environment["GATEWAY_HOST"] == "0.0.0.0")
        #expect(gateway.environment["GATEWAY_PORT"] == "8080")
        #expect(gateway.environment["ORDERTRACE_TOKENS"] == "demo-alice=alice,demo-bob=bob,demo-carol=carol")
        #expect(compose.services["exchange-gateway"]?.environment["EXCHANGE_URL"] == "ws://exchange-sim:9100/")
        #expect(compose.services["exchange-sim"]?.command == ["exchange-sim", "--host", "0.0.0.0", "--port", "9100"])
        #expect(compose.services["exchange-sim"]?.healthcheck?.contains("http://localhost:9100/health") == true)
        #expect(Array(compose.services["topics-init"]?.command.prefix(4) ?? []) == ["topics", "apply", "--topics-dir", "/topics"])

        let lag = try #require(compose.services["lag-monitor"])
        #expect(lag.command == ["lag", "--serve", "9464"])
        #expect(lag.environment["METRICS_HOST"] == "0.0.0.0")
        #expect(lag.healthcheck?.contains("http://localhost:9464/ready") == true)

        let explorer = try #require(compose.services["explorer"])
        #expect(explorer.command == ["explorer"])
        #expect(explorer.environment["EXPLORER_HOST"] == "0.0.0.0")
        let explorerPort = explorer.environment["EXPLORER_PORT"] ?? "8686"
        #expect(explorer.healthcheck?.contains("http://localhost:\(explorerPort)/api/orders") == true, "\(explorer.healthcheck ?? [])")
    }

    @Test("the gateway, the explorer, Jaeger, Prometheus, Grafana and each broker's external listener are published on the host")
    func portsArePublished() async throws {
        let compose = try await ComposeFile.load()
        let expected: [(String, Int)] = [("gateway", 8080), ("explorer", 8686), ("jaeger", 16686), ("prometheus", 9090), ("grafana", 3000), ("kafka-1", 29092)]
        for (name, port) in expected {
            let ports = compose.services[name]?.ports ?? []
            #expect(ports.contains { $0.host == port && $0.container == port }, "\(name) does not publish \(port): \(ports)")
        }
        // Each broker: containers reach kafka-N:9092, the host its published port, each as
        // advertised. A client on the host follows every partition's leader, so every broker
        // advertises and publishes an external address of its own.
        var externalPorts: [Int] = []
        for name in ComposeFileTests.brokers {
            let kafka = try #require(compose.services[name])
            let listeners = Dictionary(uniqueKeysWithValues: (kafka.environment["KAFKA_LISTENERS"] ?? "").split(separator: ",").map(ComposeFile.listener))
            let advertised = Dictionary(uniqueKeysWithValues: (kafka.environment["KAFKA_ADVERTISED_LISTENERS"] ?? "").split(separator: ",").map(ComposeFile.listener))
            let interBroker = try #require(kafka.environment["KAFKA_INTER_BROKER_LISTENER_NAME"])
            #expect(advertised[interBroker]?.host == name && advertised[interBroker]?.port == 9092, "\(name): \(advertised)")
            #expect(kafka.hostname == nil || kafka.hostname == name, "\(name) is called \(kafka.hostname ?? "")")
            #expect(listeners[interBroker]?.port == 9092)
            let external = try #require(advertised.first { $0.value.host == "localhost" }, "\(name) advertises nothing for the host")
            #expect(listeners[external.key]?.port == external.value.port)
            #expect(kafka.ports.contains { $0.host == external.value.port && $0.container == listeners[external.key]?.port }, "\(name): \(kafka.ports)")
            externalPorts.append(external.value.port)
            let controller = try #require(kafka.environment["KAFKA_CONTROLLER_LISTENER_NAMES"])
            #expect(listeners[controller] != nil && advertised[controller] == nil)
            #expect(kafka.environment["KAFKA_PROCESS_ROLES"] == "broker,controller")
            for listener in (kafka.environment["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"] ?? "").split(separator: ",").map({ String($0.split(separator: ":")[0]) }) {
                #expect(listeners[listener] != nil, "\(name): \(listener) is mapped but not a listener")
            }
        }
        #expect(Set(externalPorts).count == ComposeFileTests.brokers.count, "the brokers publish the same host port: \(externalPorts)")
    }

    @Test("Kafka is three KRaft nodes, broker and controller each, with distinct node ids, one cluster id and a quorum of all three")
    func kraftCluster() async throws {
        let compose = try await ComposeFile.load()
        let brokers = try ComposeFileTests.brokers.map { name in (name, try #require(compose.services[name], "no \(name)")) }
        let nodeIDs = brokers.compactMap { Int($0.1.environment["KAFKA_NODE_ID"] ?? "") }
        #expect(nodeIDs.count == 3 && Set(nodeIDs).count == 3, "node ids: \(nodeIDs)")
        let clusterIDs = Set(brokers.map { $0.1.environment["CLUSTER_ID"] ?? "" })
        #expect(clusterIDs.count == 1 && clusterIDs.first?.isEmpty == false, "cluster ids: \(clusterIDs)")
        // A cluster id is 16 bytes in URL-safe base64 without padding: 22 characters.
        #expect(clusterIDs.first.map { $0.count == 22 && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } } == true)
        for (name, broker) in brokers {
            #expect(broker.environment["KAFKA_PROCESS_ROLES"] == "broker,controller", "\(name)")
            // The quorum every node names: each node, by its id, at its controller listener.
            let voters = try #require(broker.environment["KAFKA_CONTROLLER_QUORUM_VOTERS"], "\(name) names no quorum")
            var quorum: [Int: String] = [:]
            for voter in voters.split(separator: ",") {
                let parts = voter.split(separator: "@", maxSplits: 1)
                guard parts.count == 2, let id = Int(parts[0]) else {
                    Issue.record("\(name): \(voter) is not id@host:port")
                    continue
                }
                quorum[id] = String(parts[1])
            }
            for (otherName, other) in brokers {
                let id = try #require(Int(other.environment["KAFKA_NODE_ID"] ?? ""))
                let controller = try #require(other.environment["KAFKA_CONTROLLER_LISTENER_NAMES"])
                let listeners = Dictionary(uniqueKeysWithValues: (other.environment["KAFKA_LISTENERS"] ?? "").split(separator: ",").map(ComposeFile.listener))
                let port = try #require(listeners[controller]?.port, "\(otherName) has no \(controller) listener")
                #expect(quorum[id] == "\(otherName):\(port)", "\(name)'s quorum \(voters) does not reach \(otherName) (node \(id)) at \(otherName):\(port)")
            }
            #expect(quorum.count == brokers.count, "\(name)'s quorum: \(voters)")
            // Internal topics (consumer offsets, transaction state) on three replicas, two in sync.
            #expect(broker.environment["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3", "\(name)")
            #expect(broker.environment["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "3", "\(name)")
            #expect(broker.environment["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2", "\(name)")
            #expect(broker.environment["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3", "\(name)")
            #expect(broker.environment["KAFKA_MIN_INSYNC_REPLICAS"] == "2", "\(name)")
            #expect(broker.restart == "unless-stopped" && broker.healthcheck != nil, "\(name)")
        }
        // The same settings apart from the node's id and addresses.
        let shared = brokers.map { $0.1.environment.filter { !["KAFKA_NODE_ID", "KAFKA_LISTENERS", "KAFKA_ADVERTISED_LISTENERS"].contains($0.key) } }
        #expect(shared.allSatisfy { $0 == shared[0] }, "the brokers' settings differ")
    }

    @Test("every service that reads Kafka lists all three brokers' internal addresses")
    func everyClientListsEveryBroker() async throws {
        let compose = try await ComposeFile.load()
        let internalAddresses = Set(try ComposeFileTests.brokers.map { name -> String in
            let broker = try #require(compose.services[name])
            let advertised = Dictionary(uniqueKeysWithValues: (broker.environment["KAFKA_ADVERTISED_LISTENERS"] ?? "").split(separator: ",").map(ComposeFile.listener))
            let address = try #require(advertised[broker.environment["KAFKA_INTER_BROKER_LISTENER_NAME"] ?? ""])
            return "\(address.host):\(address.port)"
        })
        #expect(internalAddresses.count == 3)
        let clients = compose.services.filter { $0.value.environment["KAFKA_BROKERS"] != nil }
        #expect(Set(clients.keys).isSuperset(of: ComposeFileTests.components + ["topics-init", "lag-monitor", "explorer"]))
        for (name, service) in clients {
            let listed = (service.environment["KAFKA_BROKERS"] ?? "").split(separator: ",").map(String.init)
            #expect(Set(listed) == internalAddresses && listed.count == internalAddresses.count, "\(name) reads Kafka at \(listed), not at all of \(internalAddresses.sorted())")
        }
    }

    @Test("topics-init creates the topics with three replicas and min.insync.replicas 2, after all three brokers are healthy")
    func topicsAreReplicated() async throws {
        let compose = try await ComposeFile.load()
        let command = try #require(compose.services["topics-init"]?.command)
        func option(_ name: String) -> Int? {
            command.firstIndex(of: name).flatMap { command.indices.contains($0 + 1) ? Int(command[$0 + 1]) : nil }
        }
        let factor = try #require(option("--replication-factor"), "topics-init does not set the replication factor: \(command)")
        let minimum = try #require(option("--min-insync-replicas"), "topics-init does not set min.insync.replicas: \(command)")
        #expect(factor == 3 && factor <= ComposeFileTests.brokers.count)
        // Two of three: a write survives one broker lost, and one broker down stops no producer.
        #expect(minimum == 2 && minimum < factor)
        // Each topic of topics/ gets them, and keeps its partitions: enough for the replicas.
        let topics = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot.appendingPathComponent("topics").path).filter { $0.hasSuffix(".json") }
        #expect(topics.count >= 6)
        for file in topics {
            let data = try Data(contentsOf: repositoryRoot.appendingPathComponent("topics/\(file)"))
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let partitions = try #require(object["partitions"] as? Int)
            #expect(partitions >= 3, "\(file): \(partitions) partitions leave a third replica of a component idle")
        }
        let dockerfile = try String(contentsOf: repositoryRoot.appendingPathComponent("Dockerfile"), encoding: .utf8)
        #expect(dockerfile.contains("COPY topics/ /topics/") && command.contains("/topics"))
    }

    @Test("the order manager, the algo, the exchange gateway and the allocator scale: no container name, no host port; one allocator volume, one exchange session")
    func scalableServices() async throws {
        let compose = try await ComposeFile.load()
        for name in ComposeFileTests.scalable {
            let service = try #require(compose.services[name])
            #expect(service.containerName == nil, "\(name) has the container_name \(service.containerName ?? ""): --scale would fail")
            #expect(service.hostname == nil, "\(name) has a fixed hostname: its replicas would share it")
            #expect(service.ports.allSatisfy { $0.host == nil }, "\(name) publishes \(service.ports): a second replica could not bind it")
            #expect(service.volumes.allSatisfy { !$0.isBind || $0.source.hasPrefix("./") }, "\(name)")
        }
        // The allocator's per-partition files lie beside ALLOCATOR_DB, on one named volume that
        // every replica mounts at the same path: a partition's next owner opens the same file.
        let allocator = try #require(compose.services["allocator"])
        let database = try #require(allocator.environment["ALLOCATOR_DB"])
        let folder = (database as NSString).deletingLastPathComponent
        let volume = try #require(allocator.volumes.first { $0.target == folder }, "no volume holds \(database)")
        #expect(!volume.isBind, "the allocator's state is on a bind mount, not a named volume")
        #expect(compose.volumes.contains(volume.source))
        #expect(!database.contains("$") && !volume.source.contains("$"), "a per-replica path: \(volume.source):\(database)")
        let others = compose.services.filter { $0.key != "allocator" && $0.value.volumes.contains { $0.source == volume.source } }
        #expect(others.isEmpty, "\(others.keys.sorted()) also mount \(volume.source)")
        // The exchange gateways: one exchange session, named in the file (not from the container).
        let session = try #require(compose.services["exchange-gateway"]?.environment["EXCHANGE_SESSION"], "no EXCHANGE_SESSION: the replicas' sessions are not visibly shared")
        #expect(!session.isEmpty && !session.contains("$") && !session.lowercased().contains("hostname"), "EXCHANGE_SESSION: \(session)")
        // Services that cannot run twice keep their single published ports.
        #expect(compose.services["gateway"]?.ports.isEmpty == false)
    }

    @Test("every Prometheus target, named or found through Docker's DNS, is a compose service that serves its metrics on the target's port")
    func prometheusTargetsAreServices() async throws {
        let compose = try await ComposeFile.load()
        let config = try #require(try await loadYAML("compose/prometheus/prometheus.yml") as? [String: Any])
        var targets: [String] = []
        for job in config["scrape_configs"] as? [[String: Any]] ?? [] {
            for group in job["static_configs"] as? [[String: Any]] ?? [] {
                targets += group["targets"] as? [String] ?? []
            }
            // dns_sd_configs of type A: every address a name resolves to, on the given port.
            for discovery in job["dns_sd_configs"] as? [[String: Any]] ?? [] {
                let port = (discovery["port"] as? Int).map(String.init) ?? "none"
                targets += (discovery["names"] as? [String] ?? []).map { "\($0):\(port)" }
            }
        }
        #expect(targets.count >= 6)
        for target in targets where !target.hasPrefix("localhost:") {
            let parts = target.split(separator: ":")
            let service = compose.services[String(parts[0])]
            #expect(service != nil, "the target \(target) is no compose service")
            guard let service, parts.count == 2 else { continue }
            let served = service.environment["METRICS_PORT"] ?? service.command.firstIndex(of: "--serve").map { service.command[$0 + 1] }
            #expect(served == String(parts[1]), "\(target): the service serves metrics on \(served ?? "no port")")
        }
        // Prometheus's own target is itself, on the port it publishes.
        #expect(targets.contains("localhost:9090"))
        // Every OrderTrace process that serves metrics is scraped.
        for name in ComposeFileTests.components + ["lag-monitor"] {
            #expect(targets.contains("\(name):9464"), "\(name) is not scraped")
        }
        let mounted = compose.services["prometheus"]?.volumes.first { $0.isBind && $0.source.hasSuffix("prometheus/prometheus.yml") }
        #expect(mounted?.target == "/etc/prometheus/prometheus.yml")
        let grafana = compose.services["grafana"]?.volumes ?? []
        #expect(grafana.contains { $0.isBind && $0.source == "./grafana/provisioning" && $0.target == "/etc/grafana/provisioning" })
        #expect(grafana.contains { $0.isBind && $0.source == "./grafana/dashboards" && $0.target == "/var/lib/grafana/dashboards" })
    }

    @Test("Prometheus finds every replica of the scalable services through Docker's DNS (type A, port 9464) and labels it with its service")
    func prometheusDiscoversReplicas() async throws {
        let config = try #require(try await loadYAML("compose/prometheus/prometheus.yml") as? [String: Any])
        let jobs = config["scrape_configs"] as? [[String: Any]] ?? []
        for name in ComposeFileTests.scalable {
            // A static target would be one replica among several, picked by Docker's DNS.
            let statics = jobs.flatMap { $0["static_configs"] as? [[String: Any]] ?? [] }.flatMap { $0["targets"] as? [String] ?? [] }
            #expect(!statics.contains { $0.hasPrefix("\(name):") }, "\(name) is a static target: only one of its replicas would be scraped")
            let job = try #require(
                jobs.first { ($0["dns_sd_configs"] as? [[String: Any]] ?? []).contains { ($0["names"] as? [String] ?? []).contains(name) } },
                "\(name) is not discovered")
            let discovery = try #require((job["dns_sd_configs"] as? [[String: Any]])?.first { ($0["names"] as? [String] ?? []).contains(name) })
            // Docker's embedded DNS answers a service's name with an A record per container.
            #expect(discovery["type"] as? String == "A", "\(name): \(discovery)")
            #expect(discovery["port"] as? Int == 9464, "\(name): \(discovery)")
            #expect((job["metrics_path"] as? String ?? "/metrics") == "/metrics")
            // The discovered name becomes the `service` label, as the static targets carry it.
            let relabels = job["relabel_configs"] as? [[String: Any]] ?? []
            let naming = relabels.first {
                ($0["source_labels"] as? [String]) == ["__meta_dns_name"] && $0["target_label"] as? String == "service"
            }
            #expect(naming != nil, "\(name)'s replicas get no service label: \(relabels)")
            if let naming {
                #expect((naming["action"] as? String ?? "replace") == "replace")
                #expect((naming["replacement"] as? String ?? "$1") == "$1")
                // Only a non-empty name replaces: the static targets keep their own label.
                let regex = try Regex(#"^(?:"# + (naming["regex"] as? String ?? "(.*)") + #")$"#)
                #expect((try? regex.wholeMatch(in: "")) == nil, "the relabelling would erase the static targets' service label")
                #expect((try? regex.wholeMatch(in: name)) != nil)
            }
        }
    }

    @Test("the components export to the collector's OTLP/HTTP receiver; the collector to the explorer's receiver and Jaeger's OTLP port")
    func spansReachTheCollectorAndItsBackends() async throws {
        let compose = try await ComposeFile.load()
        let collector = try #require(compose.services["otel-collector"])
        let mount = try #require(collector.volumes.first { $0.isBind && $0.source == "./otel-collector.yaml" }, "the collector's config is not mounted")
        #expect(collector.command.contains("--config=\(mount.target)"), "the collector reads \(collector.command), its config is at \(mount.target)")
        let config = try await CollectorConfig.load()
        let receiver = try #require(config.component("receivers", "otlp"))
        let protocols = receiver["protocols"] as? [String: Any] ?? [:]
        let http = try #require(ComposeFile.hostPort((protocols["http"] as? [String: Any])?["endpoint"] as? String))
        for name in Self.components {
            let endpoint = compose.services[name]?.environment["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? ""
            let url = URL(string: endpoint)
            #expect(url?.scheme == "http" && url?.host == "otel-collector" && url?.port == http.port, "\(name) exports to \(endpoint), the collector receives OTLP/HTTP on \(http.port)")
        }
        let explorer = try #require(compose.services["explorer"])
        let explorerEndpoint = try #require(config.component("exporters", "otlphttp/explorer")?["endpoint"] as? String)
        let toExplorer = URL(string: explorerEndpoint)
        #expect(toExplorer?.host == "explorer" && toExplorer.flatMap(\.port).map(String.init) == (explorer.environment["EXPLORER_OTLP_PORT"] ?? "4318"))
        let toJaeger = ComposeFile.hostPort(config.component("exporters", "otlp/jaeger")?["endpoint"] as? String)
        #expect(toJaeger?.host == "jaeger" && toJaeger?.port == 4317)
        #expect(compose.services["jaeger"]?.environment["COLLECTOR_OTLP_ENABLED"] == "true")
        #expect(compose.services["otel-collector"]?.dependsOn["explorer"] == "service_healthy")
    }

    @Test("the ordertrace services run subcommands and options the executable has, and environment variables the code reads")
    func commandsExist() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ordertrace.path), "build the ordertrace product first")
        let compose = try await ComposeFile.load()
        let sources = try sourceText()
        let ours = compose.services.filter { $0.value.image == "ordertrace:local" }
        #expect(Set(ours.keys).isSuperset(of: Self.components + ["topics-init", "exchange-sim", "lag-monitor", "explorer"]))
        // Every service's `--help`, run by one shell: one process launched from this one instead
        // of one a service (Foundation's Process.run in Swift 6.3.1 can crash reading
        // /proc/self/fd, the more likely the more processes a busy test process launches).
        let services = ours.sorted(by: { $0.key < $1.key })
        let script = services.map { name, service in
            let subcommand = service.command.prefix { !$0.hasPrefix("-") }.joined(separator: " ")
            return "echo '=== \(name)'; \"$0\" \(subcommand) --help 2>&1; echo \"=== status $?\""
        }.joined(separator: "; ")
        let all = try await offThePool { try runToEnd("/bin/sh", ["-c", script, ordertrace.path]) }
        let sections = all.output.components(separatedBy: "=== ").dropFirst()
        for (name, service) in services {
            let subcommand = Array(service.command.prefix { !$0.hasPrefix("-") })
            let options = service.command.filter { $0.hasPrefix("--") }
            let index = try #require(services.firstIndex { $0.key == name })
            let help = try #require(sections.dropFirst(2 * index).first, "no help for \(name):\n\(all.output)")
            let status = sections.dropFirst(2 * index + 1).first ?? ""
            // An unknown subcommand prints the root help, with status 0: its usage line names it.
            let usage = "USAGE: ordertrace \(subcommand.joined(separator: " ")) "
            #expect(
                help.hasPrefix(name + "\n") && help.contains(usage) && status.hasPrefix("status 0"),
                "\(name): ordertrace \(subcommand.joined(separator: " ")) --help:\n\(help)\(status)")
            for option in options {
                #expect(help.contains(option), "\(name): ordertrace \(subcommand.joined(separator: " ")) has no \(option)")
            }
            let unread = service.environment.keys.sorted().filter { !sources.contains("\"\($0)\"") }
            #expect(unread.isEmpty, "\(name) sets \(unread), which nothing in Sources/ reads")
        }
        // The image: the topics where topics-init looks for them, ordertrace as the entry point.
        let dockerfile = try String(contentsOf: repositoryRoot.appendingPathComponent("Dockerfile"), encoding: .utf8)
        #expect(dockerfile.contains("COPY topics/ /topics/"))
        #expect(dockerfile.contains(#"ENTRYPOINT ["ordertrace"]"#))
        #expect(dockerfile.contains("--product ordertrace --static-swift-stdlib"))
        #expect(dockerfile.contains(".resources"), "the Explorer's resource bundle is not copied beside the binary")
    }

    /// Every Swift source's text, for the names of environment variables.
    private func sourceText() throws -> String {
        var text = ""
        let enumerator = FileManager.default.enumerator(at: repositoryRoot.appendingPathComponent("Sources"), includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            if url.pathExtension == "swift" { text += try String(contentsOf: url, encoding: .utf8) }
        }
        return text
    }

    /// `docker compose config -q`: Compose's own reading of the file (interpolation, the schema,
    /// references). Runs where a Docker CLI with the Compose plugin is installed (no engine needed).
    @Test("docker compose config accepts the file", .enabled(if: dockerComposeAvailable, "no docker CLI with the compose plugin on PATH"))
    func dockerComposeAcceptsTheFile() async throws {
        let docker = try #require(executableOnPath("docker"))
        let file = ComposeFile.folder.appendingPathComponent("docker-compose.yml").path
        let result = try await offThePool { try runToEnd(docker, ["compose", "-f", file, "config", "-q"]) }
        #expect(result.status == 0, "\(result.output)")
    }
}

/// compose/otel-collector.yaml, as far as it can be checked without the collector: what the
/// service section names is defined, every component is of a type the contrib distribution has,
/// and every endpoint is an address.
@Suite("Compose stack: compose/otel-collector.yaml")
struct CollectorConfigTests {
    /// The component types this config may use, each in the contrib distribution
    /// (otel/opentelemetry-collector-contrib).
    static let knownTypes: [String: Set<String>] = [
        "receivers": ["otlp"],
        "processors": ["batch", "memory_limiter"],
        "exporters": ["otlp", "otlphttp", "debug"],
        "extensions": ["health_check"],
    ]

    @Test("every receiver, processor, exporter and extension the service names is defined, and of a known type")
    func serviceNamesDefinedComponents() async throws {
        let config = try await CollectorConfig.load()
        let service = try #require(config.document["service"] as? [String: Any])
        let pipelines = try #require(service["pipelines"] as? [String: [String: Any]])
        let traces = try #require(pipelines["traces"])
        for kind in ["receivers", "processors", "exporters"] {
            let names = traces[kind] as? [String] ?? []
            #expect(!names.isEmpty, "the traces pipeline has no \(kind)")
            for name in names { #expect(config.component(kind, name) != nil, "the traces pipeline names the undefined \(kind) \(name)") }
        }
        for name in service["extensions"] as? [String] ?? [] {
            #expect(config.component("extensions", name) != nil, "the service names the undefined extension \(name)")
        }
        for (kind, types) in Self.knownTypes {
            for name in (config.document[kind] as? [String: Any] ?? [:]).keys {
                let type = String(name.split(separator: "/", maxSplits: 1)[0])
                #expect(types.contains(type), "\(kind): \(name) is of the type \(type), not one this stack expects of the contrib distribution")
            }
        }
        #expect(Set(config.document.keys).isSubset(of: ["receivers", "processors", "exporters", "extensions", "connectors", "service"]))
        // memory_limiter first, batch after it (the collector's documented order).
        #expect(traces["processors"] as? [String] == ["memory_limiter", "batch"])
        #expect(Set(traces["exporters"] as? [String] ?? []) == ["otlphttp/explorer", "otlp/jaeger"])
    }

    @Test("every endpoint is host:port (an http URL for otlphttp), the receivers listen on all addresses on 4317 and 4318")
    func endpointsAreAddresses() async throws {
        let config = try await CollectorConfig.load()
        let protocols = config.component("receivers", "otlp")?["protocols"] as? [String: [String: Any]] ?? [:]
        let grpc = ComposeFile.hostPort(protocols["grpc"]?["endpoint"] as? String)
        let http = ComposeFile.hostPort(protocols["http"]?["endpoint"] as? String)
        #expect(grpc?.host == "0.0.0.0" && grpc?.port == 4317, "\(protocols)")
        #expect(http?.host == "0.0.0.0" && http?.port == 4318, "\(protocols)")
        let health = ComposeFile.hostPort(config.component("extensions", "health_check")?["endpoint"] as? String)
        #expect(health?.port == 13133)
        for (name, value) in config.document["exporters"] as? [String: [String: Any]] ?? [:] {
            let endpoint = value["endpoint"] as? String ?? ""
            if name.hasPrefix("otlphttp") {
                let url = URL(string: endpoint)
                #expect(url?.scheme == "http" && url?.host != nil && url?.port != nil, "\(name): \(endpoint)")
            } else if name.hasPrefix("otlp") {
                #expect(ComposeFile.hostPort(endpoint) != nil, "\(name): \(endpoint) is not host:port")
                #expect((value["tls"] as? [String: Any])?["insecure"] as? Bool == true, "\(name) would need TLS")
            }
        }
        let limiter = try #require(config.component("processors", "memory_limiter"))
        #expect(limiter["check_interval"] != nil && (limiter["limit_mib"] != nil || limiter["limit_percentage"] != nil))
    }
}

/// Whether `docker compose` works here (the CLI and its compose plugin; no engine needed).
let dockerComposeAvailable: Bool = {
    guard let docker = executableOnPath("docker") else { return false }
    return (try? runToEnd(docker, ["compose", "version"]).status) == 0
}()

/// A YAML file of the repository as JSON values (Tests/Interop/yaml_json.py, PyYAML).
func loadYAML(_ relativePath: String, composeDefaults: Bool = false) async throws -> Any {
    let script = repositoryRoot.appendingPathComponent("Tests/Interop/yaml_json.py").path
    let file = repositoryRoot.appendingPathComponent(relativePath).path
    let result = try await offThePool { () throws -> (status: Int32, output: Data, errors: String) in
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + (composeDefaults ? ["--compose-defaults"] : []) + [file]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try launch(process)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, data, String(decoding: message, as: UTF8.self))
    }
    try #require(result.status == 0, "yaml_json.py \(relativePath) failed (PyYAML: `make test-deps` installs it): \(result.errors)")
    return try JSONSerialization.jsonObject(with: result.output, options: [.fragmentsAllowed])
}

/// compose/docker-compose.yml's services, as Compose reads them with no variable set.
struct ComposeFile {
    static let folder = repositoryRoot.appendingPathComponent("compose")

    struct Mount {
        var source: String
        var target: String
        var isBind: Bool
    }

    struct Port: CustomStringConvertible {
        var host: Int?
        var container: Int
        var description: String { "\(host.map(String.init) ?? "-"):\(container)" }
    }

    struct Service {
        var image: String
        var build: (context: String, dockerfile: String)?
        var command: [String]
        var environment: [String: String]
        var volumes: [Mount]
        var ports: [Port]
        /// Service name -> condition.
        var dependsOn: [String: String]
        /// The test's words, nil without one (or when disabled).
        var healthcheck: [String]?
        var restart: String?
        var containerName: String?
        var hostname: String?
    }

    var services: [String: Service]
    var volumes: Set<String>

    static func load() async throws -> ComposeFile {
        let document = try #require(try await loadYAML("compose/docker-compose.yml", composeDefaults: true) as? [String: Any])
        var services: [String: Service] = [:]
        for (name, value) in document["services"] as? [String: [String: Any]] ?? [:] {
            services[name] = Service(value)
        }
        return ComposeFile(services: services, volumes: Set((document["volumes"] as? [String: Any] ?? [:]).keys))
    }

    /// `NAME://host:port` of a Kafka listener list.
    static func listener(_ text: Substring) -> (String, (host: String, port: Int)) {
        let parts = text.components(separatedBy: "://")
        return (parts[0], hostPort(parts.count > 1 ? parts[1] : "") ?? ("", 0))
    }

    /// `host:port`, nil when it is not one.
    static func hostPort(_ text: String?) -> (host: String, port: Int)? {
        guard let text, let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            return nil
        }
        let host = String(text[..<colon])
        guard !host.isEmpty, !host.contains("/"), !host.contains(" ") else { return nil }
        return (host, port)
    }
}

extension ComposeFile.Service {
    init(_ value: [String: Any]) {
        func text(_ any: Any?) -> String? {
            switch any {
            case let string as String: return string
            case let bool as Bool: return String(bool)
            case let number as NSNumber: return number.stringValue
            default: return nil
            }
        }
        image = value["image"] as? String ?? ""
        if let build = value["build"] as? [String: Any] {
            self.build = (build["context"] as? String ?? ".", build["dockerfile"] as? String ?? "Dockerfile")
        } else if let context = value["build"] as? String {
            build = (context, "Dockerfile")
        }
        if let words = value["command"] as? [Any] {
            command = words.compactMap(text)
        } else {
            command = (value["command"] as? String)?.split(separator: " ").map(String.init) ?? []
        }
        environment = [:]
        if let map = value["environment"] as? [String: Any] {
            for (key, item) in map { environment[key] = text(item) ?? "" }
        } else {
            for entry in value["environment"] as? [String] ?? [] {
                let parts = entry.split(separator: "=", maxSplits: 1)
                environment[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
        }
        volumes = (value["volumes"] as? [Any] ?? []).compactMap { entry in
            if let short = entry as? String {
                let parts = short.split(separator: ":").map(String.init)
                guard parts.count >= 2 else { return nil }
                let isBind = parts[0].hasPrefix(".") || parts[0].hasPrefix("/") || parts[0].hasPrefix("~")
                return ComposeFile.Mount(source: parts[0], target: parts[1], isBind: isBind)
            }
            guard let long = entry as? [String: Any] else { return nil }
            return ComposeFile.Mount(source: long["source"] as? String ?? "", target: long["target"] as? String ?? "", isBind: long["type"] as? String == "bind")
        }
        ports = (value["ports"] as? [Any] ?? []).compactMap { entry in
            if let short = text(entry) {
                // [address:][host:]container[/protocol]
                let parts = short.split(separator: "/")[0].split(separator: ":").map(String.init)
                guard let container = parts.last.flatMap({ Int($0) }) else { return nil }
                return ComposeFile.Port(host: parts.count >= 2 ? Int(parts[parts.count - 2]) : nil, container: container)
            }
            guard let long = entry as? [String: Any], let target = text(long["target"]).flatMap({ Int($0) }) else { return nil }
            return ComposeFile.Port(host: text(long["published"]).flatMap { Int($0) }, container: target)
        }
        dependsOn = [:]
        if let list = value["depends_on"] as? [String] {
            for name in list { dependsOn[name] = "service_started" }
        } else {
            for (name, item) in value["depends_on"] as? [String: [String: Any]] ?? [:] {
                dependsOn[name] = item["condition"] as? String ?? "service_started"
            }
        }
        if let check = value["healthcheck"] as? [String: Any], check["disable"] as? Bool != true {
            if let words = check["test"] as? [Any] {
                healthcheck = words.compactMap(text)
            } else if let line = check["test"] as? String {
                healthcheck = ["CMD-SHELL", line]
            }
        }
        restart = value["restart"] as? String
        containerName = value["container_name"] as? String
        hostname = value["hostname"] as? String
    }
}

/// compose/otel-collector.yaml.
struct CollectorConfig {
    var document: [String: Any]

    static func load() async throws -> CollectorConfig {
        CollectorConfig(document: try #require(try await loadYAML("compose/otel-collector.yaml") as? [String: Any]))
    }

    /// A component's settings (an empty map for one defined without any), nil when undefined.
    func component(_ kind: String, _ name: String) -> [String: Any]? {
        guard let section = document[kind] as? [String: Any], section.keys.contains(name) else { return nil }
        return section[name] as? [String: Any] ?? [:]
    }
}
