import Foundation
import Testing

import ExchangeProtocol
@testable import ExchangeSimulator

@Suite("docs/exchange-protocol.md: its examples are what the codec reads and writes")
struct DocumentationTests {
    /// The JSON lines of every ```json block of the protocol document.
    static func documentedExamples() throws -> [String] {
        // <root>/Tests/ExchangeSimulatorTests/<this file> -> <root>/docs. The `..` are left to the file
        // system, so they also work through a symlinked test folder.
        let folder = String(#filePath.prefix(upTo: #filePath.lastIndex(of: "/") ?? #filePath.endIndex))
        let path = folder + "/../../docs/exchange-protocol.md"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var examples: [String] = []
        var inJSON = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                inJSON = line == "```json"
                continue
            }
            if inJSON, !line.isEmpty { examples.append(String(line)) }
        }
        return examples
    }

    @Test("Every example decodes, and encodes back to the same bytes")
    func examplesRoundTrip() throws {
        let examples = try Self.documentedExamples()
        #expect(examples.count >= 8)
        var types: Set<String> = []
        for example in examples {
            if let client = try? ExchangeClientMessage.decode(example) {
                types.insert(client.typeName)
                #expect(String(decoding: client.encoded(), as: UTF8.self) == example)
            } else {
                let message = try ExchangeMessage.decode(example)
                types.insert(message.typeName)
                #expect(String(decoding: message.encoded(), as: UTF8.self) == example)
            }
        }
        #expect(types.isSuperset(of: ["new_order", "cancel", "ack", "execution", "reject", "canceled", "cancel_reject", "error"]))
    }

    @Test("The documented reject and error texts are the ones the code produces")
    func documentedTexts() throws {
        let examples = try Self.documentedExamples()
        var exchange = try ExchangeSimulator()
        let reject = exchange.handle(limit("x-1002-0", .buy, 1, "250"))
        #expect(examples.contains(String(decoding: reject[0].encoded(), as: UTF8.self)))
        let error = exchange.handle(
            bytes: bytes(
                #"{"type":"new_order","orderId":"x-1004-0","symbol":"AAPL","side":"hold","quantity":1,"orderType":"market"}"#
            )
        )
        #expect(examples.contains(String(decoding: error[0].encoded(), as: UTF8.self)))
        let cancelReject = exchange.handle(.cancel(orderId: "x-0999-0"))
        #expect(examples.contains(String(decoding: cancelReject[0].encoded(), as: UTF8.self)))
    }
}
