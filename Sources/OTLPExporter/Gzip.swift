import CZlib

/// gzip compression with zlib, for `Content-Encoding: gzip` request bodies.
public enum Gzip {
    /// `bytes` deflated into a gzip stream (zlib `deflateInit2` with `windowBits` 15 + 16: a gzip
    /// header and CRC-32 trailer, default level, 32 KiB window).
    ///
    /// zlib fails here only when it cannot allocate its state; that traps, as running out of
    /// memory does elsewhere.
    public static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        var status = deflateInit2_(
            &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
            zlibVersion(), Int32(MemoryLayout<z_stream>.size)
        )
        precondition(status == Z_OK, "zlib deflateInit2 failed: \(status)")
        defer { deflateEnd(&stream) }

        // deflateBound covers one deflate(Z_FINISH) call; the loop below copes if it did not.
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 32)
        var produced = 0
        bytes.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = UInt32(input.count)
            repeat {
                if produced == output.count {
                    output += [UInt8](repeating: 0, count: max(1024, output.count))
                }
                output.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress! + produced
                    stream.avail_out = UInt32(out.count - produced)
                    status = deflate(&stream, Z_FINISH)
                    produced = out.count - Int(stream.avail_out)
                }
                precondition(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR, "zlib deflate failed: \(status)")
            } while status != Z_STREAM_END
        }
        output.removeSubrange(produced...)
        return output
    }
}
