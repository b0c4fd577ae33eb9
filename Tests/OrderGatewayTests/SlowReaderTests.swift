import Foundation
import Glibc
import Kafka
import KafkaTestSupport
import OrderModel
@testable import OrderGateway
import Testing

/// A client that stops reading, over a real socket: the gateway writes a run of updates at once
/// while the socket takes them, through swift-websocket's waiting writer once it does not, and
/// closes the socket when its queue is full.
@Suite("A WebSocket client that stops reading", .timeLimit(.minutes(3)))
struct SlowReaderTests {
    @Test("a socket that reads nothing gets its updates in order until its queue is full, then is closed; the other sockets get theirs")
    func socketThatStopsReading() async throws {
        // The default queue (1,024 messages): a run of updates read together is well within
        // it, so the socket is written to while it takes more, and closed only once it has not
        // taken a full queue.
        try await GatewayHarness.run { gateway in
            let bob = TestSocket(url: gateway.socketURL, token: "demo-bob")
            // Alice's socket: upgraded by hand, with a small receive buffer, and not read again
            // until the gateway has let go of it.
            let alice = try await Task.detached { try RawWebSocket(port: gateway.port, token: "demo-alice", receiveBuffer: 4_096) }.value
            defer { alice.close() }
            #expect(await eventually(timeout: .seconds(30)) { gateway.gateway.connections.count == 2 })

            let producer = try KafkaProducer(configuration: producerConfiguration(gateway.broker), logger: testLogger)
            func update(_ user: String, _ id: String) -> KafkaProducerRecord {
                let update = OrderUpdate(
                    clientOrderId: id, userId: user, symbol: "AAPL", side: .buy, status: .accepted, cumulativeQuantity: 0, leavesQuantity: 300)
                return KafkaProducerRecord(topic: gateway.topics.orderUpdates, key: user, value: update.encodeJSON())
            }
            // The gateway's group starts at the end of the topic: send until bob sees one.
            var live = false
            for attempt in 0..<30 where !live {
                _ = try await producer.send([update("bob", "b-\(attempt)")])
                live = await bob.waitFor(timeout: .seconds(1)) { $0.contains(#""clientOrderId":"b-"#) } != nil
            }
            try #require(live, "the gateway delivered no update")

            // In runs of 100 until the gateway lets go of alice's socket: more than the socket's
            // buffers and the queue hold (about 3 MB here).
            var sent = 0
            while gateway.gateway.connections.count == 2, sent < 200_000 {
                let outcomes = try await producer.send((sent..<(sent + 100)).map { update("alice", "a-\($0)") })
                #expect(outcomes.allSatisfy { (try? $0.get()) != nil })
                sent += 100
            }
            _ = try await producer.send([update("bob", "b-last")])
            await producer.close()

            // Bob is not held up by alice's full socket.
            #expect(await bob.waitFor(timeout: .seconds(60)) { $0.contains(#""clientOrderId":"b-last""#) } != nil)
            // The gateway lets go of alice's socket.
            #expect(await eventually(timeout: .seconds(60)) { gateway.gateway.connections.count == 1 })

            // What reached alice: whole frames of her updates, in order, none skipped, and not all.
            let frames = try await Task.detached { try alice.readToEnd() }.value
            let texts = frames.filter { $0.opcode == 1 }.map { String(decoding: $0.payload, as: UTF8.self) }
            let ids = texts.map { text in (try? OrderUpdate(json: Array(text.utf8)))?.clientOrderId ?? text }
            #expect(!ids.isEmpty, "nothing was written before the socket was closed")
            #expect(ids.count < sent, "the socket was never closed")
            let firstOutOfPlace = ids.indices.first { ids[$0] != "a-\($0)" }
            #expect(firstOutOfPlace == nil, "message \(firstOutOfPlace ?? 0) of \(ids.count) is \(firstOutOfPlace.map { ids[$0] } ?? ""): out of order or skipped")
            // When the close frame got out before the connection was closed, it says why.
            if let close = frames.first(where: { $0.opcode == 8 }) {
                #expect(close.payload.count >= 2 && (UInt16(close.payload[0]) << 8 | UInt16(close.payload[1])) == 1008)
                #expect(String(decoding: close.payload.dropFirst(2), as: UTF8.self).contains("too slow"))
            }
            await bob.close()
        }
    }
}

/// A WebSocket client on a plain socket: the upgrade, then nothing read until `readToEnd()`.
private final class RawWebSocket: Sendable {
    let fd: Int32

    struct Frame {
        var opcode: UInt8
        var payload: [UInt8]
    }

    init(port: Int, token: String, receiveBuffer: Int32) throws {
        let fd = try RawSocket.connect(port: port, timeout: 60, receiveBuffer: receiveBuffer)
        do {
            try RawSocket.sendUpgrade(fd, port: port, token: token)
            // The answer's head, one byte at a time, so that no frame is read with it.
            var head: [UInt8] = []
            var byte: UInt8 = 0
            while !head.suffix(4).elementsEqual([13, 10, 13, 10]) {
                guard read(fd, &byte, 1) == 1 else { throw POSIXError(.ECONNRESET) }
                head.append(byte)
            }
            guard String(decoding: head, as: UTF8.self).hasPrefix("HTTP/1.1 101") else { throw POSIXError(.EPROTO) }
        } catch {
            Glibc.close(fd)
            throw error
        }
        self.fd = fd
    }

    /// Every whole frame until the server closes the connection (a last frame cut short by the
    /// close is left out).
    func readToEnd() throws -> [Frame] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count == 0 || (count < 0 && errno == ECONNRESET) { break }
            guard count > 0 else { throw POSIXError(.ETIMEDOUT) }
            bytes.append(contentsOf: buffer[..<count])
        }
        var frames: [Frame] = []
        var index = 0
        while bytes.count - index >= 2 {
            let opcode = bytes[index] & 0x0F
            var length = Int(bytes[index + 1] & 0x7F)
            var start = index + 2
            if length == 126 {
                guard bytes.count >= start + 2 else { break }
                length = Int(bytes[start]) << 8 | Int(bytes[start + 1])
                start += 2
            } else if length == 127 {
                guard bytes.count >= start + 8 else { break }
                length = bytes[start..<(start + 8)].reduce(0) { $0 << 8 | Int($1) }
                start += 8
            }
            guard bytes.count >= start + length else { break }
            frames.append(Frame(opcode: opcode, payload: Array(bytes[start..<(start + length)])))
            index = start + length
        }
        return frames
    }

    func close() { Glibc.close(fd) }
}
