import CZlib
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOPosix
import OTLPExporter
import OTLPReceiver
import Synchronization
import TestSupport

/// The requests a receiver got, with when each arrived; answers each as `answer` chooses
/// (given the request and how many came before it).
final class Recording: Sendable {
    struct Entry: Sendable {
        var request: ReceivedRequest
        var arrived: ContinuousClock.Instant
    }

    private let entries = Mutex<[Entry]>([])
    private let answer: @Sendable (ReceivedRequest, Int) -> ReceiverResponse?

    init(answer: @escaping @Sendable (ReceivedRequest, Int) -> ReceiverResponse? = { _, _ in nil }) {
        self.answer = answer
    }

    var requests: [ReceivedRequest] { entries.withLock { $0.map(\.request) } }
    var arrivals: [ContinuousClock.Instant] { entries.withLock { $0.map(\.arrived) } }
    var count: Int { entries.withLock { $0.count } }

    func respond(_ request: ReceivedRequest) -> ReceiverResponse? {
        let index = entries.withLock { entries in
            entries.append(Entry(request: request, arrived: .now))
            return entries.count - 1
        }
        return answer(request, index)
    }

    /// A receiver answering through this recording.
    func startReceiver() async throws -> OTLPHTTPReceiver {
        try await OTLPHTTPReceiver.start(onRequest: { [self] request in respond(request) })
    }
}

/// A configuration for `endpoint` with small, test-friendly retry waits.
func testConfiguration(
    _ endpoint: String,
    contentType: String = OTLPHTTPExporterConfiguration.protobufContentType,
    compression: OTLPHTTPExporterConfiguration.Compression = .none,
    headers: [(String, String)] = [],
    maxAttempts: Int = 5
) -> OTLPHTTPExporterConfiguration {
    var configuration = OTLPHTTPExporterConfiguration(
        endpoint: endpoint, contentType: contentType, compression: compression, headers: headers
    )
    // Generous: a test that is not about timeouts must not fail because the machine is busy
    // (under the parallel suite on two cores an answer once took over 5 s, and the retry then
    // opened a second connection). The timeout test sets its own.
    configuration.timeout = .seconds(60)
    configuration.maxAttempts = maxAttempts
    configuration.initialBackoff = .milliseconds(5)
    configuration.maxBackoff = .milliseconds(50)
    return configuration
}

/// Runs `body` with an exporter, shutting it down afterwards.
func withExporter<T>(
    _ configuration: OTLPHTTPExporterConfiguration,
    _ body: (OTLPHTTPExporter) async throws -> T
) async rethrows -> T {
    let exporter = OTLPHTTPExporter(configuration: configuration, logger: quietLogger)
    do {
        let result = try await body(exporter)
        await exporter.shutdown()
        return result
    } catch {
        await exporter.shutdown()
        throw error
    }
}

/// A TCP server that accepts connections and never answers.
func startSilentServer() async throws -> any Channel {
    try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { channel in channel.eventLoop.makeSucceededVoidFuture() }
        .bind(host: "127.0.0.1", port: 0).get()
}

/// A TCP port on 127.0.0.1 that refuses connections while `body` runs: a socket bound to it but
/// not listening holds it, so no other test's server can take it in the meantime (a port that
/// was free a moment ago can be bound by another test before the exporter connects).
func withRefusingPort<T>(_ body: (Int) async throws -> T) async throws -> T {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return try await body(Int(UInt16(bigEndian: address.sin_port)))
}

/// Waits (up to about 5 s) until `condition` holds.
func eventually(_ condition: () -> Bool) async throws {
    for _ in 0..<500 where !condition() {
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// `bytes` inflated from gzip with zlib (windowBits 15 + 16), or nil if they are not gzip.
func gunzip(_ bytes: [UInt8]) -> [UInt8]? {
    var stream = z_stream()
    guard inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
    defer { inflateEnd(&stream) }
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    var input = bytes
    var status: Int32 = Z_OK
    input.withUnsafeMutableBufferPointer { input in
        stream.next_in = input.baseAddress
        stream.avail_in = UInt32(input.count)
        repeat {
            chunk.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                status = inflate(&stream, Z_NO_FLUSH)
                output += out[0..<(out.count - Int(stream.avail_out))]
            }
        } while status == Z_OK
    }
    return status == Z_STREAM_END && stream.avail_in == 0 ? output : nil
}

/// `count` pseudo-random bytes (deterministic for a seed).
func randomBytes(_ count: Int, seed: UInt64 = 42) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
}

extension ExportResult {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }

    var failure: (reason: String, retriable: Bool)? {
        if case .failure(let reason, let retriable) = self { return (reason, retriable) }
        return nil
    }
}
