import Settings
import TraceStore

/// Where the explorer listens and keeps its data, from the environment.
public struct ExplorerConfiguration: Sendable {
    /// The OTLP/HTTP receiver (`/v1/traces`).
    public var otlpHost = "127.0.0.1"
    public var otlpPort = 4318
    /// The web UI and its JSON API.
    public var uiHost = "127.0.0.1"
    public var uiPort = 8686
    /// How long a request waits for room in the store's buffer before it is answered `503`.
    public var busyWait: Duration = .seconds(2)
    /// The largest request body accepted, compressed or not.
    public var maxBodyBytes = 32 << 20
    /// The store: file, retention, write batching.
    public var store: TraceStoreConfiguration
    /// How many traces and spans one lineage may load.
    public var maxLineageTraces = 256
    public var maxLineageSpans = 20_000

    public init(store: TraceStoreConfiguration) {
        self.store = store
    }

    /// Reads `EXPLORER_OTLP_PORT` (4318), `EXPLORER_PORT` (8686), `EXPLORER_HOST` (127.0.0.1,
    /// both servers), `EXPLORER_DB` (`$ORDERTRACE_DATA_DIR/explorer.sqlite`, `.ordertrace` by
    /// default), `EXPLORER_RETENTION_HOURS` (24), `EXPLORER_MAX_MB` (2048) and
    /// `EXPLORER_MAX_BODY_MB` (32).
    /// - Throws: ``ConfigurationError`` naming the variable that cannot be used.
    public static func fromEnvironment(_ environment: [String: String]) throws(ConfigurationError) -> ExplorerConfiguration {
        let reader = EnvironmentReader(environment)
        let folder = reader.string("ORDERTRACE_DATA_DIR") ?? ".ordertrace"
        var configuration = ExplorerConfiguration(store: TraceStoreConfiguration(path: reader.string("EXPLORER_DB") ?? folder + "/explorer.sqlite"))
        if let host = reader.string("EXPLORER_HOST") {
            configuration.otlpHost = host
            configuration.uiHost = host
        }
        if let port = try reader.positiveInteger("EXPLORER_OTLP_PORT") { configuration.otlpPort = try port16("EXPLORER_OTLP_PORT", port) }
        if let port = try reader.positiveInteger("EXPLORER_PORT") { configuration.uiPort = try port16("EXPLORER_PORT", port) }
        if let hours = try reader.positiveInteger("EXPLORER_RETENTION_HOURS") { configuration.store.maxAge = .seconds(hours * 3600) }
        if let megabytes = try reader.positiveInteger("EXPLORER_MAX_MB", as: Int64.self) { configuration.store.maxBytes = megabytes << 20 }
        if let megabytes = try reader.positiveInteger("EXPLORER_MAX_BODY_MB") { configuration.maxBodyBytes = megabytes << 20 }
        return configuration
    }

    private static func port16(_ name: String, _ value: Int) throws(ConfigurationError) -> Int {
        guard value <= 65535 else {
            throw ConfigurationError(.invalidValue, setting: name, problem: "\(value) is not a TCP port", remedy: "use 1 to 65535")
        }
        return value
    }
}
