import Foundation
import KafkaTestSupport
import NIOCore
import NIOPosix
import Testing

@testable import Kafka

/// A record batch (magic 2) as a producer sends it: the header the broker reads, then `count`
/// records' worth of bytes (the broker never looks inside).
private func recordBatch(
    producerID: Int64 = -1, epoch: Int16 = 0, sequence: Int32 = -1, count: Int32 = 1, timestamp: Int64 = 1_000, padding: Int = 40,
    lastOffsetDelta: Int32? = nil
) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeInteger(Int64(0))  // base offset, set by the broker
    buffer.writeInteger(Int32(49 + padding))  // length of what follows
    buffer.writeInteger(Int32(0))  // partition leader epoch
    buffer.writeInteger(Int8(2))  // magic
    buffer.writeInteger(UInt32(0))  // crc (not checked by the broker)
    buffer.writeInteger(Int16(0))  // attributes
    buffer.writeInteger(lastOffsetDelta ?? count - 1)
    buffer.writeInteger(timestamp)  // base timestamp
    buffer.writeInteger(timestamp)  // max timestamp
    buffer.writeInteger(producerID)
    buffer.writeInteger(epoch)
    buffer.writeInteger(sequence)
    buffer.writeInteger(count)
    buffer.writeRepeatingByte(7, count: padding)
    return buffer
}

private func offset(_ result: PartitionLog.AppendResult) -> Int64? {
    if case .appended(let offset) = result { return offset }
    return nil
}

private func failure(_ result: PartitionLog.AppendResult) -> KafkaErrorCode? {
    if case .failed(let code) = result { return code }
    return nil
}

@Suite("Native embedded broker: a partition's log")
struct NativePartitionLogTests {
    @Test("batches get consecutive offsets; a read starts at the batch holding the offset and stops near the byte budget")
    func offsetsAndReads() throws {
        let log = PartitionLog(retainedBytes: 1 << 20)
        #expect(offset(log.append(recordBatch(count: 3))) == 0)
        #expect(offset(log.append(recordBatch(count: 2))) == 3)
        #expect(offset(log.append(recordBatch(count: 1))) == 5)
        #expect(log.endOffset == 6)
        let fromMiddle = log.read(from: 4, maxBytes: 1 << 20)
        #expect(fromMiddle.count == 2)
        #expect(fromMiddle.first?.getInteger(at: 0, as: Int64.self) == 3, "the stored batch carries its base offset")
        #expect(log.read(from: 0, maxBytes: 1).count == 1, "at least one batch, however small the budget")
        #expect(log.read(from: 6, maxBytes: 1 << 20).isEmpty, "nothing at the end")
        #expect(log.contains(6) && !log.contains(7))
    }

    @Test("an idempotent producer's retry is answered with its first offset and not stored twice; gaps and old epochs are refused")
    func idempotentProducers() throws {
        let log = PartitionLog(retainedBytes: 1 << 20)
        #expect(offset(log.append(recordBatch(producerID: 7, sequence: 0, count: 2))) == 0)
        #expect(offset(log.append(recordBatch(producerID: 7, sequence: 2, count: 3))) == 2)
        #expect(offset(log.append(recordBatch(producerID: 7, sequence: 0, count: 2))) == 0, "a retry of the first batch")
        #expect(log.endOffset == 5)
        #expect(failure(log.append(recordBatch(producerID: 7, sequence: 9, count: 1))) == .outOfOrderSequenceNumber)
        #expect(offset(log.append(recordBatch(producerID: 7, epoch: 1, sequence: 0, count: 1))) == 5, "a new epoch starts at 0")
        #expect(failure(log.append(recordBatch(producerID: 7, epoch: 0, sequence: 5, count: 1))) == .invalidProducerEpoch)
        #expect(offset(log.append(recordBatch(producerID: 8, sequence: 0, count: 1))) == 6, "producers have their own sequences")
        #expect(log.endOffset == 7)
    }

