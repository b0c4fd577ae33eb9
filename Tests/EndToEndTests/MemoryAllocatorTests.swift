import Foundation
import KafkaTestSupport
import Testing

/// The `ordertrace` executable allocates through tcmalloc (Package.swift links it): every
/// allocation and every free of the process, the Swift runtime's and librdkafka's included, goes
/// to tcmalloc. A build that lost the library would fall back to glibc's malloc silently (and 8%
/// of the pipeline's CPU with it); one in which only some of the symbols moved would free memory
/// with an allocator that did not hand it out.
@Suite struct MemoryAllocatorTests {
    /// The functions that hand out or take back heap memory, under glibc's names.
    static let allocationSymbols: Set = [
        "malloc", "free", "calloc", "realloc", "memalign", "aligned_alloc", "posix_memalign", "valloc", "pvalloc",
        "__libc_malloc", "__libc_free", "__libc_calloc", "__libc_realloc", "__libc_memalign",
    ]

    /// One line of the dynamic loader's `LD_DEBUG=bindings` output: which file's reference to a
    /// symbol it resolved to which file's definition.
    struct Binding {
        var from: String
        var to: String
        var symbol: String

        /// `binding file A [0] to B [0]: normal symbol `name' [GLIBC_2.2.5]`
        init?(_ line: Substring) {
            guard let file = line.range(of: "binding file "), let to = line.range(of: " to ", range: file.upperBound..<line.endIndex),
                let colon = line.range(of: ": normal symbol `", range: to.upperBound..<line.endIndex),
                let quote = line[colon.upperBound...].firstIndex(of: "'")
            else { return nil }
            func path(_ text: Substring) -> String { String(text.split(separator: " [").first ?? text) }
            from = path(line[file.upperBound..<to.lowerBound])
            self.to = path(line[to.upperBound..<colon.lowerBound])
            symbol = String(line[colon.upperBound..<quote])
        }
    }

    @Test("every allocation and free of an ordertrace process goes to tcmalloc, none to glibc's malloc")
    func tcmallocServesEveryAllocation() throws {
        // The loader writes its bindings to standard error; the help text's lines match none.
        let (status, output) = try runOrdertrace(["--help"], environment: ["LD_DEBUG": "bindings"])
        #expect(status == 0)

        let bindings = output.split(separator: "\n").compactMap(Binding.init).filter { Self.allocationSymbols.contains($0.symbol) }
        let frees = bindings.filter { $0.symbol == "free" }
        #expect(!frees.isEmpty, "the loader reported no binding of free: \(output.prefix(500))")
        for binding in frees {
            #expect(binding.to.contains("libtcmalloc"), "\(binding.from) frees through \(binding.to)")
        }
        // The executable's own malloc (the benchmarks' allocation counter) hands every call on
        // to __libc_malloc, which tcmalloc defines too.
        let forwarded = bindings.filter { $0.symbol == "__libc_malloc" }
        #expect(!forwarded.isEmpty, "nothing bound __libc_malloc")
        for binding in bindings {
            #expect(!binding.to.hasSuffix("/libc.so.6"), "\(binding.from) calls glibc's \(binding.symbol)")
            #expect(binding.to.contains("libtcmalloc") || binding.to == binding.from || binding.to.hasSuffix("/ordertrace"),
                "\(binding.from): \(binding.symbol) comes from \(binding.to)")
        }
    }
}
