import Foundation
import Glibc
import KafkaTestSupport
import TestSupport

/// One HTTP/1.1 request over a plain socket, written as given: repeated headers stay repeated and
/// the body's bytes are sent untouched (URLSession would merge the one and may refuse the other).
/// Blocking: it runs on a thread of its own.
struct RawHTTPResponse: Sendable {
    var status: Int
    var body: String
}

func rawHTTPPost(port: Int, path: String, headers: [(name: String, value: String)], body: [UInt8]) async throws -> RawHTTPResponse {
    let head = (["POST \(path) HTTP/1.1", "Host: 127.0.0.1:\(port)", "Connection: close", "Content-Length: \(body.count)"]
        + headers.map { "\($0.name): \($0.value)" }).joined(separator: "\r\n") + "\r\n\r\n"
    let request = Array(head.utf8) + body
    return try await offThePool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError(message: "socket: \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw RawHTTPError(message: "connect: \(errno)") }
        var sent = 0
        // A server may answer (413) and stop reading before the body is all sent: the answer is
        // read all the same.
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            sent += count
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            response += chunk[..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 "), let status = Int(text.dropFirst(9).prefix(3)) else {
            throw RawHTTPError(message: "no HTTP response (\(response.count) bytes read, \(sent) of \(request.count) sent): \(text.prefix(200))")
        }
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return RawHTTPResponse(status: status, body: body)
    }
}

struct RawHTTPError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