    @Test("past what it keeps, the oldest batches go and the log start moves up; bytes that are no batch are refused")
    func retentionAndCorruption() throws {
        let log = PartitionLog(retainedBytes: 1_000)
        for _ in 0..<30 { _ = log.append(recordBatch(count: 2, padding: 100)) }  // 161 bytes a batch
        #expect(log.endOffset == 60)
        #expect(log.logStartOffset == 48, "six batches of 161 bytes fit in 1,000")
        #expect(!log.contains(47) && log.contains(48))
        #expect(log.read(from: 10, maxBytes: 1 << 20).isEmpty)
        #expect(log.read(from: 48, maxBytes: 1 << 20).count == 6)
        var garbage = ByteBuffer()
        garbage.writeRepeatingByte(0xff, count: 80)
        #expect(failure(log.append(garbage)) == .corruptMessage)
        #expect(failure(log.append(recordBatch(count: 1).getSlice(at: 0, length: 70)!)) == .corruptMessage, "a cut batch")
        #expect(failure(log.append(recordBatch(count: 3, lastOffsetDelta: 5))) == .corruptMessage, "offsets that are not its records")
        #expect(failure(log.append(recordBatch(count: Int32.max, lastOffsetDelta: Int32.max))) == .corruptMessage, "more offsets than an Int32 counts")
        #expect(log.endOffset == 60)
    }

    @Test("a time finds the first batch that reaches it")
    func offsetForTime() throws {
        let log = PartitionLog(retainedBytes: 1 << 20)
        _ = log.append(recordBatch(count: 2, timestamp: 100))
        _ = log.append(recordBatch(count: 2, timestamp: 200))
        #expect(log.offset(forTimestamp: 150) == 2)
        #expect(log.offset(forTimestamp: 50) == 0)
        #expect(log.offset(forTimestamp: 300) == 4)
    }
}

@Suite("Native embedded broker: a consumer group's rebalances")
struct NativeConsumerGroupTests {
    final class Answers: @unchecked Sendable {
        var joins: [String: ConsumerGroup.JoinAnswer] = [:]
        var syncs: [String: ConsumerGroup.SyncAnswer] = [:]
    }

    static let protocols: [(name: String, metadata: ByteBuffer)] = [("range", ByteBuffer(string: "m"))]

    func join(_ group: ConsumerGroup, _ member: String, as key: String, _ answers: Answers, at now: NIODeadline, session: TimeAmount = .seconds(10)) {
        group.join(
            memberID: member, clientID: "c", sessionTimeout: session, rebalanceTimeout: .seconds(30),
            protocolType: "consumer", protocols: Self.protocols, now: now
        ) { answers.joins[key] = $0 }
    }

    @Test("a second member makes the first join again; the leader's assignment reaches the follower; an old generation is refused")
    func twoMembers() throws {
        let group = ConsumerGroup(id: "g")
        let answers = Answers()
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        join(group, "", as: "a", answers, at: start)
        let a = try #require(answers.joins["a"])
        #expect(a.error == .none && a.generation == 1 && a.leader == a.memberID && a.members.count == 1)
        group.sync(memberID: a.memberID, generation: 1, assignments: [(a.memberID, ByteBuffer(string: "all"))], now: start) { answers.syncs["a"] = $0 }
        #expect(answers.syncs["a"]?.assignment == ByteBuffer(string: "all"))

        join(group, "", as: "b", answers, at: start)
        #expect(answers.joins["b"] == nil, "waits for the first member to join again")
        #expect(group.heartbeat(memberID: a.memberID, generation: 1, now: start) == .rebalanceInProgress)
        #expect(group.mayCommit(memberID: a.memberID, generation: 1, now: start) == .none, "the revoke's commit still counts")
        join(group, a.memberID, as: "a2", answers, at: start)
        let a2 = try #require(answers.joins["a2"])
        let b = try #require(answers.joins["b"])
        #expect(a2.generation == 2 && b.generation == 2)
        #expect(a2.leader == a.memberID && a2.members.count == 2 && b.members.isEmpty)

        group.sync(memberID: b.memberID, generation: 2, assignments: [], now: start) { answers.syncs["b"] = $0 }
        #expect(answers.syncs["b"] == nil, "the follower waits for the leader's assignment")
        #expect(group.mayCommit(memberID: b.memberID, generation: 2, now: start) == .rebalanceInProgress)
        group.sync(
            memberID: a.memberID, generation: 2,
            assignments: [(a.memberID, ByteBuffer(string: "0")), (b.memberID, ByteBuffer(string: "1"))], now: start
        ) { answers.syncs["a2"] = $0 }
        #expect(answers.syncs["b"]?.assignment == ByteBuffer(string: "1"))
        #expect(answers.syncs["a2"]?.assignment == ByteBuffer(string: "0"))
        #expect(group.heartbeat(memberID: b.memberID, generation: 2, now: start) == .none)
        #expect(group.mayCommit(memberID: b.memberID, generation: 1, now: start) == .illegalGeneration)
        #expect(group.mayCommit(memberID: "nobody", generation: 2, now: start) == .unknownMemberID)
    }

