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
        while let run = await alice1.takeAll() { seen += run }
        #expect(seen == ["u1", "u3"])
        #expect(await bob.takeAll() == nil)
        #expect(registry.count == 0)
    }

    @Test("a socket that falls a full queue behind is marked for closing with a reason, without holding up the others")
    func overflow() async {
        let registry = ConnectionRegistry(outboundCapacity: 3)
        let slow = registry.register(userId: "alice")
        let fast = registry.register(userId: "alice")
        var fastSeen: [String] = []
        for index in 0..<5 {
            _ = registry.deliver("u\(index)", to: "alice")
            // The fast socket's writer keeps up.
            if let run = await fast.takeAll() { fastSeen += run }
        }
        #expect(fastSeen == ["u0", "u1", "u2", "u3", "u4"])
        #expect(fast.closeReason == nil)
        #expect(slow.closeReason?.contains("3 messages waiting") == true)
        #expect(slow.enqueue("late") == false)
        await slow.waitUntilClosing()
        registry.remove(slow)
        registry.remove(fast)
    }

    @Test("the updates of one read reach a waiting writer as one run, woken once they are all queued")
    func heldRun() async {
        let registry = ConnectionRegistry(outboundCapacity: 8)
        let alice = registry.register(userId: "alice")
        let bob = registry.register(userId: "bob")
        let writer = Task { await alice.takeAll() }
        while !alice.isWriterWaiting { await Task.yield() }
        var wakes = WriterWakes()
        #expect(registry.deliver("u1", to: "alice", wakes: &wakes) == 1)
        #expect(registry.deliver("u2", to: "bob", wakes: &wakes) == 1)
        #expect(registry.deliver("u3", to: "alice", wakes: &wakes) == 1)
        // One wake-up per socket, however many of its updates the read held.
        #expect(wakes.sockets.map(\.id) == [alice.id, bob.id])
        // Held, not handed over: the writer still waits.
        #expect(alice.isWriterWaiting)
        wakes.wakeAll()
        #expect(await writer.value == ["u1", "u3"])
        #expect(await bob.takeAll() == ["u2"])
        // A writer that ends (its socket closed) is not left waiting.
        let ending = Task { await alice.takeAll() }
        while !alice.isWriterWaiting { await Task.yield() }
        ending.cancel()
        #expect(await ending.value == nil)
        registry.remove(alice)
        registry.remove(bob)
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

extension ConnectionRegistry {
    /// Queues `text` on every open socket of `userId` and wakes their writers at once.
    fileprivate func deliver(_ text: String, to userId: String) -> Int {
        var wakes = WriterWakes()
        defer { wakes.wakeAll() }
        return deliver(text, to: userId, wakes: &wakes)
    }
}
