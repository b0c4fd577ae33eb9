/// Headless Chromium for the tests of what a person looks at (the explorer's page): the DOM of a page after its scripts ran, and
/// screenshots. Each run gets its own temporary profile (`--user-data-dir`), so runs in parallel
/// do not clash, and is killed after `timeout` seconds.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct Chromium: Sendable {
    /// The names tried, in order, on `PATH` (and in the usual directories). `CHROME_BIN`, when
    /// set to an executable, wins.
    static let candidates = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]

    /// How long one run may take before it is killed.
    static let timeout: TimeInterval = 120

    /// The browser's path, or nil when none is installed (tests then skip).
    static var executable: String? {
        let fileManager = FileManager.default
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["CHROME_BIN"], !explicit.isEmpty, fileManager.isExecutableFile(atPath: explicit) {
            return explicit
        }
        var directories = (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for fallback in ["/usr/bin", "/usr/local/bin", "/bin", "/snap/bin", "/opt/google/chrome"] where !directories.contains(fallback) {
            directories.append(fallback)
        }
        for name in candidates {
            for directory in directories where !directory.isEmpty {
                let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
                if fileManager.isExecutableFile(atPath: path) { return path }
            }
        }
        return nil
    }

    public static var isAvailable: Bool { executable != nil }

    /// The page's DOM, serialized, once its scripts ran for `virtualTimeBudgetMS` of virtual time
    /// (fetches answered, timers fired).
    public static func dumpDOM(url: String, virtualTimeBudgetMS: Int = 5000) throws -> String {
        let output = try run([
            "--virtual-time-budget=\(virtualTimeBudgetMS)",
            "--dump-dom",
            url,
        ])
        let dom = String(decoding: output.stdout, as: UTF8.self)
        guard !dom.isEmpty else {
            throw ChromiumError(description: "chromium --dump-dom \(url) printed nothing\n\(output.stderrTail)")
        }
        return dom
    }

    /// A PNG of the page at `width` x `height` CSS pixels, written to `path`.
    public static func screenshot(url: String, to path: String, width: Int = 1600, height: Int = 1100, virtualTimeBudgetMS: Int = 5000) throws {
        let destination = URL(fileURLWithPath: path).standardizedFileURL.path
        try? FileManager.default.removeItem(atPath: destination)
        let output = try run([
            "--hide-scrollbars",
            "--window-size=\(width),\(height)",
            "--virtual-time-budget=\(virtualTimeBudgetMS)",
            "--screenshot=\(destination)",
            url,
        ])
        guard FileManager.default.fileExists(atPath: destination) else {
            throw ChromiumError(description: "chromium --screenshot wrote no file at \(destination)\n\(output.stderrTail)")
        }
    }

    struct Output: Sendable {
        var stdout: Data
        var stderr: Data

        /// The end of standard error without the D-Bus noise of a machine without a session bus.
        var stderrTail: String {
            let lines = String(decoding: stderr, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
                .filter { !$0.contains("dbus") && !$0.contains("Fontconfig") }
            return lines.suffix(40).joined(separator: "\n")
        }
    }

    /// Runs the browser headless with `arguments` after the common ones, in a fresh profile that
    /// is removed afterwards. A run killed for taking longer than `timeout` is tried once more:
    /// now and then headless Chromium never finishes a page it rendered a moment before (a
    /// screenshot of the lag page hung for 120 s right after a DOM dump of it had succeeded).
    static func run(_ arguments: [String], timeout: TimeInterval = Chromium.timeout) throws -> Output {
        do {
            return try runOnce(arguments, timeout: timeout)
        } catch let error as ChromiumError where error.timedOut {
            return try runOnce(arguments, timeout: timeout)
        }
    }

    private static func runOnce(_ arguments: [String], timeout: TimeInterval) throws -> Output {
        guard let executable = Self.executable else {
            throw ChromiumError(description: "no Chromium found (tried \(candidates.joined(separator: ", ")) on PATH; or set CHROME_BIN)")
        }
        let fileManager = FileManager.default
        let scratch = fileManager.temporaryDirectory.appendingPathComponent("ordertrace-chromium-\(UUID().uuidString)")
        let profile = scratch.appendingPathComponent("profile")
        try fileManager.createDirectory(at: profile, withIntermediateDirectories: true)
        defer { try? fileManager.removeItem(at: scratch) }

        // Files, not pipes: a page's DOM can be larger than a pipe's buffer, and nothing has to
        // drain both streams while the browser runs.
        let stdoutURL = scratch.appendingPathComponent("stdout")
        let stderrURL = scratch.appendingPathComponent("stderr")
        guard fileManager.createFile(atPath: stdoutURL.path, contents: nil),
            fileManager.createFile(atPath: stderrURL.path, contents: nil)
        else {
            throw ChromiumError(description: "cannot create output files in \(scratch.path)")
        }
        let stdoutHandle = try FileHandle(forWritingTo: stdoutURL)
        let stderrHandle = try FileHandle(forWritingTo: stderrURL)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--user-data-dir=\(profile.path)",
        ] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdoutHandle
        process.standardError = stderrHandle
        do {
            try launch(process)
        } catch {
            try? stdoutHandle.close()
            try? stderrHandle.close()
            throw ChromiumError(description: "cannot start \(executable): \(error)")
        }

        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        var timedOut = false
        if process.isRunning {
            timedOut = true
            process.terminate()
            let grace = Date().addingTimeInterval(3)
            while process.isRunning && Date() < grace {
                Thread.sleep(forTimeInterval: 0.05)
            }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
            }
        }
        process.waitUntilExit()
        try? stdoutHandle.close()
        try? stderrHandle.close()

        let output = Output(
            stdout: (try? Data(contentsOf: stdoutURL)) ?? Data(),
            stderr: (try? Data(contentsOf: stderrURL)) ?? Data())
        let commandLine = ([executable] + (process.arguments ?? [])).joined(separator: " ")
        if timedOut {
            throw ChromiumError(description: "\(commandLine)\nkilled after \(Int(timeout)) s\n\(output.stderrTail)", timedOut: true)
        }
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let how = process.terminationReason == .exit ? "exited with status" : "was killed by signal"
            throw ChromiumError(description: "\(commandLine)\n\(how) \(process.terminationStatus)\n\(output.stderrTail)")
        }
        return output
    }
}

public struct ChromiumError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// Whether the browser was killed for running past its time.
    public var timedOut = false
}
