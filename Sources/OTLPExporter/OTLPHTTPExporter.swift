import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// How one export ended.
public enum ExportResult: Sendable, Equatable {
    /// The endpoint answered 2xx.
    case success
    /// The export did not succeed. `retriable` tells whether sending the same data again later
    /// could (the endpoint was unreachable or overloaded, the attempts ran out, the export was
    /// cancelled) or could not (a 4xx other than 429, another non-retriable status, a bad
    /// endpoint, a shut-down exporter).
    case failure(reason: String, retriable: Bool)
}

/// An OTLP/HTTP client: POSTs already-encoded OTLP request bodies (protobuf or JSON) to one
/// endpoint over one persistent HTTP/1.1 keep-alive connection, with retries.
///
/// - One connection is opened on first use and reused across exports; it is reopened when the
///   server closes it (`Connection: close`, an idle timeout) or it fails. A request that fails on
///   a reused connection before any answer is resent at once on a new one, without counting as
///   an attempt (the server may have dropped the idle connection).
/// - Exports are serialized: concurrent calls wait for one another, first come first served.
/// - Retries: after a connection error, a timeout, or status 429, 502, 503 or 504, the export
///   waits and tries again, up to ``OTLPHTTPExporterConfiguration/maxAttempts`` attempts. The
///   wait is `initialBackoff × 2^(attempt − 1)` plus up to 20 % random jitter, at most
///   ``OTLPHTTPExporterConfiguration/maxBackoff``; a `Retry-After` header in seconds replaces it
///   (at most ``OTLPHTTPExporterConfiguration/maxRetryAfter``; HTTP-date values are ignored).
///   Any other non-2xx status is a permanent failure.
/// - Nothing blocks a thread: I/O runs on SwiftNIO event loops, waits are scheduled tasks.
/// - Cancelling the calling task ends the export promptly (the connection in use is closed).
public final class OTLPHTTPExporter: Sendable {
    private struct State: Sendable {
        var channel: (any Channel)?
        var isShutdown = false
        var busy = false
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
        var nextWaiterID: UInt64 = 0
        var backoff: Scheduled<Void>?
    }

    private enum AttemptOutcome {
        case response(ResponseSummary)
        case failed(String, staleConnection: Bool)
        case cancelled
        case shutDown
    }

    private struct ShutDownError: Error {}
    private struct AttemptTimedOut: Error, CustomStringConvertible {
        var timeout: Duration
        var description: String { "no response within \(timeout)" }
    }

    /// The configuration it was made with.
    public let configuration: OTLPHTTPExporterConfiguration
    private let endpoint: Result<Endpoint, Endpoint.Invalid>
    private let group: any EventLoopGroup
    /// The configured extra headers that can be sent (see ``init(configuration:eventLoopGroup:logger:)``).
    private let extraHeaders: [(String, String)]
    private let logger: Logger
    private let state = Mutex(State())

    /// An exporter for `configuration`; it connects on the first export.
    ///
    /// An unusable endpoint (not `http://`, malformed) is not an error here: every export then
    /// fails permanently, saying why; so does an `eventLoopGroup` that is not a NIOPosix one (the
    /// default is). The group is not shut down by ``shutdown()``.
    ///
    /// Extra headers that HTTP/1.1 cannot carry (a name that is not a token, a value with CR,
    /// LF or NUL) are dropped, with a warning.
    public init(
        configuration: OTLPHTTPExporterConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.configuration = configuration
        self.group = eventLoopGroup
        var logger = logger
        logger[metadataKey: "otlp.endpoint"] = "\(configuration.endpoint)"
        self.logger = logger
        if ClientBootstrap(validatingGroup: eventLoopGroup) == nil {
            endpoint = .failure(Endpoint.Invalid(description: "the event loop group is not a NIOPosix one"))
        } else {
            endpoint = Endpoint.parse(configuration.endpoint)
        }
        if case .failure(let invalid) = endpoint {
            logger.error("OTLP exporter unusable; exports will fail", metadata: ["reason": "\(invalid)"])
        }
        extraHeaders = configuration.headers.filter { name, value in
            let valid = Self.isValidHeader(name: name, value: value)
            if !valid {
                logger.warning("OTLP exporter header dropped: not valid in HTTP/1.1", metadata: ["header": "\(name)"])
            }
            return valid
        }
    }

