import Baggage
import Foundation
import Kafka
import KafkaTracing
import Logging
import OrderModel
import Pipeline
import ServiceLifecycle
import TraceContext
import Tracing

/// The allocator: reads batches and fills, allocates every fill pro-rata to the members of its
/// batch (`BatchAllocation`: integer units, largest remainder, exact average price), and
/// publishes each member's new state to order-updates.
///
/// - Idempotent per `fillId`; a fill that arrives before its batch waits for it.
/// - State lives in SQLite (`AllocatorStore`), one file per partition number, open while this
///   member holds the partition: each step's fills and state changes are one transaction,
///   committed only once Kafka has acknowledged every update the step sends, then written to a
///   compacted changelog topic, and only then do the step's records count as done. So a restart
///   or a partition moving to another replica (which opens the same file, or rebuilds it from
///   the changelog) never loses an update; one is sent twice only when the process dies between
///   Kafka's acknowledgement and the commit (see the README).
/// - Spans per the trace model: `fill_matching` in the batch trace, linked to the fill and to
///   every client order it was allocated to; `client_order_update` (and `order_completed` for a
///   terminal state) in each order's trace, parented on the member's order span from the
///   batch's `traceparent`, linked to `fill_matching`.
public struct Allocator: Service {
    public let configuration: AllocatorConfiguration
    let kafka: ComponentKafka
    let logger: Logger

    /// - Parameters:
    ///   - consumer: subscribed to batches and fills; this service runs it.
    ///   - producer: the caller runs it as a service of its own.
    public init(configuration: AllocatorConfiguration, consumer: KafkaConsumer, producer: KafkaProducer, logger: Logger) {
        self.configuration = configuration
        self.kafka = ComponentKafka(consumer: consumer, producer: producer)
        self.logger = logger
    }

