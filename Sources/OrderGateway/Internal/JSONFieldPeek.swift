import WireJSON

/// Reads top-level fields of a JSON object that may be invalid, as far as it is valid, to echo what a
/// rejected order was (its `clientOrderId`, `symbol`, ...). Strings are unescaped; other scalars are
/// returned as their text; the first of repeated fields wins. Stops quietly at the first syntax error.
enum JSONFieldPeek {
    static func topLevelFields(_ bytes: UnsafeRawBufferPointer, wanted: Set<String>) -> [String: String] {
        JSONFieldList.withList { fields in
            var scanner = JSONScanner(bytes)
            scanner.skipWhitespace()
            // The fields read before an error are kept.
            try? scanner.parseObjectFields(into: &fields)
            var result: [String: String] = [:]
            for index in 0..<fields.count {
                let field = fields[index]
                let keyToken = JSONStringToken(start: field.keyStart, end: field.keyEnd, hasEscapes: field.keyHasEscapes)
                let key = scanner.string(keyToken)
                guard wanted.contains(key), result[key] == nil else { continue }
                switch field.value {
                case .string(let token):
                    result[key] = scanner.string(token)
                case .number(let number):
                    result[key] = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[number.start..<number.end]), as: UTF8.self)
                case .bool(let value):
                    result[key] = value ? "true" : "false"
                case .null:
                    result[key] = "null"
                case .object, .array:
                    continue
                }
            }
            return result
        }
    }
}
