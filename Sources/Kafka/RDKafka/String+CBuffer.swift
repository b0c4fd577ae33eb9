extension String {
    /// Decodes a NUL-terminated C buffer (an `errstr` librdkafka filled in).
    init(cBuffer: [CChar]) {
        let bytes = cBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self = String(decoding: bytes, as: UTF8.self)
    }
}