    @Test("a member that stops heartbeating is removed after its session, and the others rebalance without it")
    func sessionExpiry() throws {
        let group = ConsumerGroup(id: "g")
        let answers = Answers()
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        join(group, "", as: "a", answers, at: start, session: .seconds(6))
        let a = try #require(answers.joins["a"])
        join(group, "", as: "b", answers, at: start, session: .seconds(6))
        join(group, a.memberID, as: "a2", answers, at: start, session: .seconds(6))
        let b = try #require(answers.joins["b"])
        group.sync(memberID: a.memberID, generation: 2, assignments: [], now: start) { answers.syncs["a"] = $0 }
        group.sync(memberID: b.memberID, generation: 2, assignments: [], now: start) { answers.syncs["b"] = $0 }
        #expect(group.state == .stable)

        // b heartbeats, a falls silent.
        group.expire(now: start + .seconds(5))
        #expect(group.heartbeat(memberID: b.memberID, generation: 2, now: start + .seconds(5)) == .none)
        group.expire(now: start + .seconds(7))
        #expect(group.heartbeat(memberID: a.memberID, generation: 2, now: start + .seconds(7)) == .unknownMemberID)
        #expect(group.heartbeat(memberID: b.memberID, generation: 2, now: start + .seconds(7)) == .rebalanceInProgress)
        join(group, b.memberID, as: "b2", answers, at: start + .seconds(7), session: .seconds(6))
        let b2 = try #require(answers.joins["b2"])
        #expect(b2.generation == 3 && b2.leader == b.memberID && b2.members.map(\.id) == [b.memberID])
        #expect(group.leave(memberID: b.memberID, now: start + .seconds(8)) == .none)
        #expect(group.isEmpty && group.state == .empty)
        #expect(group.mayCommit(memberID: "", generation: -1, now: start) == .none, "an empty group takes commits from outside")
    }
}

@Suite("Native embedded broker: requests", .timeLimit(.minutes(2)))
struct NativeBrokerRequestTests {
    /// A Fetch v4 body for one partition from `offset`, held up to `wait` ms for one byte.
    func fetchRequest(topic: String, offset: Int64, wait: Int32) -> ByteBuffer {
        var body = ByteBuffer()
        body.writeInteger(Int32(-1))  // replica
        body.writeInteger(wait)
        body.writeInteger(Int32(1))  // min bytes
        body.writeInteger(Int32(1 << 20))  // max bytes
        body.writeInteger(Int8(0))  // isolation
        body.writeKafkaArray([topic]) { body, topic in
            body.writeKafkaString(topic)
            body.writeKafkaArray([offset]) { body, offset in
                body.writeInteger(Int32(0))
                body.writeInteger(offset)
                body.writeInteger(Int32(1 << 20))
            }
        }
        return body
    }

