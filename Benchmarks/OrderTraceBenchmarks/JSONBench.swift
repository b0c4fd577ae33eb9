import ArgumentParser
import CommandLineSupport
import Foundation
import OrderModel

/// The pipeline's JSON on its hot path: decoding (with full validation) and encoding each message
/// kind with OrderModel's codec, against Foundation's `JSONSerialization` reading and writing the
/// same bytes into untyped dictionaries (no validation at all), in one run.
struct JSONBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "json",
        abstract: "Decode and encode each pipeline message with OrderModel's codec and with Foundation; print ns per message and the ratio."
    )

    @Option(help: "Messages decoded and encoded per kind and round.")
    var messages = 200_000

    @Option(help: "Rounds; the best of them is reported.")
    var rounds = 3

    /// The contract's examples (`topics/*.json`), a batch of two members.
    static let examples: [(name: String, json: String)] = [
        ("client order", #"{"clientOrderId":"c-1001","userId":"alice","symbol":"AAPL","side":"buy","quantity":300,"orderType":"limit","limitPrice":189.25}"#),
        ("batch", #"{"batchId":"b-AAPL-buy-1","symbol":"AAPL","side":"buy","quantity":500,"members":[{"clientOrderId":"c-1001","userId":"alice","quantity":300,"limitPrice":189.25,"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},{"clientOrderId":"c-2001","userId":"bob","quantity":200,"limitPrice":189.3,"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}],"closeReason":"linger","openedAt":"2026-11-30T09:30:00.000Z","closedAt":"2026-11-30T09:30:00.050Z"}"#),
        ("fill", #"{"fillId":"f-9001","exchangeOrderId":"x-b-AAPL-buy-1-0","batchId":"b-AAPL-buy-1","symbol":"AAPL","side":"buy","quantity":100,"price":189.24,"cumulativeQuantity":100,"leavesQuantity":150,"status":"partially_filled"}"#),
        ("order update", #"{"clientOrderId":"c-1001","userId":"alice","symbol":"AAPL","side":"buy","status":"partially_filled","lastQuantity":60,"lastPrice":189.24,"cumulativeQuantity":60,"leavesQuantity":240,"averagePrice":189.24,"batchId":"b-AAPL-buy-1","fillId":"f-9001","notional":"11354.4"}"#),
    ]

    func run() throws {
        guard messages > 0, rounds > 0 else { throw ValidationError("--messages and --rounds must be positive") }
        say("bench-json: \(messages) messages per kind, best of \(rounds) round(s); Foundation = JSONSerialization into dictionaries, no validation")
        var ourTotal = 0.0
        var foundationTotal = 0.0
        for (name, json) in Self.examples {
            let bytes = Array(json.utf8)
            let data = Data(bytes)
            let (decode, encode) = try measure(name, bytes)
            let foundationDecode = best { _ = try? JSONSerialization.jsonObject(with: data) }
            let object = try JSONSerialization.jsonObject(with: data)
            let foundationEncode = best { _ = try? JSONSerialization.data(withJSONObject: object) }
            let label = name.padding(toLength: 13, withPad: " ", startingAt: 0)
            say("  \(label)" + String(format: "decode %6.0f ns (Foundation %6.0f)   encode %6.0f ns (Foundation %6.0f)", decode, foundationDecode, encode, foundationEncode))
            ourTotal += decode + encode
            foundationTotal += foundationDecode + foundationEncode
        }
        say(String(format: "bench-json: ordertrace=%.0fns foundation=%.0fns per round trip of the four kinds, ratio=%.2f", ourTotal, foundationTotal, ourTotal / foundationTotal))
    }

    /// ns per decode and per encode of one message kind with OrderModel's codec.
    private func measure(_ name: String, _ bytes: [UInt8]) throws -> (Double, Double) {
        switch name {
        case "client order": return try measure(ClientOrder.self, bytes)
        case "batch": return try measure(Batch.self, bytes)
        case "fill": return try measure(Fill.self, bytes)
        default: return try measure(OrderUpdate.self, bytes)
        }
    }

    private func measure<Message: JSONMessage & Equatable>(_ type: Message.Type, _ bytes: [UInt8]) throws -> (Double, Double) {
        let message = try Message(json: bytes)
        guard case .success = Message.decode(json: message.encodeJSON()) else {
            throw ValidationError("\(Message.self): what the codec encodes does not decode again")
        }
        var sink = 0
        let decode = best {
            if case .success = Message.decode(json: bytes) { sink &+= 1 }
        }
        let encode = best { sink &+= message.encodeJSON().count }
        precondition(sink > 0)
        return (decode, encode)
    }

    /// The best of `rounds` runs of `messages` calls of `body`, in ns per call.
    private func best(_ body: () -> Void) -> Double {
        var fastest = Double.infinity
        for _ in 0..<rounds {
            let start = ContinuousClock.now
            for _ in 0..<messages { body() }
            let elapsed = ContinuousClock.now - start
            let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            fastest = min(fastest, ns / Double(messages))
        }
        return fastest
    }
}
