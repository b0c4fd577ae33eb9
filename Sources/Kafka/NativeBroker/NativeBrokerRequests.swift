import NIOCore

/// The requests the native embedded broker serves, one function each. Each reads its request's
/// body and calls `respond` once with the response body in parts, written one after the other
/// (nil: no response, as for a produce with acks=0), at once or, for a fetch or a group's join
/// and sync, when the answer is known. A fetch's parts are the stored batches themselves, between
/// the fields around them: the records are never copied into a response.
extension NativeBrokerCore {
    typealias Respond = (_ parts: [ByteBuffer]?) -> Void

    struct RequestHeader {
        let api: KafkaAPI
        let version: Int16
        let correlationID: Int32
        let clientID: String
        /// The client's address as Apache Kafka shows it (`/127.0.0.1`).
        var clientHost = ""
    }

    /// Serves one request. Throws for a body that does not parse (the connection is then closed,
    /// as Apache Kafka does).
    func serve(_ header: RequestHeader, _ body: inout KafkaReader, respond: @escaping Respond) throws {
        let version = header.version
        switch header.api {
        case .apiVersions: respond([apiVersions(version: version)])
        case .metadata: respond([try metadata(version: version, &body)])
        case .produce: try produce(version: version, &body, respond: respond)
        case .fetch: try fetch(version: version, &body, respond: respond)
        case .listOffsets: respond([try listOffsets(version: version, &body)])
        case .findCoordinator: respond([try findCoordinator(version: version, &body)])
        case .joinGroup: try joinGroup(version: version, clientID: header.clientID, clientHost: header.clientHost, &body, respond: respond)
        case .syncGroup: try syncGroup(version: version, &body, respond: respond)
        case .heartbeat: respond([try heartbeat(version: version, &body)])
        case .leaveGroup: respond([try leaveGroup(version: version, &body)])
        case .offsetCommit: respond([try offsetCommit(version: version, &body)])
        case .offsetFetch: respond([try offsetFetch(version: version, &body)])
        case .initProducerID: respond([try initProducerID(&body)])
        case .describeGroups: respond([try describeGroups(version: version, &body)])
        case .listGroups: respond([listGroups(version: version)])
        case .createTopics: respond([try createTopics(version: version, &body)])
        }
    }

    private func buffer() -> ByteBuffer { ByteBufferAllocator().buffer(capacity: 128) }

    // MARK: ApiVersions

    /// For a version above the ones served, the answer is version 0's form with
    /// UNSUPPORTED_VERSION and the versions served, so that the client tries again with one of them.
    func apiVersions(version: Int16) -> ByteBuffer {
        var out = buffer()
        let apis = KafkaAPI.allCases
        if version >= 3, KafkaAPI.apiVersions.versions.contains(version) {
            out.writeInteger(KafkaErrorCode.none.rawValue)
            out.writeUnsignedVarint(UInt32(apis.count + 1))
            for api in apis {
                out.writeInteger(api.rawValue)
                out.writeInteger(api.versions.lowerBound)
                out.writeInteger(api.versions.upperBound)
                out.writeUnsignedVarint(0)
            }
            out.writeInteger(Int32(0))
            out.writeUnsignedVarint(0)
            return out
        }
        let supported = KafkaAPI.apiVersions.versions.contains(version)
        out.writeInteger((supported ? KafkaErrorCode.none : .unsupportedVersion).rawValue)
        out.writeKafkaArray(apis) { out, api in
            out.writeInteger(api.rawValue)
            out.writeInteger(api.versions.lowerBound)
            out.writeInteger(api.versions.upperBound)
        }
        if supported, version >= 1 { out.writeInteger(Int32(0)) }
        return out
    }

    // MARK: Metadata

