/// The records both clients send: keys over a few symbols, ~150-byte client-order values.
struct BenchData {
    struct Row {
        var key: String
        var value: [UInt8]
    }

    let rows: [Row]
    let valueSize: Int
    let traceparent = Array("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".utf8)
    var count: Int { rows.count }

    init(count: Int) {
        var rows: [Row] = []
        rows.reserveCapacity(count)
        for index in 0..<count {
            // 1,000 keys of one length, so records spread evenly and are all the same size.
            let keyNumber = String(index % 1_000)
            let symbol = "S" + String(repeating: "0", count: 3 - keyNumber.count) + keyNumber
            let id = String(index)
            let padded = String(repeating: "0", count: max(0, 10 - id.count)) + id
            let text = #"{"clientOrderId":"c-\#(padded)","userId":"alice","symbol":"\#(symbol)","side":"buy","quantity":300,"orderType":"limit","limitPrice":189.25,"tif":"day"}"#
            rows.append(Row(key: symbol, value: Array(text.utf8)))
        }
        self.rows = rows
        self.valueSize = rows.first?.value.count ?? 0
    }
}
