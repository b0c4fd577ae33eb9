import Foundation

/// The folder for what the tests leave for a person to look at (screenshots).
public func testOutputFolder() -> URL {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("test-output")
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

/// Starts `process`, one launch at a time in this test process: Foundation's `Process.run()`
/// crashed (a bad pointer in its memcpy) when the suite launched many processes at once.
public func launch(_ process: Process) throws {
    try processLaunchLock.withLock { try process.run() }
}

private let processLaunchLock = NSLock()
