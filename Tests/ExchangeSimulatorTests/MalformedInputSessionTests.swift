import ExchangeProtocol
import Testing

@testable import ExchangeSimulator

@Suite("A session never traps on malformed messages")
struct MalformedInputSessionTests {
    static let validNewOrder =
        #"{"type":"new_order","orderId":"o7","symbol":"AAPL","side":"buy","quantity":300,"orderType":"limit","limitPrice":189.25}"#

    @Test("10,000 mutated messages: each decodes or throws, and the session answers each with messages")
    func mutationFuzz() throws {
        var script = ScriptRandom(seed: 99)
        var exchange = try ExchangeSimulator()
        let seeds = [Self.validNewOrder, #"{"type":"cancel","orderId":"o7"}"#, #"{"type":"new_order","orderId":"m","symbol":"MSFT","side":"sell","quantity":5,"orderType":"market"}"#]
        let alphabet = Array(#"{}[]":,.-+eE0123456789 \tnulltruefalse"\u00"#.utf8) + [0x00, 0xFF, 0xC3, 0xED, 0xA0]
        var decoded = 0
        var failed = 0
        for round in 0..<10_000 {
            var bytes = Array(seeds[round % seeds.count].utf8)
            for _ in 0...script.int(0...4) {
                let position = Int(script.int(0...Int64(bytes.count)))
                switch script.int(0...2) {
                case 0 where position < bytes.count: bytes.remove(at: position)
                case 1: bytes.insert(alphabet[Int(script.int(0...Int64(alphabet.count - 1)))], at: position)
                default:
                    if position < bytes.count { bytes[position] = alphabet[Int(script.int(0...Int64(alphabet.count - 1)))] }
                }
            }
            do {
                _ = try ExchangeClientMessage.decode(bytes)
                decoded += 1
            } catch {
                failed += 1
                #expect(!error.message.isEmpty)
            }
            #expect(!exchange.handle(bytes: bytes).isEmpty)
        }
        #expect(decoded > 100)
        #expect(failed > 5_000)
    }
}
