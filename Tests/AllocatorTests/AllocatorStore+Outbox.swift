import Foundation
import GRDB
import Kafka

@testable import Allocator

/// Outbox rows as earlier versions of the allocator wrote them (each step's updates, until Kafka
/// had them): what a file they left holds, for the tests of reading, sending and clearing it.
extension AllocatorStore {
    /// Keeps a record until it is delivered (an order update unless `topic` says otherwise);
    /// returns its row's sequence number.
    func enqueue(
        topic: String? = nil, key: String, value: [UInt8], headers: KafkaHeaders = KafkaHeaders(), traceparent: String?, baggage: String?
    ) throws -> Int64 {
        try enqueue([OutboxRecord(topic: topic, key: key, value: value, headers: headers, traceparent: traceparent, baggage: baggage)])
    }

    /// Keeps records until they are delivered, in one row (a record alone in the columns of its
    /// own); returns the row's sequence number. The records' parts are their positions here.
    func enqueue(_ records: [OutboxRecord]) throws -> Int64 {
        precondition(!records.isEmpty, "an outbox row keeps at least one record")
        return try access { db in
            if records.count == 1, let record = records.first {
                try db.cachedStatement(sql: "INSERT INTO outbox (topic, key, value, headers, traceparent, baggage) VALUES (?, ?, ?, ?, ?, ?)")
                    .execute(arguments: [
                        record.topic, record.key, Data(record.value), record.headers.isEmpty ? nil : Data(Self.encode(record.headers)),
                        record.traceparent, record.baggage,
                    ])
            } else {
                try db.cachedStatement(sql: "INSERT INTO outbox (key, value, records) VALUES ('', x'', ?)")
                    .execute(arguments: [Data(Self.encode(records))])
            }
            return db.lastInsertedRowID
        }
    }
}
