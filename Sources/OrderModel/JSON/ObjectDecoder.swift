import WireJSON

/// What reading one field gave: absent (or `null` for an optional field), present but invalid (the problem is
/// already recorded), or a value.
enum Decoded<Value> {
    case absent
    case invalid
    case value(Value)

    var value: Value? {
        if case .value(let value) = self { return value }
        return nil
    }

    var isAbsent: Bool {
        if case .absent = self { return true }
        return false
    }

    var isInvalid: Bool {
        if case .invalid = self { return true }
        return false
    }
}

/// Reads the fields of one JSON object by name and records every problem it meets, with the field's name.
///
/// Fields not asked for are ignored (the contract lets producers add fields). A field asked for that appears
/// twice is a problem. Strings are materialized only for the fields asked for.
struct ObjectDecoder {
    let bytes: UnsafeRawBufferPointer
    let fields: JSONFieldList
    /// For a nested object, the array it is in and its index, so problems are named `members[2].quantity`.
    let arrayName: StaticString?
    let arrayIndex: Int
    var errors: [ValidationError] = []

    /// Which fields a look-up matched (bit `i` for field `i`), to find repeated keys at the end.
    private var matched: UInt64 = 0
    /// Where the last look-up matched: fields usually come in the order they are asked for.
    private var hint = 0

    init(bytes: UnsafeRawBufferPointer, fields: JSONFieldList, arrayName: StaticString? = nil, arrayIndex: Int = 0) {
        self.bytes = bytes
        self.fields = fields
        self.arrayName = arrayName
        self.arrayIndex = arrayIndex
    }

    /// Reports the fields asked for that appear more than once. Call after the last look-up.
    mutating func finish() {
        let count = fields.count
        guard count <= 64, matched.nonzeroBitCount != count else { return }
        var reported: [Int] = []
        for other in 0..<count where matched & (1 << other) == 0 {
            for index in 0..<count where matched & (1 << index) != 0 && sameKey(fields[index], fields[other]) {
                if !reported.contains(index) {
                    reported.append(index)
                    let name = keyText(fields[index])
                    let field = arrayName.map { "\($0)[\(arrayIndex)].\(name)" } ?? name
                    errors.append(ValidationError(field: field, code: .duplicateField, reason: "appears more than once"))
                }
            }
        }
    }

    private func keyBytes(_ field: JSONField) -> [UInt8] {
        JSONScanner(bytes).unescapedBytes(JSONStringToken(start: field.keyStart, end: field.keyEnd, hasEscapes: field.keyHasEscapes))
    }

    private func keyText(_ field: JSONField) -> String {
        String(decoding: keyBytes(field), as: UTF8.self)
    }

    private func sameKey(_ a: JSONField, _ b: JSONField) -> Bool {
        if a.keyHasEscapes || b.keyHasEscapes { return keyBytes(a) == keyBytes(b) }
        let length = a.keyEnd - a.keyStart
        return a.keyHead == b.keyHead && length == b.keyEnd - b.keyStart
            && (length <= 8 || memoryEqual(bytes.baseAddress! + a.keyStart + 8, bytes.baseAddress! + b.keyStart + 8, length - 8))
    }

    /// Decodes the top-level object of `bytes` with `body`, which returns `nil` when it found problems.
    static func decode<Message>(
        _ bytes: UnsafeRawBufferPointer,
        _ body: (inout ObjectDecoder) -> Message?
    ) -> Result<Message, ValidationErrors> {
        JSONFieldList.withList { fields in
            var scanner = JSONScanner(bytes)
            do throws(JSONSyntaxError) {
                if let value = try scanner.parseDocumentStart() {
                    return .failure(
                        ValidationErrors([
                            ValidationError(
                                field: "", code: .notAnObject, reason: "not a JSON object: the message is \(value.typeName)")
                        ]))
                }
                try scanner.parseObjectFields(into: &fields)
                try scanner.finishDocument()
            } catch {
                return .failure(ValidationErrors([ValidationError(field: "", code: .notJSON, reason: "not JSON: \(error.message)")]))
            }
            var decoder = ObjectDecoder(bytes: bytes, fields: fields)
            let message = body(&decoder)
            decoder.finish()
            if let message, decoder.errors.isEmpty { return .success(message) }
            return .failure(ValidationErrors(decoder.errors))
        }
    }

    // MARK: Problems

    /// The full name of a field for a problem report.
    func path(_ name: StaticString) -> String {
        guard let arrayName else { return "\(name)" }
        return "\(arrayName)[\(arrayIndex)].\(name)"
    }

    mutating func fail(_ name: StaticString, _ code: ValidationError.Code, _ reason: String) {
        errors.append(ValidationError(field: path(name), code: code, reason: reason))
    }

    /// Records the problem a rule found with a field, if any.
    mutating func check(_ name: StaticString, _ problem: FieldProblem?) {
        guard let problem else { return }
        fail(name, problem.code, problem.reason)
    }

    // MARK: Looking up

    /// The value of a field, `nil` when absent; a duplicate is recorded and returns `nil` with `duplicate`.
    private mutating func lookup(_ name: StaticString) -> (token: JSONToken?, duplicate: Bool) {
        let head = keyHead(name.utf8Start, count: name.utf8CodeUnitCount)
        let count = fields.count
        if count <= 64 {
            // Stop at the first match, starting where the last one was found; `finish()` reports repeats.
            var index = hint
            for _ in 0..<count {
                if index >= count { index = 0 }
                let field = fields[index]
                if field.hasKey(name, head: head, in: bytes) {
                    hint = index + 1
                    matched |= 1 << index
                    return (field.value, false)
                }
                index += 1
            }
            return (nil, false)
        }
        var found: JSONToken?
        for index in 0..<count {
            let field = fields[index]
            guard field.hasKey(name, head: head, in: bytes) else { continue }
            if found != nil {
                fail(name, .duplicateField, "appears more than once")
                return (nil, true)
            }
            found = field.value
        }
        return (found, false)
    }

    /// The token of a field: `.absent` when absent or null, `.invalid` when duplicated.
    mutating func token(_ name: StaticString, required: Bool) -> Decoded<JSONToken> {
        let (token, duplicate) = lookup(name)
        if duplicate { return .invalid }
        guard let token else {
            if required { fail(name, .missingField, "is required") }
            return .absent
        }
        if case .null = token {
            if required {
                fail(name, .missingField, "is required and must not be null")
                return .invalid
            }
            return .absent
        }
        return .value(token)
    }
}
