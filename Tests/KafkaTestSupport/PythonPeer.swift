import Foundation
import TestSupport

/// Runs the OpenTelemetry Python SDK peer (`Tests/Interop/otel_peer.py`) in `mode` (`inject` or
/// `extract`) with `input` as JSON on its standard input, and returns what it printed. The peer
/// runs and is waited for off the cooperative pool (it takes a second or more to start).
/// - Throws: `PythonPeerError` when the peer fails (the SDK is not installed, say).
public func pythonPeer(_ mode: String, input: [String: Any]? = nil) async throws -> [String: Any] {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Interop/otel_peer.py")
    let json = try input.map { try JSONSerialization.data(withJSONObject: $0) }
    let (status, data) = try await offThePool { () throws -> (Int32, Data) in
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, mode]
        let output = Pipe()
        let stdin = Pipe()
        process.standardOutput = output
        process.standardInput = stdin
        try launch(process)
        if let json { stdin.fileHandleForWriting.write(json) }
        try stdin.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, data)
    }
    guard status == 0, let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw PythonPeerError(
            description: "otel_peer.py \(mode) failed (status \(status)): is the Python OpenTelemetry SDK installed? (make test installs it)")
    }
    return object
}

public struct PythonPeerError: Error, CustomStringConvertible {
    public var description: String
}