    func metadata(version: Int16, _ body: inout KafkaReader) throws -> ByteBuffer {
        let requested = version == 0
            ? try body.array { try $0.string() }
            : try body.nullableArray { try $0.string() }
        let autoCreate = version >= 4 ? try body.int8() != 0 : true
        let names: [String]
        if let requested, !(version == 0 && requested.isEmpty) {
            names = requested
        } else {
            names = topics.keys.sorted()
        }
        var out = buffer()
        if version >= 3 { out.writeInteger(Int32(0)) }
        out.writeKafkaArray(CollectionOfOne(nodeID)) { out, node in
            out.writeInteger(node)
            out.writeKafkaString(advertisedHost)
            out.writeInteger(Int32(advertisedPort))
            if version >= 1 { out.writeKafkaString(nil) }
        }
        if version >= 2 { out.writeKafkaString(clusterID) }
        if version >= 1 { out.writeInteger(nodeID) }
        out.writeKafkaArray(names) { out, name in
            var error = KafkaErrorCode.none
            if topics[name] == nil {
                if autoCreate, createTopic(name, partitions: defaultPartitions) == .created {
                    log("topic \(name) created with \(defaultPartitions) partitions (asked for by a client)")
                } else {
                    error = KafkaTopicDefinition.isLegalName(name) ? .unknownTopicOrPartition : .invalidTopic
                }
            }
            out.writeInteger(error.rawValue)
            out.writeKafkaString(name)
            if version >= 1 { out.writeInteger(Int8(0)) }
            out.writeKafkaArray(0..<(topics[name]?.count ?? 0)) { out, index in
                out.writeInteger(KafkaErrorCode.none.rawValue)
                out.writeInteger(Int32(index))
                out.writeInteger(nodeID)
                out.writeKafkaArray(CollectionOfOne(nodeID)) { $0.writeInteger($1) }
                out.writeKafkaArray(CollectionOfOne(nodeID)) { $0.writeInteger($1) }
                if version >= 5 { out.writeKafkaArray([Int32]()) { $0.writeInteger($1) } }
            }
        }
        return out
    }

    // MARK: Produce

    func produce(version: Int16, _ body: inout KafkaReader, respond: Respond) throws {
        let transactionalID = try body.nullableString()
        let acks = try body.int16()
        _ = try body.int32()  // timeout: every append is done at once
        struct Result {
            var partition: Int32
            var error: KafkaErrorCode
            var baseOffset: Int64 = -1
            var logStartOffset: Int64 = -1
        }
        var appended: [PartitionKey] = []
        let results = try body.array { body -> (String, [Result]) in
            let topic = try body.string()
            let partitions = try body.array { body -> Result in
                let index = try body.int32()
                let records = try body.nullableBytes()
                guard transactionalID == nil else { return Result(partition: index, error: .invalidRequest) }
                guard let log = partition(topic, index) else { return Result(partition: index, error: .unknownTopicOrPartition) }
                guard let records, records.readableBytes > 0 else { return Result(partition: index, error: .corruptMessage) }
                switch log.append(records) {
                case .appended(let baseOffset):
                    appended.append(PartitionKey(topic: topic, partition: index))
                    return Result(partition: index, error: .none, baseOffset: baseOffset, logStartOffset: log.logStartOffset)
                case .failed(let error):
                    return Result(partition: index, error: error)
                }
            }
            return (topic, partitions)
        }
        if !appended.isEmpty { self.appended(to: appended) }
        guard acks != 0 else { return respond(nil) }
        var out = buffer()
        out.writeKafkaArray(results) { out, topic in
            out.writeKafkaString(topic.0)
            out.writeKafkaArray(topic.1) { out, result in
                out.writeInteger(result.partition)
                out.writeInteger(result.error.rawValue)
                out.writeInteger(result.baseOffset)
                out.writeInteger(Int64(-1))  // log append time: CreateTime topics
                if version >= 5 { out.writeInteger(result.logStartOffset) }
            }
        }
        out.writeInteger(Int32(0))
        respond([out])
    }

    // MARK: Fetch

    private struct FetchPartition {
        let index: Int32
        let offset: Int64
        let maxBytes: Int
    }