    public func run() async throws {
        let directory = (configuration.databasePath as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var changelog: (topic: String, admin: KafkaAdmin)?
        if let topic = configuration.changelogTopic {
            let admin = try KafkaAdmin(configuration: kafka.consumer.configuration.kafka, logger: logger)
            try await ensureChangelog(topic, admin: admin)
            changelog = (topic, admin)
        }
        // One store per partition number (batches and fills are co-partitioned by symbol, so a
        // batch and its fills share it), open while this member holds the partition. Each step
        // is one transaction, committed once its updates are delivered and written to the
        // changelog before its records are stored as done; nothing is held between steps, so a
        // revoke only closes the stores: their next owner opens the same files if it can reach
        // them and they are current, or rebuilds them from the changelog, sends what an outbox
        // kept (files of versions that kept one) and goes on.
        var stores: [Int32: AllocatorStore] = [:]
        func store(_ partition: Int32) async throws -> AllocatorStore {
            if let store = stores[partition] { return store }
            let path = configuration.databasePath(partition: partition)
            let store: AllocatorStore
            if let changelog {
                store = try await open(partition, path: path, changelog: changelog.topic, admin: changelog.admin)
            } else {
                store = try AllocatorStore(path: path)
                logger.info("partition \(partition): allocator state at \(path), \(store.open.count) open batches")
            }
            stores[partition] = store
            // A file of a version that kept an outbox may hold updates not yet delivered; a crash
            // may have left changes the changelog lacks.
            try await sendOutbox(store)
            try await writeChangelog([(partition, store)])
            return store
        }
        try await kafka.run(tick: configuration.housekeepingInterval, logger: logger) { event, _ in
            switch event {
            case .records(let messages):
                // A transaction per partition's store, one send for all of them, the commits once
                // every update is delivered, then one changelog write. A step that has made
                // `maxStepUpdates` updates ends after its record; the next takes the records left.
                let order = messages.indices.sorted { (messages[$0].partition, $0) < (messages[$1].partition, $1) }
                var next = 0
                while next < order.count {
                    let touched = try await deliverThenCommit { touched in
                        var step = Step()
                        while next < order.count, step.count < configuration.maxStepUpdates {
                            let message = messages[order[next]]
                            if touched.last?.0 != message.partition {
                                let store = try await store(message.partition)
                                step.enter(store)
                                try store.begin()
                                touched.append((message.partition, store))
                            }
                            try handleIsolated(message, store: touched[touched.count - 1].1, step: &step)
                            next += 1
                        }
                        try await send(consume step)
                    }
                    try await writeChangelog(touched)
                }
            case .assigned(let partitions):
                for partition in Set(partitions.map(\.partition)).sorted() { _ = try await store(partition) }
            case .revoked(let partitions):
                for partition in Set(partitions.map(\.partition)).sorted() {
                    guard let store = stores.removeValue(forKey: partition) else { continue }
                    // Anything a failed write left (every step writes its own changes).
                    try await writeChangelog([(partition, store)])
                    if configuration.changelog {
                        // The changelog has all of it: the partition's state leaves this member
                        // with the partition (its next owner rebuilds it, here or elsewhere).
                        try store.close()
                        try AllocatorStore.remove(path: configuration.databasePath(partition: partition))
                        logger.info("partition \(partition): allocator state written to the changelog and removed here")
                    } else {
                        logger.info("partition \(partition): allocator state closed; its next owner opens it")
                    }
                }
            case .tick:
                for (partition, store) in stores.sorted(by: { $0.key < $1.key }) {
                    let touched = try await deliverThenCommit { touched in
                        var step = Step()
                        step.enter(store)
                        try store.begin()
                        touched.append((partition, store))
                        try housekeeping(store, step: &step)
                        try await send(consume step)
                    }
                    try await writeChangelog(touched)
                }
            case .end:
                try await writeChangelog(stores.sorted(by: { $0.key < $1.key }))
                stores.removeAll()
            }
        }
    }

    /// Creates the changelog topic when it is missing: compacted, with as many partitions as the
    /// fills topic (a store's partition number is its changelog partition).
    func ensureChangelog(_ topic: String, admin: KafkaAdmin) async throws {
        let topics = try await cancelWhenGracefulShutdown { try await admin.topics(timeout: .seconds(30)) }
        if topics.contains(where: { $0.name == topic }) { return }
        guard let fills = topics.first(where: { $0.name == configuration.topics.fills }) else {
            throw KafkaError(code: .admin, message: "the changelog \(topic) cannot be created: the topic \(configuration.topics.fills) does not exist")
        }
        let definition = KafkaTopicDefinition(
            name: topic, partitions: fills.partitionCount, replicationFactor: -1,
            config: ["cleanup.policy": "compact", "min.compaction.lag.ms": "60000"])
        let outcome: [(String, KafkaAdmin.ApplyOutcome)]
        do {
            outcome = try await admin.apply([definition], timeout: .seconds(30))
        } catch {
            throw KafkaError(
                code: .admin,
                message: "the changelog \(topic) does not exist and could not be created (\(error)); create it like the other topics (topics/allocator-changelog.json), or run with ALLOCATOR_CHANGELOG=off")
        }
        logger.info("changelog \(topic): \(outcome.first?.1.description ?? "?")")
        if let problem = outcome.first?.1, problem.isProblem {
            throw KafkaError(code: .admin, message: "the changelog \(topic): \(problem)")
        }
    }

    /// The store of a partition, current with its changelog: the local file when it is (its
    /// position is the changelog's end: nobody wrote since), else a file rebuilt from the
    /// changelog. A file that never had a changelog, next to an empty one, is adopted and
    /// written to it whole.
    func open(_ partition: Int32, path: String, changelog: String, admin: KafkaAdmin) async throws -> AllocatorStore {
        // A broker that is gone must not hold up a shutdown: these calls stop waiting at once then.
        let (low, high) = try await cancelWhenGracefulShutdown { try await admin.watermarks(topic: changelog, partition: partition, timeout: .seconds(30)) }
        if FileManager.default.fileExists(atPath: path) {
            let local = try AllocatorStore(path: path)
            let position = try local.changelogPosition
            if position == high || (position == nil && low == high) {
                try local.recordChanges()
                if position == nil, try !local.isEmpty {
                    try local.markAllChanged()
                    logger.info("partition \(partition): allocator state at \(path) adopted; it goes to the changelog whole")
                }
                logger.info("partition \(partition): allocator state at \(path) is current (changelog end \(high)), \(local.open.count) open batches")
                return local
            }
            logger.info("partition \(partition): allocator state at \(path) is behind the changelog (at \(position.map(String.init) ?? "none"), end \(high)); rebuilding")
        }
        let started = ContinuousClock.now
        let (records, end) = try await cancelWhenGracefulShutdown { try await admin.records(of: changelog, partition: partition) }
        if low > 0, let first = records.first {
            // Kafka compacts the changelog and keeps every live row; a broker that deletes old
            // records instead (the embedded one keeps about 5 MB a partition) loses old rows.
            logger.warning(
                "partition \(partition): the changelog \(changelog) starts at offset \(first.offset): older changes were deleted, not compacted; state older than that (ids of long-finished batches) is not rebuilt")
        }
        let store = try AllocatorStore.rebuilt(path: path, from: records.map { ($0.key, $0.value) }, end: end)
        try store.recordChanges()
        logger.info(
            "partition \(partition): allocator state rebuilt from \(records.count) changelog records in \(started.duration(to: .now)), \(store.open.count) open batches")
        return store
    }

    /// Runs a step whose transactions `body` begins on the stores it appends to its argument, and
    /// which returns once every record it sent is delivered; then commits them. When anything in
    /// it fails (a record not delivered among them), every one is rolled back and the error
    /// rethrown: the allocator stops before its input counts as done, and reading that input
    /// again makes the same updates. So an update is never lost, and one is sent twice only when
    /// the process dies between Kafka's acknowledgement and the commit.
    func deliverThenCommit(_ body: (inout [(Int32, AllocatorStore)]) async throws -> Void) async throws -> [(Int32, AllocatorStore)] {
        var touched: [(Int32, AllocatorStore)] = []
        do {
            try await body(&touched)
        } catch {
            for (_, store) in touched { try? store.rollBack() }
            throw error
        }
        for (_, store) in touched { try store.commit() }
        return touched
    }

    /// Writes what the stores changed to the changelog and waits until Kafka has it: only then
    /// may their input records count as done. Called after the step's updates are delivered (see
    /// `AllocatorStore+Changelog`).
    func writeChangelog(_ stores: [(Int32, AllocatorStore)]) async throws {
        guard let topic = configuration.changelogTopic else { return }
        var records: [KafkaProducerRecord] = []
        var written: [(store: AllocatorStore, changes: AllocatorStore.PendingChanges, range: Range<Int>)] = []
        for (partition, store) in stores {
            let changes = try store.pendingChanges()
            guard !changes.isEmpty else { continue }
            let first = records.count
            for change in changes.records {
                var record = KafkaProducerRecord(topic: topic, partition: partition, key: change.key, value: change.value ?? [])
                record.isTombstone = change.value == nil
                records.append(record)
            }
            written.append((store, changes, first..<records.count))
        }
        guard !written.isEmpty else { return }
        // A row that came and went since the last write leaves bookkeeping but no record.
        let results = records.isEmpty ? [] : try await kafka.producer.producer.send(records)
        for (store, changes, range) in written {
            // The changelog's end after this store's records; unknown when the broker did not
            // tell an offset.
            let offsets = try results[range].map { try $0.get().offset }
            let end = offsets.contains(nil) ? nil : offsets.compactMap { $0 }.max().map { $0 + 1 }
            try store.changesWritten(changes, end: end)
        }
    }

    /// What one step sends: records with their contexts, for one store or several (a run of items
    /// for each), and the outbox rows of a previous run's records (`sendOutbox`).
    ///
    /// The records of a step go to the producer as they are: nothing copies them between the
    /// handler that makes them and librdkafka (`takeRecords()` hands the only reference over).
    struct Step {
        /// Where a record is kept in the outbox: its row and its place in the row.
        struct Slot: Equatable {
            var sequence: Int64
            var part: Int
        }

        private(set) var records: [KafkaProducerRecord] = []
        /// Each record's parent: a context, or the span of its update (whose context is never built).
        private(set) var parents: [MessagingParent] = []
        /// Each record's baggage as its header value, when it is serialized already.
        private(set) var baggageHeaders: [[UInt8]?] = []
        private(set) var outbox: [Slot?] = []
        /// Each store's run of items: from `start` to the next run's start.
        private(set) var stores: [(store: AllocatorStore, start: Int)] = []

        var count: Int { outbox.count }

        /// The items added from now on belong to `store`: their slots are rows of its outbox.
        mutating func enter(_ store: AllocatorStore) {
            stores.append((store, count))
        }

        mutating func add(_ record: consuming KafkaProducerRecord, _ context: consuming ServiceContext, outbox slot: Slot? = nil, baggageHeader: [UInt8]? = nil) {
            add(record, parent: .context(context), outbox: slot, baggageHeader: baggageHeader)
        }

        mutating func add(_ record: consuming KafkaProducerRecord, parent: consuming MessagingParent, outbox slot: Slot? = nil, baggageHeader: [UInt8]? = nil) {
            precondition(!stores.isEmpty, "a step's items belong to a store: enter(_:) it first")
            records.append(record)
            parents.append(parent)
            baggageHeaders.append(baggageHeader)
            outbox.append(slot)
        }

        /// Forgets every item added since the step had `count` items (what a rolled-back
        /// savepoint made).
        mutating func rollBack(to count: Int) {
            precondition(count <= self.count && stores.last.map { $0.start <= count } ?? true, "a step rolls back within its current store's run")
            records.removeSubrange(count...)
            parents.removeSubrange(count...)
            baggageHeaders.removeSubrange(count...)
            outbox.removeSubrange(count...)
        }

        /// The records, handed over: the step keeps none (so the producer writes their headers
        /// in place instead of copying the array).
        mutating func takeRecords() -> [KafkaProducerRecord] {
            defer { records = [] }
            return records
        }
    }

    /// Sends the records of a step in one call; each store's delivered outbox rows leave its
    /// outbox. Throws the first delivery failure (after clearing what was delivered).
    func send(_ step: consuming Step) async throws {
        guard step.count > 0 else { return }
        let count = step.count
        let results = try await kafka.producer.send(step.takeRecords(), parents: step.parents, baggageHeaders: step.baggageHeaders)
        var firstFailure: KafkaError?
        for (run, (store, start)) in step.stores.enumerated() {
            let end = run + 1 < step.stores.count ? step.stores[run + 1].start : count
            // A row leaves the outbox once all its records are delivered; a row some of whose
            // records failed keeps just those (the allocator stops, and sends them when it starts).
            var rows: [Int64] = []
            var undelivered: [Int64: Set<Int>] = [:]
            for index in start..<end {
                let result = results[index]
                if case .failure(let error) = result, firstFailure == nil { firstFailure = error }
                guard let slot = step.outbox[index] else { continue }
                if rows.last != slot.sequence { rows.append(slot.sequence) }
                if case .failure = result { undelivered[slot.sequence, default: []].insert(slot.part) }
            }
            try store.delivered(rows.filter { undelivered[$0] == nil })
            for (sequence, parts) in undelivered.sorted(by: { $0.key < $1.key }) {
                try store.keepUndelivered(parts, of: sequence)
            }
        }
        if let firstFailure {
            logger.error("could not deliver: \(firstFailure)")
            throw firstFailure
        }
    }

    /// Sends what a previous run (or owner) stored and did not get delivered.
    func sendOutbox(_ store: AllocatorStore) async throws {
        let rows = try store.outbox()
        guard !rows.isEmpty else { return }
        logger.info("sending \(rows.count) order updates left from the previous run")
        var step = Step()
        step.enter(store)
        for row in rows {
            var context = row.traceparent.flatMap { StoredTraceContext.context(traceparent: $0) } ?? .topLevel
            if let baggage = row.baggage { context.baggage = Baggage(headerValue: baggage) }
            step.add(
                KafkaProducerRecord(topic: row.topic ?? configuration.topics.orderUpdates, key: row.key, value: row.value, headers: row.headers), context,
                outbox: Step.Slot(sequence: row.sequence, part: row.part), baggageHeader: row.baggage.map { Array($0.utf8) })
        }
        try await send(consume step)
    }

    /// Handles one record so that its content cannot stop the allocator: when the store refuses
    /// it (`AllocatorStore.InputRefused`), what it changed is undone and it is dead-lettered, so
    /// its offset is stored with the rest of the batch. Any other store error (disk full, I/O) is
    /// rethrown: the allocator stops without storing the offsets of this batch, and reads it again
    /// after a restart.
    func handleIsolated(_ message: KafkaMessage, store: AllocatorStore, step: inout Step) throws {
        let mark = step.count
        do {
            try store.isolated {
                try handle(message, store: store, step: &step)
            }
        } catch let refused as AllocatorStore.InputRefused {
            // The savepoint's rollback undid the record's changes: the step forgets its records.
            step.rollBack(to: mark)
            let span = kafka.tracing.startProcessSpan(message)
            defer { span.end() }
            deadLetter(message, errorType: "store_refused", reason: refused.reason, span: span, step: &step)
            return
        }
    }

    func handle(_ message: KafkaMessage, store: AllocatorStore, step: inout Step) throws {
        let processSpan = kafka.tracing.startProcessSpan(message)
        defer { processSpan.end() }
        if message.topic == configuration.topics.batches {
            switch Batch.decode(json: message.value) {
            case .failure(let errors):
                deadLetter(message, errorType: "validation", reason: errors.description, span: processSpan, step: &step)
            case .success(let batch):
                processSpan.attributes[BusinessAttribute.batchID] = batch.batchId
                guard let opened = try store.addBatch(batch, now: WallClock.nowMilliseconds()) else {
                    processSpan.attributes[BusinessAttribute.duplicate] = true
                    return
                }
                announceBatched(batch, parents: opened.memberParents, step: &step)
                for applied in opened.applied {
                    let parent = applied.fillTraceparent.flatMap { StoredTraceContext.context(traceparent: $0) } ?? processSpan.context
                    match(applied, parent: parent, fillLink: nil, step: &step)
                }
                for (fill, reason) in opened.refused {
                    // The fill's own record was consumed (and its offset stored) when it began to
                    // wait: what is left of it is its stored JSON.
                    logger.warning("dead-lettered fill \(fill.fillId), which waited for batch \(batch.batchId): \(reason)")
                    deadLetterStored(fill.encodeJSON(), key: fill.symbol, errorType: "fill_rejected", reason: reason, context: processSpan.context, step: &step)
                }
            }
        } else {
            switch Fill.decode(json: message.value) {
            case .failure(let errors):
                deadLetter(message, errorType: "validation", reason: errors.description, span: processSpan, step: &step)
            case .success(let fill):
                processSpan.updateAttributes { attributes in
                    attributes[BusinessAttribute.fillID] = fill.fillId
                    attributes[BusinessAttribute.batchID] = fill.batchId
                }
                let traceparent = StoredTraceContext.traceparent(of: processSpan.context)
                switch try store.apply(fill, fillTraceparent: traceparent, now: WallClock.nowMilliseconds()) {
                case .applied(let applied):
                    let producer = kafka.tracing.extractContext(message)
                    match(applied, parent: processSpan.context, fillLink: producer.problem == nil ? producer.context : nil, step: &step)
                case .duplicate:
                    processSpan.attributes[BusinessAttribute.duplicate] = true
                case .pending:
                    processSpan.attributes[AllocatorSpans.Key.waitingForBatch] = true
                case .rejected(let reason):
                    deadLetter(message, errorType: "fill_rejected", reason: reason, span: processSpan, step: &step)
                }
            }
        }
    }

    /// Each member's `batched` update, ahead of any fill's. The allocator writes every state of an
    /// order from `batched` on, through one producer in order, so no update of a fill can overtake
    /// it; and it is sent in the step that stores the batch, like the others, so the batch's
    /// arrival is announced once (twice only after a crash between its delivery and the commit).
    func announceBatched(_ batch: Batch, parents: [MessagingParent], step: inout Step) {
        let tracer = MessagingTracing.current
        for (index, member) in batch.members.enumerated() {
            let update = OrderUpdate(
                clientOrderId: member.clientOrderId, userId: member.userId, symbol: batch.symbol, side: batch.side, status: .batched,
                cumulativeQuantity: 0, leavesQuantity: member.quantity, batchId: batch.batchId)
            // The order's baggage with its ids set (see `AllocatorStore.OpenBatch`).
            let baggage = parents[index].baggage ?? Baggage()
            let span = AllocatorSpans.startUpdate(
                update, batchID: batch.batchId, fillID: nil, matching: nil, parent: parents[index], baggage: baggage, tracer: tracer)
            enqueue(update, span: span, baggage: baggage, step: &step)
            span.end()
        }
    }

    /// Adds an order update to the step, sent in its span's context (with the order's baggage,
    /// serialized once) when the step's records are.
    func enqueue(_ update: OrderUpdate, span: any MessagingSpan, baggage: Baggage, step: inout Step) {
        step.add(
            KafkaProducerRecord(topic: configuration.topics.orderUpdates, key: update.userId, value: update.encodeJSON()), parent: .span(span),
            baggageHeader: Array(baggage.headerValue.utf8))
    }

    /// The spans and updates of one applied fill.
    func match(_ applied: AllocatorStore.AppliedFill, parent: ServiceContext, fillLink: ServiceContext?, step: inout Step) {
        let fill = applied.fill
        let tracer = MessagingTracing.current
        var allocated: [(Batch.Member, parent: MessagingParent, quantity: Int64)] = []
        for (index, member) in applied.members.enumerated() where applied.allocation.quantities[index] > 0 {
            allocated.append((member, applied.memberParents[index], applied.allocation.quantities[index]))
        }
        let span = AllocatorSpans.startMatching(fill, parent: parent, fillLink: fillLink, members: allocated, tracer: tracer)
        defer { span.end() }
        // What every update and completion links to: the span itself, whose context is then
        // never made (the lean tracer links to its span context).
        let matching = MessagingParent.span(span)
        for update in applied.allocation.updates {
            guard let index = applied.memberIndex[update.orderKey] else { continue }
            // The order's own baggage (entries the pipeline does not know included), its ids set
            // when the batch was opened, with this update's fill set on it.
            let memberParent = applied.memberParents[index]
            let baggage = (memberParent.baggage ?? Baggage()).setting([BusinessAttribute.fillID: fill.fillId])
            let updateSpan = AllocatorSpans.startUpdate(
                update, batchID: fill.batchId, fillID: fill.fillId, matching: matching, parent: memberParent, baggage: baggage, tracer: tracer)
            enqueue(update, span: updateSpan, baggage: baggage, step: &step)
            updateSpan.end()
            if update.status.isTerminal {
                AllocatorSpans.recordCompleted(
                    update, batchID: fill.batchId, parent: memberParent, baggage: baggage, matching: matching, tracer: tracer)
            }
        }
    }

    func deadLetter(_ message: KafkaMessage, errorType: String, reason: String, span: any Span, step: inout Step) {
        span.attributes[BusinessAttribute.rejectReason] = reason
        span.setStatus(SpanStatus(code: .error, message: errorType))
        logger.warning("dead-lettered \(message.topic)[\(message.partition)]@\(message.offset): \(reason)")
        step.add(DeadLetter.record(for: message, errorType: errorType, errorMessage: reason, topic: configuration.topics.deadLetters), span.context)
    }

    func housekeeping(_ store: AllocatorStore, step: inout Step) throws {
        let now = WallClock.nowMilliseconds()
        try store.pruneDone(before: now - Int64(configuration.doneRetention / .milliseconds(1)))
        for value in try store.takeStalePending(before: now - Int64(configuration.pendingTimeout / .milliseconds(1))) {
            let fill = try? Fill(json: value)
            deadLetterStored(
                value, key: fill?.symbol ?? "", errorType: "batch_missing",
                reason: "the fill waited \(configuration.pendingTimeout) for batch \(fill?.batchId ?? "?"), which never arrived",
                context: .topLevel, step: &step)
        }
    }

    /// Dead-letters a fill that only the store still holds (its record was consumed when it
    /// began to wait), in the step whose transaction removes the fill from the store: that
    /// transaction commits only once the dead letter is delivered, so a crash before then leaves
    /// the fill stored, and it is dead-lettered again.
    func deadLetterStored(
        _ value: [UInt8], key: String, errorType: String, reason: String, context: ServiceContext, step: inout Step
    ) {
        var headers = KafkaHeaders()
        headers.set(DeadLetter.errorTypeHeader, errorType)
        headers.set(DeadLetter.errorMessageHeader, reason)
        headers.set(DeadLetter.sourceTopicHeader, configuration.topics.fills)
        step.add(KafkaProducerRecord(topic: configuration.topics.deadLetters, key: key, value: value, headers: headers), parent: .context(context))
    }
}
