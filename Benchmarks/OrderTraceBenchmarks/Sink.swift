import CommandLineSupport
import Foundation
import Glibc

/// `ordertrace bench sink` as a child process; it reports its span count on request (SIGUSR1).
final class Sink: @unchecked Sendable {
    let process: Process
    let endpoint: String
    private let output: FileHandle

    private init(process: Process, endpoint: String, output: FileHandle) {
        self.process = process
        self.endpoint = endpoint
        self.output = output
    }

    static func start() throws -> Sink {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.executablePath)
        process.arguments = ["bench", "sink"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        guard let line = readLine(pipe.fileHandleForReading), line.hasPrefix("listening ") else {
            throw CommandError(description: "the OTLP sink did not start")
        }
        return Sink(process: process, endpoint: String(line.dropFirst("listening ".count)), output: pipe.fileHandleForReading)
    }

    /// Spans received so far.
    func count() throws -> Int {
        kill(process.processIdentifier, SIGUSR1)
        guard let line = Self.readLine(output), let count = Int(line) else { throw CommandError(description: "the OTLP sink did not answer") }
        return count
    }

    func stop() {
        process.terminate()
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
