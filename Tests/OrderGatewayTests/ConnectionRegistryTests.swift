@testable import OrderGateway
import Testing

@Suite("Sockets: updates by owner, bounded queues", .timeLimit(.minutes(1)))
struct ConnectionRegistryTests {
    @Test("an update goes to every socket of its user and to nobody else")
    func byOwner() async {
        let registry = ConnectionRegistry(outboundCapacity: 8)
        let alice1 = registry.register(userId: "alice")
        let alice2 = registry.register(userId: "alice")
        let bob = registry.register(userId: "bob")
        #expect(registry.deliver("u1", to: "alice") == 2)
        #expect(registry.deliver("u2", to: "carol") == 0)
        registry.remove(alice2)
        #expect(registry.deliver("u3", to: "alice") == 1)
        registry.remove(alice1)
        registry.remove(bob)
        var seen: [String] = []
        for await text in alice1.outbound { seen.append(text) }
        #expect(seen == ["u1", "u3"])
        var bobSeen: [String] = []
        for await text in bob.outbound { bobSeen.append(text) }
        #expect(bobSeen.isEmpty)
        #expect(registry.count == 0)
    }

    @Test("a socket that falls a full queue behind is marked for closing with a reason, without holding up the others")
    func overflow() async {
        let registry = ConnectionRegistry(outboundCapacity: 3)
        let slow = registry.register(userId: "alice")
        let fast = registry.register(userId: "alice")
        var fastSeen: [String] = []
        var iterator = fast.outbound.makeAsyncIterator()
        for index in 0..<5 {
            _ = registry.deliver("u\(index)", to: "alice")
            // The fast socket's writer keeps up.
            if let text = await iterator.next() { fastSeen.append(text) }
        }
        #expect(fastSeen == ["u0", "u1", "u2", "u3", "u4"])
        #expect(fast.closeReason == nil)
        #expect(slow.closeReason?.contains("3 messages waiting") == true)
        #expect(slow.enqueue("late") == false)
        await slow.waitUntilClosing()
        registry.remove(slow)
        registry.remove(fast)
    }

    @Test("the order queue hands over runs in order and makes producers wait when full")
    func batchQueue() async {
        let queue = BoundedBatchQueue<Int>(capacity: 2)
        let producer = Task {
            for value in 0..<7 { _ = await queue.push(value) }
            queue.finish()
        }
        var taken: [Int] = []
        while let run = await queue.takeAll() {
            #expect(run.count <= 2)
            taken += run
        }
        await producer.value
        #expect(taken == Array(0..<7))
        #expect(await queue.push(9) == false)
    }
}