    /// A Produce v3 body with one batch for partition 0.
    func produceRequest(topic: String, acks: Int16 = -1) -> ByteBuffer {
        var body = ByteBuffer()
        body.writeKafkaString(nil)
        body.writeInteger(acks)
        body.writeInteger(Int32(30_000))
        body.writeKafkaArray([topic]) { body, topic in
            body.writeKafkaString(topic)
            body.writeKafkaArray([Int32(0)]) { body, partition in
                body.writeInteger(partition)
                body.writeKafkaBytes(recordBatch(count: 2))
            }
        }
        return body
    }

    /// A response's parts as the client reads them, one after the other.
    func joined(_ parts: [ByteBuffer]) -> ByteBuffer {
        var whole = ByteBuffer()
        for var part in parts { whole.writeBuffer(&part) }
        return whole
    }

    /// The records bytes of the only partition of a Fetch v4 response, and its error code.
    func fetched(_ response: ByteBuffer) throws -> (error: Int16, records: Int) {
        var reader = KafkaReader(response)
        _ = try reader.int32()  // throttle
        let topics = try reader.array { reader -> [(Int16, Int)] in
            _ = try reader.string()
            return try reader.array { reader in
                _ = try reader.int32()
                let error = try reader.int16()
                _ = try reader.int64()
                _ = try reader.int64()
                _ = try reader.int32()  // aborted transactions (none)
                return (error, try reader.bytes().readableBytes)
            }
        }
        let only = try #require(topics.first?.first)
        return (only.0, only.1)
    }