    func fetch(version: Int16, _ body: inout KafkaReader, respond: @escaping Respond) throws {
        _ = try body.int32()  // replica id
        let maxWait = try body.int32()
        let minBytes = try body.int32()
        let maxBytes = try body.int32()
        _ = try body.int8()  // isolation level: every record is committed at once
        let requested = try body.array { body -> (String, [FetchPartition]) in
            let topic = try body.string()
            let partitions = try body.array { body -> FetchPartition in
                let index = try body.int32()
                let offset = try body.int64()
                if version >= 5 { _ = try body.int64() }
                return FetchPartition(index: index, offset: offset, maxBytes: Int(max(0, try body.int32())))
            }
            return (topic, partitions)
        }
        let first = fetchResponse(version: version, requested, maxBytes: Int(maxBytes))
        // Answered at once: enough records (fetch.min.bytes), an error, or no wait allowed.
        guard first.bytes < Int(minBytes), !first.hasError, maxWait > 0 else { return respond(first.response) }
        let keys = requested.flatMap { topic in topic.1.map { PartitionKey(topic: topic.0, partition: $0.index) } }
        let deadline = NIODeadline.now() + .milliseconds(Int64(maxWait))
        // Held until the partitions have min.bytes between them or the wait ends.
        func hold() {
            park(keys: keys, until: deadline) { [self] timedOut in
                let next = fetchResponse(version: version, requested, maxBytes: Int(maxBytes))
                if timedOut || next.hasError || next.bytes >= Int(minBytes) {
                    respond(next.response)
                } else {
                    hold()
                }
            }
        }
        hold()
    }

    /// The response in parts, the bytes of records in it, and whether a partition has an error.
    private func fetchResponse(version: Int16, _ requested: [(String, [FetchPartition])], maxBytes: Int) -> (response: [ByteBuffer], bytes: Int, hasError: Bool) {
        var parts: [ByteBuffer] = []
        var out = buffer()
        var total = 0
        var hasError = false
        out.writeInteger(Int32(0))  // throttle
        out.writeKafkaArray(requested) { out, topic in
            out.writeKafkaString(topic.0)
            out.writeKafkaArray(topic.1) { out, request in
                let log = partition(topic.0, request.index)
                var error = KafkaErrorCode.none
                var batches: [ByteBuffer] = []
                if let log {
                    if !log.contains(request.offset) {
                        error = .offsetOutOfRange
                    } else {
                        let budget = max(1, min(request.maxBytes, maxBytes - total))
                        batches = log.read(from: request.offset, maxBytes: budget)
                    }
                } else {
                    error = .unknownTopicOrPartition
                }
                out.writeInteger(request.index)
                out.writeInteger(error.rawValue)
                out.writeInteger(log?.endOffset ?? -1)  // high watermark
                out.writeInteger(log?.endOffset ?? -1)  // last stable offset
                if version >= 5 { out.writeInteger(log?.logStartOffset ?? -1) }
                out.writeInteger(Int32(0))  // aborted transactions
                var size = 0
                for batch in batches { size += batch.readableBytes }
                out.writeInteger(Int32(size))
                if !batches.isEmpty {
                    parts.append(out)
                    parts.append(contentsOf: batches)
                    out = buffer()
                }
                total += size
                if error != .none { hasError = true }
            }
        }
        if out.readableBytes > 0 { parts.append(out) }
        return (parts, total, hasError)
    }

    // MARK: ListOffsets

    func listOffsets(version: Int16, _ body: inout KafkaReader) throws -> ByteBuffer {
        _ = try body.int32()  // replica id
        if version >= 2 { _ = try body.int8() }
        let requested = try body.array { body -> (String, [(Int32, Int64)]) in
            let topic = try body.string()
            return (topic, try body.array { body in (try body.int32(), try body.int64()) })
        }
        var out = buffer()
        if version >= 2 { out.writeInteger(Int32(0)) }
        out.writeKafkaArray(requested) { out, topic in
            out.writeKafkaString(topic.0)
            out.writeKafkaArray(topic.1) { out, request in
                out.writeInteger(request.0)
                guard let log = partition(topic.0, request.0) else {
                    out.writeInteger(KafkaErrorCode.unknownTopicOrPartition.rawValue)
                    out.writeInteger(Int64(-1))
                    out.writeInteger(Int64(-1))
                    return
                }
                let offset = switch request.1 {
                case -1: log.endOffset
                case -2: log.logStartOffset
                default: log.offset(forTimestamp: request.1)
                }
                out.writeInteger(KafkaErrorCode.none.rawValue)
                out.writeInteger(Int64(-1))
                out.writeInteger(offset)
            }
        }
        return out
    }