    deinit {
        state.withLock { $0.channel }?.close(promise: nil)
    }

    /// POSTs one already-encoded OTLP request body (gzip-compressing it if configured).
    ///
    /// Retries on connection errors, timeouts and 429, 502, 503, 504 with exponential backoff
    /// plus jitter, honouring `Retry-After` (seconds), up to `maxAttempts`; any other non-2xx
    /// status is a permanent failure; 2xx is success. Never throws, never blocks a thread (only
    /// gzip compression runs on the caller's); cancelling the calling task stops it (with a
    /// retriable failure).
    public func export(body: [UInt8]) async -> ExportResult {
        let endpoint: Endpoint
        switch self.endpoint {
        case .success(let parsed): endpoint = parsed
        case .failure(let invalid): return .failure(reason: invalid.description, retriable: false)
        }
        guard await acquire() else { return Self.cancelled }
        defer { release() }
        if isShutdown { return Self.shutDown }

        let payload = configuration.compression == .gzip ? Gzip.compress(body) : body
        let head = requestHead(endpoint: endpoint, contentLength: payload.count)
        let buffer = ByteBuffer(bytes: payload)
        let maxAttempts = max(1, configuration.maxAttempts)
        var attempt = 1
        var resentOnFreshConnection = false
        while true {
            if Task.isCancelled { return Self.cancelled }
            let reason: String
            var retryAfter: Duration?
            switch await performAttempt(endpoint: endpoint, head: head, body: buffer) {
            case .cancelled:
                return Self.cancelled
            case .shutDown:
                return Self.shutDown
            case .response(let response):
                switch response.status.code {
                case 200..<300:
                    if attempt > 1 {
                        logger.debug("OTLP export succeeded after retrying", metadata: ["attempts": "\(attempt)"])
                    }
                    return .success
                case 429, 502, 503, 504:
                    reason = Self.describe(response)
                    retryAfter = retryAfterDelay(response.retryAfter)
                default:
                    let reason = Self.describe(response)
                    logger.warning("OTLP export rejected", metadata: ["reason": "\(reason)"])
                    return .failure(reason: reason, retriable: false)
                }
            case .failed(let description, let staleConnection):
                if staleConnection && !resentOnFreshConnection {
                    resentOnFreshConnection = true
                    logger.debug("OTLP connection was closed; resending on a new one", metadata: ["reason": "\(description)"])
                    continue
                }
                reason = description
            }
            if isShutdown { return Self.shutDown }
            if attempt >= maxAttempts {
                logger.warning("OTLP export failed", metadata: ["reason": "\(reason)", "attempts": "\(attempt)"])
                return .failure(reason: "\(reason) (gave up after \(attempt) attempt\(attempt == 1 ? "" : "s"))", retriable: true)
            }
            let delay = retryAfter ?? backoff(afterAttempt: attempt)
            logger.debug(
                "OTLP export attempt failed; retrying",
                metadata: ["reason": "\(reason)", "attempt": "\(attempt)", "delay": "\(delay)"]
            )
            guard await sleep(delay) else {
                return isShutdown ? Self.shutDown : Self.cancelled
            }
            attempt += 1
            resentOnFreshConnection = false
        }
    }

    /// Stops the exporter: closes its connection, ends a retry wait in progress, and returns
    /// once an export in progress has ended. Exports after it fail permanently.
    public func shutdown() async {
        let (channel, backoff) = state.withLock { state in
            state.isShutdown = true
            let channel = state.channel
            state.channel = nil
            return (channel, state.backoff)
        }
        backoff?.cancel()
        if let channel {
            try? await channel.close()
        }
        // Wait for the export in progress (if any) to notice.
        if await acquire() { release() }
    }

