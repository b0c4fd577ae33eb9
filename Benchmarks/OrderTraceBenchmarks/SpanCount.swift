/// Counts the spans of an `ExportTraceServiceRequest` without decoding them:
/// resource_spans (1) → scope_spans (2) → spans (2).
enum SpanCount {
    static func protobuf(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBufferPointer { buffer in
            var total = 0
            forEachField(buffer, 0, buffer.count) { field, start, end in
                guard field == 1 else { return }
                forEachField(buffer, start, end) { field, start, end in
                    guard field == 2 else { return }
                    forEachField(buffer, start, end) { field, _, _ in
                        if field == 2 { total += 1 }
                    }
                }
            }
            return total
        }
    }

    /// Calls `body` for each length-delimited field in bytes[start..<end]; skips the others.
    private static func forEachField(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ body: (Int, Int, Int) -> Void) {
        var position = start
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while position < end {
                let byte = bytes[position]
                position += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
                if shift > 63 { return nil }
            }
            return nil
        }
        while position < end {
            guard let key = varint() else { return }
            switch key & 7 {
            case 0: guard varint() != nil else { return }
            case 1: position += 8
            case 5: position += 4
            case 2:
                guard let length = varint(), position + Int(length) <= end else { return }
                body(Int(key >> 3), position, position + Int(length))
                position += Int(length)
            default: return
            }
        }
    }
}
