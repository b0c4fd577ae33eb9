import Foundation

/// Prints a line at once, even when stdout is a pipe.
package func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
