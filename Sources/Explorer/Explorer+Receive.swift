import Hummingbird
import NIOCore
import OTLPWire

extension Explorer {
    /// `POST /v1/traces`: one OTLP/HTTP export request.
    func receive(_ request: Request) async throws -> Response {
        let contentType = (request.headers[.contentType] ?? "").lowercased()
        let isJSON: Bool
        if contentType.hasPrefix("application/x-protobuf") || contentType.hasPrefix("application/protobuf") {
            isJSON = false
        } else if contentType.hasPrefix("application/json") {
            isJSON = true
        } else {
            return refuse(.unsupportedMediaType, "Content-Type must be application/x-protobuf or application/json, not \"\(contentType)\"")
        }
        let limit = configuration.maxBodyBytes
        let buffer: ByteBuffer
        do {
            var request = request
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            return refuse(.contentTooLarge, "the body is larger than \(limit) bytes")
        }
        var body = [UInt8](buffer: buffer)
        switch (request.headers[.contentEncoding] ?? "identity").lowercased() {
        case "gzip", "x-gzip", "deflate":
            do {
                body = try Gunzip.inflate(body, limit: limit)
            } catch {
                return refuse(.badRequest, error.description)
            }
        case "identity", "":
            break
        case let other:
            return refuse(.unsupportedMediaType, "Content-Encoding \(other) is not supported; send gzip or nothing")
        }
        let batches: [ExportedSpans]
        do {
            batches = isJSON ? try OTLPTraceDecoder.json(body) : try OTLPTraceDecoder.protobuf(body)
        } catch {
            return refuse(.badRequest, "cannot read the request: \(error)")
        }
        // When the store is behind, hold the request a moment (backpressure the sender feels as
        // a slower answer) before telling it to come back later.
        var accepted = store.ingest(batches)
        let deadline = ContinuousClock.now + configuration.busyWait
        while !accepted && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
            accepted = store.ingest(batches)
        }
        guard accepted else {
            counters.withLock { $0.busy += 1 }
            var headers = HTTPFields()
            headers[.retryAfter] = "1"
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(
                status: .serviceUnavailable, headers: headers,
                body: .init(byteBuffer: ByteBuffer(string: "the explorer is writing what it has; send this again in a second\n")))
        }
        var headers = HTTPFields()
        headers[.contentType] = isJSON ? "application/json" : "application/x-protobuf"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: isJSON ? "{}" : "")))
    }

    private func refuse(_ status: HTTPResponse.Status, _ reason: String) -> Response {
        counters.withLock { $0.rejected += 1 }
        logger.debug("refused an export", metadata: ["status": "\(status.code)", "reason": "\(reason)"])
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: reason + "\n")))
    }
}
