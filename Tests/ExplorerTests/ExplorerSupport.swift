import Explorer
import Foundation
import LagMonitor
import Logging
import ServiceLifecycle
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An explorer running on ports of its own, with a store of its own.
struct RunningExplorer: Sendable {
    let explorer: Explorer
    let otlpPort: Int
    let uiPort: Int
    var tracesURL: String { "http://127.0.0.1:\(otlpPort)/v1/traces" }
    var uiURL: String { "http://127.0.0.1:\(uiPort)" }

    struct Answer: Sendable {
        var status: Int
        var body: Data
        var headers: [String: String]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func post(_ body: [UInt8], contentType: String, encoding: String? = nil) async throws -> Answer {
        var request = URLRequest(url: URL(string: tracesURL)!)
        request.httpMethod = "POST"
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        if let encoding { request.setValue(encoding, forHTTPHeaderField: "Content-Encoding") }
        request.httpBody = Data(body)
        request.timeoutInterval = 60
        return try await send(request)
    }

    func get(_ path: String) async throws -> Answer {
        var request = URLRequest(url: URL(string: uiURL + path)!)
        request.timeoutInterval = 60
        return try await send(request)
    }

    /// A number of `/api/stats`.
    func statistic(_ name: String) async throws -> Int {
        let object = try JSONSerialization.jsonObject(with: try await get("/api/stats").body) as? [String: Any]
        return (object?[name] as? NSNumber)?.intValue ?? -1
    }

    private func send(_ request: URLRequest) async throws -> Answer {
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            headers[String(describing: name).lowercased()] = String(describing: value)
        }
        return Answer(status: http.statusCode, body: data, headers: headers)
    }
}

/// Runs an explorer (and `lagMonitor`, when given, as the lag page's source) for `body`.
func withExplorer<T>(
    path: String? = nil, lagMonitor: LagMonitor? = nil, _ configure: (inout ExplorerConfiguration) -> Void = { _ in },
    _ body: (RunningExplorer) async throws -> T
) async throws -> T {
    var configuration = ExplorerConfiguration(store: .init(path: path ?? temporaryFilePath("explorer", extension: "sqlite")))
    configuration.otlpPort = 0
    configuration.uiPort = 0
    configure(&configuration)
    let (ports, continuation) = AsyncStream.makeStream(of: (Int, Int).self)
    let explorer = try Explorer(configuration: configuration, lag: lagMonitor, logger: quietLogger) { otlp, ui in
        continuation.yield((otlp, ui))
        continuation.finish()
    }
    let services: [any Service] = (lagMonitor.map { [$0] } ?? []) + [explorer]
    let group = ServiceGroup(configuration: .init(services: services, logger: quietLogger))
    let running = Task { try await group.run() }
    var iterator = ports.makeAsyncIterator()
    guard let (otlp, ui) = await iterator.next() else {
        try await running.value
        throw CancellationError()
    }
    let result: Result<T, any Error>
    do {
        result = .success(try await body(RunningExplorer(explorer: explorer, otlpPort: otlp, uiPort: ui)))
    } catch {
        result = .failure(error)
    }
    await group.triggerGracefulShutdown()
    try await running.value
    return try result.get()
}

