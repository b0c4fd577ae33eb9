import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

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
        guard let url = components?.url else { throw Failure(description: "\(baseURL) is not a URL") }
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession.shared.data(from: url)
        } catch {
            throw Failure(description: "cannot reach the explorer at \(baseURL) (\(error.localizedDescription)); start it with `ordertrace explorer` or `ordertrace up`")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
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
