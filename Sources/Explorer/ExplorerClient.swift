import Foundation
import LocalHTTP

/// Reads the explorer's JSON API (what `ordertrace trace` uses).
public struct ExplorerClient: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The UI's address, e.g. `http://127.0.0.1:8686`.
    public var baseURL: String

    public init(baseURL: String) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    }

    /// `GET /api/lineage?id=`: the raw JSON document.
    public func lineageJSON(of id: String) async throws -> Data {
        var components = URLComponents(string: baseURL + "/api/lineage")
        components?.queryItems = [URLQueryItem(name: "id", value: id)]
        guard let url = components?.url?.absoluteString, url.hasPrefix("http://") else {
            throw Failure(description: "\(baseURL) is not an http:// URL")
        }
        // SwiftNIO, not URLSession: a command that exits must not crash at exit (see LocalHTTP).
        guard let response = await HTTPGet.fetch(url, timeout: .seconds(30)) else {
            throw Failure(description: "cannot reach the explorer at \(baseURL); start it with `ordertrace explorer` or `ordertrace up`")
        }
        let data = Data(response.body)
        let status = response.status
        guard status == 200 else {
            let message = (try? JSONDecoder().decode([String: String].self, from: data))?["error"] ?? String(decoding: data, as: UTF8.self)
            throw Failure(description: "explorer answered \(status): \(message)")
        }
        return data
    }

    /// The lineage, decoded.
    public func lineage(of id: String) async throws -> LineageDocument {
        try JSONDecoder().decode(LineageDocument.self, from: try await lineageJSON(of: id))
    }
}
