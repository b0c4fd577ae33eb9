/// Helpers that test targets share and that need neither Kafka nor a tracer: seeded randomness,
/// temporary files, a logger that drops everything.
import Foundation
import Logging

/// A logger that drops everything, for code under test that logs expected failures.
public let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

/// A path in the temporary directory that no other test uses (the file does not exist yet).
public func temporaryFilePath(_ prefix: String, extension pathExtension: String) -> String {
    NSTemporaryDirectory() + "\(prefix)-\(UInt64.random(in: 0...UInt64.max)).\(pathExtension)"
}

/// Removes every file whose path starts with `path` without its extension: a SQLite file with
/// its `-wal` and `-shm`, and the allocator's files per partition (`allocator.p3.sqlite`).
public func removeFiles(derivedFrom path: String) {
    let base = (path as NSString).deletingPathExtension
    let directory = (base as NSString).deletingLastPathComponent
    let prefix = (base as NSString).lastPathComponent
    for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(prefix + ".") || name.hasPrefix(prefix + "-") {
        try? FileManager.default.removeItem(atPath: directory + "/" + name)
    }
}

/// Runs blocking work (a child process, a wait) on a thread of its own, not on the cooperative
/// pool: on a 2-core machine two blocked pool threads would stall the explorer the work talks to.
public func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try work() })
        }
    }
}