    @Test("a fetch held for lack of records is answered as the records arrive, long before its wait ends")
    func heldFetchWakesOnProduce() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let requests = UnsafeTransfer((fetch: fetchRequest(topic: "t", offset: 0, wait: 600_000), produce: produceRequest(topic: "t")))
        let outcome = try await loop.submit { () throws -> (heldAtFirst: Bool, produced: Bool, answer: ByteBuffer?) in
            let core = NativeBrokerCore(eventLoop: loop, advertisedHost: "127.0.0.1", retainedBytesPerPartition: 1 << 20, defaultPartitions: 1)
            core.createTopic("t", partitions: 1)
            var answer: ByteBuffer?
            var fetch = KafkaReader(requests.value.fetch)
            try core.fetch(version: 4, &fetch) { answer = $0.map(joined) }
            let heldAtFirst = answer == nil
            var produced = false
            var produce = KafkaReader(requests.value.produce)
            try core.produce(version: 3, &produce) { produced = $0 != nil }
            return (heldAtFirst, produced, answer)
        }.get()
        #expect(outcome.heldAtFirst, "nothing to read: the fetch waits")
        #expect(outcome.produced)
        let answer = try #require(outcome.answer, "the produce ended the wait")
        let partition = try fetched(answer)
        #expect(partition.error == 0)
        #expect(partition.records == recordBatch(count: 2).readableBytes)
    }

    @Test("fetches whose wait ends are answered empty, in the order of their deadlines, each no earlier than its wait; one answered early leaves the others waiting")
    func waitsEndInDeadlineOrder() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        // Waits of 300, 100, 200 and 250 ms on topic "a", and one on topic "b" that a produce answers.
        let waits: [Int32] = [300, 100, 200, 250]
        let requests = UnsafeTransfer(
            (fetches: waits.map { fetchRequest(topic: "a", offset: 0, wait: $0) }, early: fetchRequest(topic: "b", offset: 0, wait: 150),
             produce: produceRequest(topic: "b")))
        // Touched on the broker's event loop only; read after the last answer (the promise orders them).
        final class Answers: @unchecked Sendable {
            var list: [(wait: Int32, after: Duration, records: Int)] = []
        }
        let answers = Answers()
        let started = ContinuousClock.now
        let allAnswered = loop.makePromise(of: Void.self)
        try await loop.submit {
            let core = NativeBrokerCore(eventLoop: loop, advertisedHost: "127.0.0.1", retainedBytesPerPartition: 1 << 20, defaultPartitions: 1)
            core.createTopic("a", partitions: 1)
            core.createTopic("b", partitions: 1)
            func record(_ wait: Int32, _ response: [ByteBuffer]?) {
                let records = (try? response.map { try self.fetched(self.joined($0)).records }) ?? nil
                answers.list.append((wait, ContinuousClock.now - started, records ?? -1))
                if answers.list.count == waits.count + 1 { allAnswered.succeed() }
            }
            for (wait, request) in zip(waits, requests.value.fetches) {
                var reader = KafkaReader(request)
                try core.fetch(version: 4, &reader) { record(wait, $0) }
            }
            var early = KafkaReader(requests.value.early)
            try core.fetch(version: 4, &early) { record(150, $0) }
            var produce = KafkaReader(requests.value.produce)
            try core.produce(version: 3, &produce) { _ in }
        }.get()
        try await allAnswered.futureResult.get()
        let seen = answers.list
        #expect(seen.first?.wait == 150 && seen.first?.records == recordBatch(count: 2).readableBytes, "the produce answered its fetch first: \(seen)")
        let timedOut = seen.dropFirst()
        #expect(timedOut.map(\.wait) == [100, 200, 250, 300], "in deadline order: \(seen)")
        for answer in timedOut {
            #expect(answer.records == 0, "nothing to read in \"a\"")
            #expect(answer.after >= .milliseconds(Int64(answer.wait)), "answered before its wait ended: \(answer)")
        }
    }

    @Test("the deadline heap gives its entries back earliest first")
    func deadlineHeapOrder() {
        var heap = DeadlineHeap()
        var generator = SystemRandomNumberGenerator()
        let deadlines = (0..<500).map { _ in NIODeadline.uptimeNanoseconds(UInt64.random(in: 0..<1_000_000, using: &generator)) }
        for (id, deadline) in deadlines.enumerated() { heap.insert(deadline, id) }
        var popped: [NIODeadline] = []
        while let (deadline, _) = heap.first {
            popped.append(deadline)
            heap.removeFirst()
        }
        #expect(popped == deadlines.sorted())
        #expect(heap.count == 0)
    }

    @Test("CreateTopics creates a topic once, and refuses a second of that name, a bad name, too many partitions and more than one replica")
    func createTopics() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        func request(_ topics: [(String, Int32, Int16)]) -> ByteBuffer {
            var body = ByteBuffer()
            body.writeKafkaArray(topics) { body, topic in
                body.writeKafkaString(topic.0)
                body.writeInteger(topic.1)
                body.writeInteger(topic.2)
                body.writeKafkaArray([Int32]()) { $0.writeInteger($1) }
                body.writeKafkaArray([String]()) { $0.writeKafkaString($1) }
            }
            body.writeInteger(Int32(1_000))
            body.writeInteger(Int8(0))  // not validate-only
            return body
        }
        let body = UnsafeTransfer(request([("new", 3, 1), ("new", 3, 1), ("bad name!", 1, 1), ("huge", Int32.max, 1), ("replicated", 1, 3)]))
        let outcome = try await loop.submit { () throws -> (errors: [Int16], partitions: Int?) in
            let core = NativeBrokerCore(eventLoop: loop, advertisedHost: "127.0.0.1", retainedBytesPerPartition: 1 << 20, defaultPartitions: 1)
            var reader = KafkaReader(body.value)
            var response = try KafkaReader(core.createTopics(version: 2, &reader))
            _ = try response.int32()  // throttle
            let errors = try response.array { response -> Int16 in
                _ = try response.string()
                let error = try response.int16()
                _ = try response.nullableString()
                return error
            }
            return (errors, core.topics["new"]?.count)
        }.get()
        #expect(outcome.errors == [0, 36, 17, 37, 38])
        #expect(outcome.partitions == 3)
    }

    @Test("a fetch from beyond the log's end is answered at once with OFFSET_OUT_OF_RANGE; a produce with acks=0 gets no answer")
    func outOfRangeAndAcksZero() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let requests = UnsafeTransfer((fetch: fetchRequest(topic: "t", offset: 5, wait: 600_000), produce: produceRequest(topic: "t", acks: 0)))
        let outcome = try await loop.submit { () throws -> (answer: ByteBuffer?, produceAnswered: Bool, end: Int64) in
            let core = NativeBrokerCore(eventLoop: loop, advertisedHost: "127.0.0.1", retainedBytesPerPartition: 1 << 20, defaultPartitions: 1)
            core.createTopic("t", partitions: 1)
            var answer: ByteBuffer?
            var fetch = KafkaReader(requests.value.fetch)
            try core.fetch(version: 4, &fetch) { answer = $0.map(joined) }
            var produceAnswered = true
            var produce = KafkaReader(requests.value.produce)
            try core.produce(version: 3, &produce) { produceAnswered = $0 != nil }
            return (answer, produceAnswered, core.partition("t", 0)!.endOffset)
        }.get()
        let partition = try fetched(try #require(outcome.answer))
        #expect(partition.error == KafkaErrorCode.offsetOutOfRange.rawValue)
        #expect(!outcome.produceAnswered)
        #expect(outcome.end == 2, "stored all the same")
    }
}