    // MARK: Groups

    func findCoordinator(version: Int16, _ body: inout KafkaReader) throws -> ByteBuffer {
        _ = try body.string()
        let keyType = version >= 1 ? try body.int8() : 0
        var out = buffer()
        if version >= 1 { out.writeInteger(Int32(0)) }
        // Groups only: transactions are not served.
        out.writeInteger((keyType == 0 ? KafkaErrorCode.none : .coordinatorNotAvailable).rawValue)
        if version >= 1 { out.writeKafkaString(keyType == 0 ? nil : "transactions are not supported by the embedded broker") }
        out.writeInteger(keyType == 0 ? nodeID : -1)
        out.writeKafkaString(keyType == 0 ? advertisedHost : "")
        out.writeInteger(Int32(keyType == 0 ? advertisedPort : -1))
        return out
    }

    func joinGroup(version: Int16, clientID: String, clientHost: String, _ body: inout KafkaReader, respond: @escaping Respond) throws {
        let groupID = try body.string()
        let sessionTimeout = try body.int32()
        let rebalanceTimeout = version >= 1 ? try body.int32() : sessionTimeout
        let memberID = try body.string()
        let protocolType = try body.string()
        let protocols = try body.array { body in (name: try body.string(), metadata: try body.bytes()) }
        let answer: (ConsumerGroup.JoinAnswer) -> Void = { answer in
            var out = ByteBufferAllocator().buffer(capacity: 128)
            if version >= 2 { out.writeInteger(Int32(0)) }
            out.writeInteger(answer.error.rawValue)
            out.writeInteger(answer.generation)
            out.writeKafkaString(answer.protocolName)
            out.writeKafkaString(answer.leader)
            out.writeKafkaString(answer.memberID)
            out.writeKafkaArray(answer.members) { out, member in
                out.writeKafkaString(member.id)
                out.writeKafkaBytes(member.metadata)
            }
            respond([out])
        }
        guard !groupID.isEmpty else { return answer(.init(error: .invalidGroupID, memberID: memberID)) }
        guard sessionTimeout > 0 else { return answer(.init(error: .invalidSessionTimeout, memberID: memberID)) }
        group(groupID, create: true)!.join(
            memberID: memberID, clientID: clientID, clientHost: clientHost, sessionTimeout: .milliseconds(Int64(sessionTimeout)),
            rebalanceTimeout: .milliseconds(Int64(max(rebalanceTimeout, 0))), protocolType: protocolType,
            protocols: protocols, now: .now(), answer: answer)
    }

    func syncGroup(version: Int16, _ body: inout KafkaReader, respond: @escaping Respond) throws {
        let groupID = try body.string()
        let generation = try body.int32()
        let memberID = try body.string()
        let assignments = try body.array { body in (memberID: try body.string(), assignment: try body.bytes()) }
        let answer: (ConsumerGroup.SyncAnswer) -> Void = { answer in
            var out = ByteBufferAllocator().buffer(capacity: 64)
            if version >= 1 { out.writeInteger(Int32(0)) }
            out.writeInteger(answer.error.rawValue)
            out.writeKafkaBytes(answer.assignment)
            respond([out])
        }
        guard let group = group(groupID, create: false) else { return answer(.init(error: .unknownMemberID)) }
        group.sync(memberID: memberID, generation: generation, assignments: assignments, now: .now(), answer: answer)
    }

