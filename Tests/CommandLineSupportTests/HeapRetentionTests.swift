import CommandLineSupport
import Testing

/// What the settings do to a process (no page faults, `mprotect` or heap growth left in the
/// traced allocator's profile) is measured with `perf` in BENCHMARKS.md: inside this test process,
/// whose arenas already hold memory and whose thresholds glibc has already moved, freeing memory
/// does not show it.
@Suite struct HeapRetentionTests {
    @Test func theEnvironmentsOwnSettingsWin() {
        #expect(HeapRetention.applies(environment: [:]))
        #expect(HeapRetention.applies(environment: ["PATH": "/usr/bin", "MALLOC_ARENA_MAX": "2"]))
        for name in HeapRetention.environmentSettings {
            #expect(!HeapRetention.applies(environment: [name: "1"]), "\(name) is the user's say")
            #expect(!HeapRetention.keepFreedMemory(environment: [name: "1"]))
        }
    }

    @Test func glibcTakesTheSettings() {
        #expect(HeapRetention.keepFreedMemory(environment: [:]))
    }
}
