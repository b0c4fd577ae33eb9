/// An error for the command line: its message alone, without the usage text.
package struct CommandError: Error, CustomStringConvertible {
    package var description: String

    package init(description: String) {
        self.description = description
    }
}
