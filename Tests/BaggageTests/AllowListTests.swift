import Testing

import Baggage

@Suite("Allow-list")
struct AllowListTests {
    private func pairs(_ entries: [(key: String, value: String)]) -> [String] {
        entries.map { "\($0.key)=\($0.value)" }
    }

    @Test("The business IDs are the pipeline's five identifiers")
    func businessIDs() {
        #expect(
            BaggageAllowList.businessIDs.keys == ["user.id", "client.order_id", "batch.id", "exchange.order_id", "fill.id"]
        )
    }

    @Test("Only allow-listed keys are returned, in allow-list order, with the last value of a repeated key")
    func filters() {
        let baggage = Baggage(
            headerValue: "fill.id=f1,auth.token=s3cr3t,user.id=alice,email=a%40example.com,batch.id=b7,fill.id=f2"
        )
        let allowed = BaggageAllowList.businessIDs.allowedEntries(baggage)
        #expect(pairs(allowed) == ["user.id=alice", "batch.id=b7", "fill.id=f2"])
        #expect(!allowed.contains { $0.value == "s3cr3t" || $0.value == "a@example.com" })
    }

    @Test("Keys match exactly")
    func exactMatch() {
        let baggage: Baggage = ["User.Id": "x", "user.id ": "y", "user.idx": "z", "client.order_id": "42"]
        #expect(pairs(BaggageAllowList.businessIDs.allowedEntries(baggage)) == ["client.order_id=42"])
        #expect(BaggageAllowList.businessIDs.allows("user.id"))
        #expect(!BaggageAllowList.businessIDs.allows("User.Id"))
    }

    @Test("Empty baggage gives nothing")
    func emptyBaggage() {
        #expect(BaggageAllowList.businessIDs.allowedEntries(Baggage()).isEmpty)
    }

    @Test("Custom lists: repeated keys are kept once; adding extends the list")
    func customLists() {
        let list: BaggageAllowList = ["b", "a", "b"]
        #expect(list.keys == ["b", "a"])
        let extended = list.adding(["c", "a"])
        #expect(extended.keys == ["b", "a", "c"])
        let baggage: Baggage = ["a": "1", "b": "2", "c": "3", "d": "4"]
        #expect(pairs(extended.allowedEntries(baggage)) == ["b=2", "a=1", "c=3"])
        #expect(pairs(list.allowedEntries(baggage)) == ["b=2", "a=1"])
    }
}