    func heartbeat(version: Int16, _ body: inout KafkaReader) throws -> ByteBuffer {
        let groupID = try body.string()
        let generation = try body.int32()
        let memberID = try body.string()
        let error = group(groupID, create: false)?.heartbeat(memberID: memberID, generation: generation, now: .now()) ?? .unknownMemberID
        return errorOnly(version: version, error)
    }

    func leaveGroup(version: Int16, _ body: inout KafkaReader) throws -> ByteBuffer {
        let groupID = try body.string()
        let memberID = try body.string()
        let error = group(groupID, create: false)?.leave(memberID: memberID, now: .now()) ?? .unknownMemberID
        return errorOnly(version: version, error)
    }

    private func errorOnly(version: Int16, _ error: KafkaErrorCode) -> ByteBuffer {
        var out = buffer()
        if version >= 1 { out.writeInteger(Int32(0)) }
        out.writeInteger(error.rawValue)
        return out
    }

    func offsetCommit(version: Int16, _ body: inout KafkaReader) throws -> ByteBuffer {
        let groupID = try body.string()
        let generation = try body.int32()
        let memberID = try body.string()
        if version >= 7 { _ = try body.nullableString() }
        if version <= 4 { _ = try body.int64() }  // retention time
        let requested = try body.array { body -> (String, [(Int32, Int64, String?)]) in
            let topic = try body.string()
            return (topic, try body.array { body in
                let index = try body.int32()
                let offset = try body.int64()
                if version >= 6 { _ = try body.int32() }
                return (index, offset, try body.nullableString())
            })
        }
        var error = KafkaErrorCode.invalidGroupID
        if !groupID.isEmpty, let group = group(groupID, create: generation < 0) {
            error = group.mayCommit(memberID: memberID, generation: generation, now: .now())
            if error == .none {
                for (topic, partitions) in requested {
                    for (index, offset, metadata) in partitions { group.commit(topic: topic, partition: index, offset: offset, metadata: metadata) }
                }
            }
        } else if !groupID.isEmpty {
            error = .unknownMemberID
        }
        var out = buffer()
        if version >= 3 { out.writeInteger(Int32(0)) }
        out.writeKafkaArray(requested) { out, topic in
            out.writeKafkaString(topic.0)
            out.writeKafkaArray(topic.1) { out, partition in
                out.writeInteger(partition.0)
                out.writeInteger(error.rawValue)
            }
        }
        return out
    }

