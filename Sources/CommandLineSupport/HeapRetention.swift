import CMalloc

/// How much freed memory glibc's malloc keeps for the next allocations instead of handing it back
/// to the kernel.
///
/// By default it gives back the free top of a heap once more than 128 KB is free there, and unmaps
/// a thread arena's heap that empties; the next allocations then take the same pages back
/// through page faults (and a new heap through `mmap` and `mprotect`). A component under load
/// allocates and frees a step's records, spans and buffers many times a second, so it paid that
/// round trip again and again: in one `perf` of the traced allocator at full speed, 9.8% of its
/// samples were page faults, `mprotect` and heap growth or trimming with glibc's settings, 7.7%
/// with these (what is left is mostly memory touched for the first time). Every `ordertrace`
/// process applies them at start (``keepFreedMemory(environment:)``): a process keeps up to
/// ``trimThreshold`` free at the top of each heap.
///
/// Not more: 128 MB and 64 MB took that share to about 4%, but each of a process's arenas could
/// then keep that much. In a 1,000,000-order soak with them the allocator grew from 224 to 358 MB
/// (it also fell behind, which makes it grow); with these values, in a run that kept the pace,
/// it stayed at 197 MB.
public enum HeapRetention {
    /// `M_TRIM_THRESHOLD`: free memory at the top of a heap, in bytes, that malloc keeps.
    public static let trimThreshold: Int32 = 32 << 20
    /// `M_TOP_PAD`: room added to each heap when it grows, in bytes, so that a step's
    /// allocations do not grow it page by page.
    public static let topPad: Int32 = 16 << 20

    /// The environment variables through which glibc takes malloc settings from its user.
    public static let environmentSettings = ["GLIBC_TUNABLES", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"]

    /// Whether the process should apply its own settings: not when its environment sets malloc's.
    public static func applies(environment: [String: String]) -> Bool {
        !environmentSettings.contains { environment[$0] != nil }
    }

    /// Sets ``trimThreshold`` and ``topPad`` unless `environment` sets malloc's settings itself.
    /// Returns whether both were set.
    @discardableResult
    public static func keepFreedMemory(environment: [String: String]) -> Bool {
        guard applies(environment: environment) else { return false }
        return mallopt(M_TRIM_THRESHOLD, trimThreshold) == 1 && mallopt(M_TOP_PAD, topPad) == 1
    }
}
