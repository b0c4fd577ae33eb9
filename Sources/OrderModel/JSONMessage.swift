/// A message of the pipeline that reads and writes its contract JSON (see `pipeline.md`).
///
/// Decoding is strict (RFC 8259: UTF-8, escapes, number grammar, at most 64 levels of nesting) and reports every
/// problem it finds, each with its field: a syntax error is one problem for the whole message; past that, every
/// field is checked. Fields it does not know are ignored, whatever their type; a known field that appears twice
/// is a problem; `null` in an optional field counts as absent, in a required one as missing. Quantities are JSON
/// integers (no fraction, no exponent); prices are JSON numbers or decimal strings (see ``Price/parse(_:)``).
///
/// Encoding writes compact JSON with exactly the contract's field names in the contract's order, prices as their
/// shortest exact decimal (`189.25`), and leaves out optional fields that are absent. Neither uses Foundation.
public protocol JSONMessage: Sendable {
    /// Decodes a message from UTF-8 JSON bytes, or returns every problem found.
    static func decode(json bytes: UnsafeRawBufferPointer) -> Result<Self, ValidationErrors>

    /// Appends the message as compact UTF-8 JSON to `buffer`.
    func encodeJSON(into buffer: inout [UInt8])
}

extension JSONMessage {
    /// Decodes a message from UTF-8 JSON bytes (a Kafka record value), or returns every problem found.
    @inlinable
    public static func decode(json bytes: [UInt8]) -> Result<Self, ValidationErrors> {
        bytes.withUnsafeBytes { decode(json: $0) }
    }

    /// Decodes a message from JSON text, or returns every problem found.
    @inlinable
    public static func decode(json text: String) -> Result<Self, ValidationErrors> {
        var text = text
        return text.withUTF8 { decode(json: UnsafeRawBufferPointer($0)) }
    }

    /// Decodes a message from UTF-8 JSON bytes.
    ///
    /// - Throws: ``ValidationErrors`` listing every problem, each with its field and reason.
    @inlinable
    public init(json bytes: [UInt8]) throws(ValidationErrors) {
        self = try Self.decode(json: bytes).get()
    }

    /// Decodes a message from JSON text.
    ///
    /// - Throws: ``ValidationErrors`` listing every problem, each with its field and reason.
    @inlinable
    public init(json text: String) throws(ValidationErrors) {
        self = try Self.decode(json: text).get()
    }

    /// The message as compact UTF-8 JSON (a Kafka record value).
    @inlinable
    public func encodeJSON() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(256)
        encodeJSON(into: &buffer)
        return buffer
    }

    /// The message as compact JSON text.
    @inlinable
    public func encodeJSONString() -> String {
        String(decoding: encodeJSON(), as: UTF8.self)
    }
}
