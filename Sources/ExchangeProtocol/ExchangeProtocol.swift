/// Limits of the JSON protocol between clients and the exchange (see `docs/exchange-protocol.md`).
public enum ExchangeProtocol {
    /// The largest message the decoders read, in bytes; a larger one is an error with code
    /// ``ExchangeProtocolError/Code/tooLarge``. A WebSocket server should set its frame limit to match.
    public static let maxMessageBytes = 65_536

    /// The longest order id, in UTF-8 bytes. Order ids are kept for duplicate detection, so they are bounded.
    public static let maxOrderIdBytes = 128

    /// How deeply arrays and objects may nest in a message (only flat objects are meaningful; deeper values in
    /// ignored extra fields are allowed up to this depth).
    public static let maxNestingDepth = 32

    /// At most 40 characters of `text`, for error messages and reject reasons that quote what was sent.
    package static func excerpt(_ text: String) -> String {
        text.count <= 40 ? text : String(text.prefix(40)) + "..."
    }
}
