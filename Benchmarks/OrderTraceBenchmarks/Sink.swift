import CommandLineSupport
import Foundation
import Glibc

/// `ordertrace bench sink` as a child process; it reports its span count for each line written to
/// it, and stops when its input ends.
final class Sink: @unchecked Sendable {
    let process: Process
    let endpoint: String
    private let input: FileHandle
    private let output: FileHandle

    private init(process: Process, endpoint: String, input: FileHandle, output: FileHandle) {
        self.process = process
        self.endpoint = endpoint
        self.input = input
        self.output = output
    }

    static func start() throws -> Sink {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.executablePath)
        process.arguments = ["bench", "sink"]
        let pipe = Pipe()
        let requests = Pipe()
        process.standardOutput = pipe
        process.standardInput = requests
        // A sink that died must make `count()` fail (its write gets EPIPE), not kill this process.
        signal(SIGPIPE, SIG_IGN)
        try process.run()
        guard let line = readLine(pipe.fileHandleForReading), line.hasPrefix("listening ") else {
            throw CommandError(description: "the OTLP sink did not start")
        }
        return Sink(
            process: process, endpoint: String(line.dropFirst("listening ".count)), input: requests.fileHandleForWriting,
            output: pipe.fileHandleForReading)
    }

    /// Spans received so far.
    func count() throws -> Int {
        try input.write(contentsOf: Data("count\n".utf8))
        guard let line = Self.readLine(output), let count = Int(line) else { throw CommandError(description: "the OTLP sink did not answer") }
        return count
    }

    /// Ends its input (it stops) and waits until it has exited.
    func stop() {
        try? input.close()
        process.waitUntilExit()
    }

    private static func readLine(_ handle: FileHandle) -> String? {
        var bytes: [UInt8] = []
        while true {
            let data = handle.readData(ofLength: 1)
            guard let byte = data.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }
}
