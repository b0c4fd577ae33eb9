import Foundation

/// Runs the OpenTelemetry Python SDK peer (`Tests/Interop/otel_peer.py`) in `mode` (`inject` or
/// `extract`) with `input` as JSON on its standard input, and returns what it printed.
/// - Throws: `PythonPeerError` when the peer fails (the SDK is not installed, say).
public func pythonPeer(_ mode: String, input: [String: Any]? = nil) throws -> [String: Any] {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Interop/otel_peer.py")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script.path, mode]
    let output = Pipe()
    let stdin = Pipe()
    process.standardOutput = output
    process.standardInput = stdin
    try launch(process)
    if let input { stdin.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: input)) }
    try stdin.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0, let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw PythonPeerError(
            description: "otel_peer.py \(mode) failed (status \(process.terminationStatus)): is the Python OpenTelemetry SDK installed? (make test installs it)")
    }
    return object
}

public struct PythonPeerError: Error, CustomStringConvertible {
    public var description: String
}