    // MARK: - One attempt

    private func performAttempt(endpoint: Endpoint, head: HTTPRequestHead, body: ByteBuffer) async -> AttemptOutcome {
        let timeout = configuration.timeout
        let deadline = NIODeadline.now() + Self.timeAmount(timeout)
        let channel: any Channel
        let reused: Bool
        do {
            (channel, reused) = try await connection(to: endpoint, deadline: deadline)
        } catch is CancellationError {
            return .cancelled
        } catch is ShutDownError {
            return .shutDown
        } catch {
            return .failed("cannot connect to \(endpoint.host):\(endpoint.port): \(Self.describe(error))", staleConnection: false)
        }

        let promise = channel.eventLoop.makePromise(of: ResponseSummary.self)
        // Failing the promise is enough: the failure path below closes the connection. (The timer
        // may fire just after a response completed the promise; then it does nothing.)
        let timer = channel.eventLoop.scheduleTask(deadline: deadline) {
            promise.fail(AttemptTimedOut(timeout: timeout))
        }
        channel.writeAndFlush(PendingRequest(head: head, body: body, response: promise)).whenFailure { error in
            promise.fail(error)
        }
        do {
            let response = try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                promise.fail(CancellationError())
                channel.close(promise: nil)
            }
            timer.cancel()
            if !response.keepAlive { drop(channel) }
            return .response(response)
        } catch {
            timer.cancel()
            drop(channel)
            if error is CancellationError { return .cancelled }
            if isShutdown { return .shutDown }
            let stale = reused && !(error is AttemptTimedOut)
            return .failed(Self.describe(error), staleConnection: stale)
        }
    }

    /// The open connection, or a new one (stored for reuse) if there is none.
    private func connection(to endpoint: Endpoint, deadline: NIODeadline) async throws -> (any Channel, reused: Bool) {
        if let channel = state.withLock({ $0.channel }) {
            if channel.isActive { return (channel, true) }
            drop(channel)
        }
        guard let bootstrap = ClientBootstrap(validatingGroup: group) else {
            throw Endpoint.Invalid(description: "the event loop group is not a NIOPosix one")  // checked in init
        }
        let connectTimeout = max(deadline - .now(), .milliseconds(1))
        let connecting = bootstrap
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(HTTPClientHandler())
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
        let connected = connecting.eventLoop.makePromise(of: (any Channel).self)
        connecting.cascade(to: connected)
        let channel = try await withTaskCancellationHandler {
            try await connected.futureResult.get()
        } onCancel: {
            connected.fail(CancellationError())
            connecting.whenSuccess { $0.close(promise: nil) }
        }
        let stored = state.withLock { state in
            guard !state.isShutdown else { return false }
            state.channel = channel
            return true
        }
        guard stored else {
            channel.close(promise: nil)
            throw ShutDownError()
        }
        logger.debug("OTLP exporter connected", metadata: ["remote": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
        return (channel, false)
    }

    /// Closes `channel` and forgets it if it is the stored connection.
    private func drop(_ channel: any Channel) {
        state.withLock { state in
            if let stored = state.channel, stored === channel { state.channel = nil }
        }
        channel.close(promise: nil)
    }

    private func requestHead(endpoint: Endpoint, contentLength: Int) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: endpoint.hostHeader)
        if !extraHeaders.contains(where: { $0.0.lowercased() == "user-agent" }) {
            headers.add(name: "User-Agent", value: "OrderTrace-OTLPExporter/1.0")
        }
        headers.add(name: "Content-Type", value: configuration.contentType)
        headers.add(name: "Content-Length", value: String(contentLength))
        if configuration.compression == .gzip {
            headers.add(name: "Content-Encoding", value: "gzip")
        }
        let reserved: Set<String> = ["host", "content-type", "content-length", "content-encoding", "transfer-encoding", "connection"]
        for (name, value) in extraHeaders where !reserved.contains(name.lowercased()) {
            headers.add(name: name, value: value)
        }
        return HTTPRequestHead(version: .http1_1, method: .POST, uri: endpoint.target, headers: headers)
    }

    // MARK: - Waiting

    /// `initialBackoff × 2^(attempt − 1)` plus up to 20 % jitter, at most `maxBackoff`.
    func backoff(afterAttempt attempt: Int) -> Duration {
        let initial = Double(Self.nanoseconds(configuration.initialBackoff))
        let cap = Double(Self.nanoseconds(configuration.maxBackoff))
        let base = initial * Double(1 << min(max(attempt - 1, 0), 30))
        let jittered = base * (1 + Double.random(in: 0..<0.2))
        return .nanoseconds(Int64(max(0, min(jittered, cap))))
    }

    /// A `Retry-After` of whole seconds as a delay (at most `maxRetryAfter`); `nil` otherwise.
    func retryAfterDelay(_ value: String?) -> Duration? {
        guard let value, let seconds = Int(OTLPHTTPExporterConfiguration.trimmed(value)), seconds >= 0 else { return nil }
        return min(.seconds(seconds), configuration.maxRetryAfter)
    }

    /// Waits `delay` on an event loop; `false` if cancelled or shut down first.
    private func sleep(_ delay: Duration) async -> Bool {
        let scheduled = group.next().scheduleTask(in: Self.timeAmount(delay)) {}
        let waiting = state.withLock { state in
            guard !state.isShutdown else { return false }
            state.backoff = scheduled
            return true
        }
        guard waiting else {
            scheduled.cancel()
            return false
        }
        defer { state.withLock { $0.backoff = nil } }
        do {
            try await withTaskCancellationHandler {
                try await scheduled.futureResult.get()
            } onCancel: {
                scheduled.cancel()
            }
            return !isShutdown
        } catch {
            return false
        }
    }

    // MARK: - Serializing exports

    /// Waits for its turn; `false` if cancelled while waiting.
    private func acquire() async -> Bool {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let immediate: Bool? = state.withLock { state in
                    if Task.isCancelled { return false }
                    if !state.busy {
                        state.busy = true
                        return true
                    }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            continuation?.resume(returning: false)
        }
    }

    /// Hands the turn to the next waiter, if any.
    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            if state.waiters.isEmpty {
                state.busy = false
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        next?.resume(returning: true)
    }

    private var isShutdown: Bool { state.withLock { $0.isShutdown } }

    // MARK: - Helpers

    private static let cancelled = ExportResult.failure(reason: "export cancelled", retriable: true)
    private static let shutDown = ExportResult.failure(reason: "exporter is shut down", retriable: false)

    private static func describe(_ response: ResponseSummary) -> String {
        var text = "HTTP \(response.status.code) \(response.status.reasonPhrase)"
        let printable = response.bodyPrefix.allSatisfy { (0x20..<0x7f).contains($0) || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }
        if !response.bodyPrefix.isEmpty && printable {
            text += ": " + String(decoding: response.bodyPrefix, as: UTF8.self)
        }
        return text
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            let causes = error.connectionErrors.map { "\($0.target): \($0.error)" }
            if let dnsError = error.dnsAAAAError ?? error.dnsAError, causes.isEmpty {
                return "cannot resolve host: \(dnsError)"
            }
            return causes.isEmpty ? "\(error)" : causes.joined(separator: "; ")
        }
        if case ChannelError.connectTimeout(let amount) = error {
            return "connect timed out after \(amount.nanoseconds / 1_000_000) ms"
        }
        return "\(error)"
    }

    private static func isValidHeader(name: String, value: String) -> Bool {
        let tokenSymbols = Set("!#$%&'*+-.^_`|~".utf8)
        let nameIsToken = !name.isEmpty && name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                || tokenSymbols.contains(byte)
        }
        return nameIsToken && !value.utf8.contains { $0 == 0x0d || $0 == 0x0a || $0 == 0x00 }
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return whole.addingReportingOverflow(attoseconds / 1_000_000_000).overflow ? .max : whole + attoseconds / 1_000_000_000
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(max(0, nanoseconds(duration)))
    }
}
