import Dispatch
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The native embedded broker's network side: it listens on one address, frames requests
/// (a 4-byte size, then the request), and answers each connection's requests in the order they
/// came, one at a time, as Apache Kafka does: a fetch waiting for records holds back the requests
/// behind it on its connection.
final class NativeBrokerServer: @unchecked Sendable {
    // @unchecked: `core` is only touched on `eventLoop` (every channel of the broker is on it).
    private let group: MultiThreadedEventLoopGroup
    private let channels: [Channel]
    private let core: NativeBrokerCore
    private let ticker: RepeatedTask
    let port: Int

    /// Binds `host:port` (see `bindLocalListeners`), creates the topics and starts the clock that
    /// expires group members.
    static func start(host: String, port: Int, topics: [KafkaTopicDefinition], retainedBytesPerPartition: Int, logger: Logger) async throws -> NativeBrokerServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let eventLoop = group.next()
        let advertised = ["0.0.0.0", "::", ""].contains(host) ? "127.0.0.1" : host
        let core = NativeBrokerCore(eventLoop: eventLoop, advertisedHost: advertised, retainedBytesPerPartition: retainedBytesPerPartition, defaultPartitions: 4)
        let unsafeCore = UnsafeTransfer(core)
        core.log = { message in logger.info("\(message)") }
        try await eventLoop.submit {
            for topic in topics {
                if unsafeCore.value.createTopic(topic.name, partitions: topic.partitions) == .invalid {
                    throw KafkaError(code: .broker, message: "cannot create topic '\(topic.name)' with \(topic.partitions) partitions")
                }
            }
        }.get()
        func bootstrap() -> ServerBootstrap {
            ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(ByteToMessageHandler(KafkaFrameDecoder()))
                        try sync.addHandler(KafkaConnectionHandler(core: unsafeCore.value, logger: logger))
                    }
                }
        }
        let channels: [Channel]
        let boundPort: Int
        do {
            (channels, boundPort) = try await bindLocalListeners(host: host, port: port, bootstrap)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await eventLoop.submit { unsafeCore.value.advertisedPort = boundPort }.get()
        let ticker = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { _ in
            unsafeCore.value.tick()
        }
        return NativeBrokerServer(group: group, channels: channels, core: core, ticker: ticker, port: boundPort)
    }

    private init(group: MultiThreadedEventLoopGroup, channels: [Channel], core: NativeBrokerCore, ticker: RepeatedTask, port: Int) {
        self.group = group
        self.channels = channels
        self.core = core
        self.ticker = ticker
        self.port = port
    }

    /// Creates a topic, waiting (microseconds) for the broker's event loop to have done it.
    /// - Throws: when a topic of that name exists or the name or partition count is not valid.
    func createTopic(_ name: String, partitions: Int) throws {
        let core = UnsafeTransfer(core)
        let result = Mutex<NativeBrokerCore.TopicCreation?>(nil)
        let done = DispatchSemaphore(value: 0)
        core.value.eventLoop.execute {
            let created = core.value.createTopic(name, partitions: partitions)
            result.withLock { $0 = created }
            done.signal()
        }
        done.wait()
        switch result.withLock({ $0 })! {
        case .created: return
        case .exists: throw KafkaError(code: .broker, message: "topic '\(name)' exists already")
        case .invalid: throw KafkaError(code: .broker, message: "cannot create topic '\(name)' with \(partitions) partitions")
        }
    }

    /// Closes the listeners and every connection; the logs are gone.
    func stop() async {
        ticker.cancel()
        for channel in channels { try? await channel.close() }
        try? await group.shutdownGracefully()
    }
}

/// A value handed to the broker's event loop, where it is only used.
struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Splits a connection's bytes into requests: a 4-byte size, then that many bytes.
struct KafkaFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    /// Apache Kafka's `socket.request.max.bytes`.
    static let maximumSize: Int32 = 100 * 1024 * 1024

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        guard size >= 0, size <= Self.maximumSize else { throw KafkaWireError("a request of \(size) bytes") }
        guard buffer.readableBytes >= 4 + Int(size) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        context.fireChannelRead(Self.wrapInboundOut(buffer.readSlice(length: Int(size))!))
        return .continue
    }
}

/// One client connection: its requests, served one at a time in the order they came.
final class KafkaConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let core: NativeBrokerCore
    private let logger: Logger
    /// Requests read and not yet served, oldest first.
    private var queue = CircularBuffer<ByteBuffer>()
    private var busy = false
    /// Set once the connection is being closed: nothing more of it is served.
    private var closing = false
    private var context: ChannelHandlerContext?

    init(core: NativeBrokerCore, logger: Logger) {
        self.core = core
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        queue.append(Self.unwrapInboundIn(data))
        serveNext()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("embedded broker: closing a connection: \(error)")
        closing = true
        context.close(promise: nil)
    }

    private func serveNext() {
        while !busy, !closing, let context, let frame = queue.popFirst() {
            busy = true
            var synchronous = true
            var answeredSynchronously = false
            serve(frame, context: context) { [self] in
                if synchronous {
                    answeredSynchronously = true
                } else {
                    // Answered later (a fetch that waited, a group's join or sync): go on from a
                    // fresh stack, never from inside the group's bookkeeping that answered.
                    busy = false
                    core.eventLoop.assumeIsolatedUnsafeUnchecked().execute { self.serveNext() }
                }
            }
            synchronous = false
            if answeredSynchronously { busy = false }
        }
    }

    /// Parses a request's header and serves it; `done` runs once its answer is written.
    private func serve(_ frame: ByteBuffer, context: ChannelHandlerContext, done: @escaping () -> Void) {
        var reader = KafkaReader(frame)
        do {
            let key = try reader.int16()
            let version = try reader.int16()
            let correlationID = try reader.int32()
            let clientID = try reader.nullableString() ?? ""
            guard let api = KafkaAPI(rawValue: key) else {
                throw KafkaWireError("request type \(key) (version \(version)) is not served by the embedded broker")
            }
            if api == .apiVersions {
                if version >= 3 { try reader.skipTaggedFields() }
            } else if !api.versions.contains(version) {
                throw KafkaWireError("\(api) version \(version) is not served (versions \(api.versions))")
            }
            var header = NativeBrokerCore.RequestHeader(api: api, version: version, correlationID: correlationID, clientID: clientID)
            if api == .joinGroup, let address = context.channel.remoteAddress?.ipAddress { header.clientHost = "/\(address)" }
            let channel = context.channel
            try core.serve(header, &reader) { parts in
                if let parts {
                    // The size and correlation id, then the parts as they are (one gathering write).
                    var size = 4
                    for part in parts { size += part.readableBytes }
                    var head = channel.allocator.buffer(capacity: 8)
                    head.writeInteger(Int32(size))
                    head.writeInteger(correlationID)
                    channel.write(head, promise: nil)
                    for part in parts { channel.write(part, promise: nil) }
                    channel.flush()
                }
                done()
            }
        } catch {
            logger.warning("embedded broker: closing a connection after a request it cannot serve: \(error)")
            closing = true
            context.close(promise: nil)
            done()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        queue.removeAll()
        context.fireChannelInactive()
    }
}