@Suite("Native embedded broker: over the network", .timeLimit(.minutes(2)))
struct NativeBrokerNetworkTests {
    @Test("bytes that are no request close that connection only; the broker goes on serving")
    func garbageClosesOneConnection() async throws {
        try await withEmbeddedBroker { broker in
            let topic = uniqueName("garbage")
            try broker.createTopic(topic, partitions: 1)
            let address = broker.bootstrapServers.split(separator: ":")
            for payload: [UInt8] in [[0, 0, 0, 2, 0xff, 0xff], [0, 0, 0, 8, 0, 99, 0, 0, 0, 0, 0, 1], [0x7f, 0xff, 0xff, 0xff]] {
                let channel = try await ClientBootstrapHelper.connect(host: String(address[0]), port: Int(address[1])!)
                try await channel.send(payload)
                #expect(await channel.closedByPeer(), "the broker closes a connection after \(payload)")
            }
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: testLogger)
            let report = try await producer.send(KafkaProducerRecord(topic: topic, key: "k", value: [1]))
            #expect(report.offset == 0)
            await producer.close()
        }
    }

    @Test("kcat bootstraps from localhost, produces and reads back through a consumer group")
    func kcatRoundTrip() async throws {
        try await withEmbeddedBroker { broker in
            let topic = uniqueName("kcat")
            try broker.createTopic(topic, partitions: 3)
            let port = broker.bootstrapServers.split(separator: ":").last!
            let produce = try runKcat(["-b", "localhost:\(port)", "-P", "-t", topic, "-K:", "-X", "enable.idempotence=true"], input: "a:1\nb:2\nc:3\n")
            #expect(produce.status == 0, "\(produce.output)")
            let consume = try runKcat(["-b", "localhost:\(port)", "-G", uniqueName("g"), "-X", "auto.offset.reset=earliest", "-e", "-q", "-f", "%k=%s\\n", topic])
            #expect(consume.status == 0)
            #expect(Set(consume.output.split(separator: "\n")) == ["a=1", "b=2", "c=3"])
        }
    }

    func runKcat(_ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String) {
        let kcat = Process()
        kcat.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
        kcat.arguments = arguments
        let output = Pipe()
        kcat.standardOutput = output
        let stdin = Pipe()
        kcat.standardInput = stdin
        try kcat.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        kcat.waitUntilExit()
        return (kcat.terminationStatus, text)
    }
}

/// A plain TCP connection, to send the broker bytes no client would.
private struct ClientBootstrapHelper {
    let descriptor: Int32

    static func connect(host: String, port: Int) async throws -> ClientBootstrapHelper {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(descriptor)
            throw POSIXError(.ECONNREFUSED)
        }
        // A generous limit for the read below, on a loaded machine.
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return ClientBootstrapHelper(descriptor: descriptor)
    }

    func send(_ bytes: [UInt8]) async throws {
        guard Glibc.send(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { throw POSIXError(.EPIPE) }
    }

    /// Whether the broker closed the connection (a read that ends), rather than answering or
    /// keeping it open for 30 s; the connection is closed either way.
    func closedByPeer() async -> Bool {
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }
}