    func offsetFetch(version: Int16, _ body: inout KafkaReader) throws -> ByteBuffer {
        let groupID = try body.string()
        let requested = version >= 2
            ? try body.nullableArray { body in (try body.string(), try body.array { try $0.int32() }) }
            : try body.array { body in (try body.string(), try body.array { try $0.int32() }) }
        let group = group(groupID, create: false)
        let wanted: [(String, [Int32])] = requested
            ?? (group?.offsets ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value.keys.sorted()) }
        var out = buffer()
        if version >= 3 { out.writeInteger(Int32(0)) }
        out.writeKafkaArray(wanted) { out, topic in
            out.writeKafkaString(topic.0)
            out.writeKafkaArray(topic.1) { out, index in
                let committed = group?.offsets[topic.0]?[index]
                out.writeInteger(index)
                out.writeInteger(committed?.offset ?? -1)
                if version >= 5 { out.writeInteger(Int32(-1)) }
                out.writeKafkaString(committed?.metadata ?? "")
                out.writeInteger(KafkaErrorCode.none.rawValue)
            }
        }
        if version >= 2 { out.writeInteger(KafkaErrorCode.none.rawValue) }
        return out
    }

    func describeGroups(version: Int16, _ body: inout KafkaReader) throws -> ByteBuffer {
        let ids = try body.array { try $0.string() }
        var out = buffer()
        if version >= 1 { out.writeInteger(Int32(0)) }
        out.writeKafkaArray(ids) { out, id in
            // A group nobody joined or committed for is "Dead", as Apache Kafka answers.
            let description = group(id, create: false)?.description
            out.writeInteger(KafkaErrorCode.none.rawValue)
            out.writeKafkaString(id)
            out.writeKafkaString(description?.state ?? "Dead")
            out.writeKafkaString(description?.protocolType ?? "")
            out.writeKafkaString(description?.protocolName ?? "")
            out.writeKafkaArray(description?.members ?? []) { out, member in
                out.writeKafkaString(member.id)
                out.writeKafkaString(member.clientID)
                out.writeKafkaString(member.clientHost)
                out.writeKafkaBytes(member.metadata)
                out.writeKafkaBytes(member.assignment)
            }
        }
        return out
    }

    func listGroups(version: Int16) -> ByteBuffer {
        var out = buffer()
        if version >= 1 { out.writeInteger(Int32(0)) }
        out.writeInteger(KafkaErrorCode.none.rawValue)
        out.writeKafkaArray(groupIDs) { out, id in
            out.writeKafkaString(id)
            out.writeKafkaString(group(id, create: false)?.description.protocolType ?? "consumer")
        }
        return out
    }

    /// The most partitions a topic a client creates may have (each is a log in memory).
    static let maximumPartitions = 10_000

    /// Creates topics of one replica (the broker is alone); their configs are accepted and not
    /// applied (every topic keeps the same bytes and never compacts).
    func createTopics(version: Int16, _ body: inout KafkaReader) throws -> ByteBuffer {
        struct Wanted {
            let name: String
            let partitions: Int32
            let replicationFactor: Int16
            let assignments: Int
        }
        let wanted = try body.array { body -> Wanted in
            let name = try body.string()
            let partitions = try body.int32()
            let factor = try body.int16()
            let assignments = try body.array { body in
                _ = try body.int32()
                return try body.array { try $0.int32() }
            }
            _ = try body.array { body in (try body.string(), try body.nullableString()) }
            return Wanted(name: name, partitions: partitions, replicationFactor: factor, assignments: assignments.count)
        }
        _ = try body.int32()  // timeout: creation is immediate
        let validateOnly = version >= 1 ? try body.int8() != 0 : false
        var out = buffer()
        if version >= 2 { out.writeInteger(Int32(0)) }
        out.writeKafkaArray(wanted) { out, topic in
            let partitions = topic.partitions == -1 ? (topic.assignments > 0 ? topic.assignments : defaultPartitions) : Int(topic.partitions)
            var error = KafkaErrorCode.none
            var message: String?
            if !KafkaTopicDefinition.isLegalName(topic.name) {
                (error, message) = (.invalidTopic, "'\(topic.name)' is not a valid topic name")
            } else if topics[topic.name] != nil {
                (error, message) = (.topicAlreadyExists, "topic '\(topic.name)' already exists")
            } else if !(1...Self.maximumPartitions).contains(partitions) {
                (error, message) = (.invalidPartitions, "a topic has 1 to \(Self.maximumPartitions) partitions here, not \(partitions)")
            } else if topic.replicationFactor > 1 {
                (error, message) = (.invalidReplicationFactor, "replication factor \(topic.replicationFactor) is larger than the 1 broker of the embedded broker")
            } else if !validateOnly {
                createTopic(topic.name, partitions: partitions)
                log("topic \(topic.name) created with \(partitions) partitions (CreateTopics)")
            }
            out.writeKafkaString(topic.name)
            out.writeInteger(error.rawValue)
            if version >= 1 { out.writeKafkaString(message) }
        }
        return out
    }

    // MARK: InitProducerId

    func initProducerID(_ body: inout KafkaReader) throws -> ByteBuffer {
        let transactionalID = try body.nullableString()
        _ = try body.int32()
        var out = buffer()
        out.writeInteger(Int32(0))
        // Idempotent producers only: transactions are not served.
        out.writeInteger((transactionalID == nil ? KafkaErrorCode.none : .invalidRequest).rawValue)
        out.writeInteger(transactionalID == nil ? newProducerID() : -1)
        out.writeInteger(Int16(0))
        return out
    }
}
