import CZlib

/// Inflates a gzip (or zlib) body, refusing to produce more than `limit` bytes.
enum Gunzip {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func inflate(_ input: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        // 15 window bits + 32: detect gzip or zlib headers.
        guard inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure(description: "gzip: cannot start inflating")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: min(max(input.count * 4, 4096), limit))
        var produced = 0
        var status: Int32 = Z_OK
        var input = input
        try input.withUnsafeMutableBufferPointer { (source: inout UnsafeMutableBufferPointer<UInt8>) throws(Failure) in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            while status != Z_STREAM_END {
                if produced == output.count {
                    guard output.count < limit else {
                        throw Failure(description: "gzip: the body inflates past the limit of \(limit) bytes")
                    }
                    output += [UInt8](repeating: 0, count: min(output.count, limit - output.count))
                }
                status = output.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress! + produced
                    stream.avail_out = UInt32(target.count - produced)
                    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    produced = target.count - Int(stream.avail_out)
                    return status
                }
                switch status {
                case Z_OK, Z_STREAM_END:
                    continue
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw Failure(description: "gzip: the body ends before the compressed data does")
                case Z_BUF_ERROR:
                    continue
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "code \(status)"
                    throw Failure(description: "gzip: \(reason)")
                }
            }
        }
        output.removeSubrange(produced...)
        return output
    }
}
