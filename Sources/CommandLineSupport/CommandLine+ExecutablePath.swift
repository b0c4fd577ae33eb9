import Foundation

extension CommandLine {
    /// The path of the running executable, to start it again as a child process.
    package static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? arguments[0]
    }
}
