#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Sets `TCP_NODELAY` on every TCP socket of this process, now and every `interval`: the embedded
/// broker (librdkafka's mock cluster) leaves Nagle's algorithm on for the connections it accepts,
/// so a small answer written while the client has not yet acknowledged the previous one waits
/// for the client's delayed ACK: 40 ms on Linux, measured as produce round trips of 0.2 ms or
/// 43 ms. The mock cluster has no setting for it and its sockets are only reachable as this
/// process's file descriptors, so they are swept. Setting the option on a socket that is not TCP
/// fails harmlessly; on any other TCP socket of the process it only turns Nagle off.
///
/// One sweeping thread serves the whole process, however many embedded brokers run in it: each
/// sweep covers every socket anyway, and a thread per broker made a process with dozens of them
/// (the test suite) spend most of its time in these system calls. Each `NoDelaySweeper` is a
/// lease on that thread; the thread stops with the last lease.
final class NoDelaySweeper: Sendable {
    /// A sweeping thread and the leases that hold it; the process has one (`process`).
    final class Pool: Sendable {
        private struct State: ~Copyable {
            var leases = 0
            var running: Sweeping?
            var started = 0
        }

        private let state = Mutex(State())

        init() {}

        fileprivate func lease(interval: Duration) {
            state.withLock { state in
                state.leases += 1
                if state.running == nil {
                    state.running = Sweeping(interval: interval)
                    state.started += 1
                }
            }
        }

        /// The thread to stop when this was the last lease.
        fileprivate func release() -> Sweeping? {
            state.withLock { state in
                state.leases -= 1
                guard state.leases == 0 else { return nil }
                defer { state.running = nil }
                return state.running
            }
        }

        /// Whether a sweeping thread runs.
        var isSweeping: Bool { state.withLock { $0.running != nil } }
        /// How many sweeping threads this pool has started so far.
        var threadsStarted: Int { state.withLock { $0.started } }
    }

    static let process = Pool()
    private let pool: Pool
    private let released = Mutex(false)

    init(interval: Duration = .milliseconds(100), pool: Pool = NoDelaySweeper.process) {
        self.pool = pool
        pool.lease(interval: interval)
    }

    /// Ends this lease; the last one stops the thread (and waits for it).
    func stop() async {
        let first = released.withLock { released in
            defer { released = true }
            return !released
        }
        guard first else { return }
        await pool.release()?.stop()
    }

    fileprivate final class Sweeping: Sendable {
        private final class Flag: Sendable {
            let stopped = Mutex(false)
        }

        private let flag = Flag()
        private let thread: BlockingThread

        init(interval: Duration) {
            let flag = self.flag
            let microseconds = useconds_t(interval.milliseconds * 1_000)
            thread = BlockingThread(name: "embedded-broker-nodelay") {
                var done = Set<Int32>()
                while !flag.stopped.withLock({ $0 }) {
                    done = NoDelaySweeper.sweep(skipping: done)
                    usleep(microseconds)
                }
            }
        }

        func stop() async {
            flag.stopped.withLock { $0 = true }
            await thread.join()
        }
    }

    private static let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!

    /// Sets the option on the TCP sockets not in `done` (descriptors that were TCP sockets with it
    /// set at the last sweep); returns the TCP sockets that have it now.
    static func sweep(skipping done: Set<Int32>) -> Set<Int32> {
        guard let directory = opendir("/proc/self/fd") else { return done }
        defer { closedir(directory) }
        var now = Set<Int32>()
        while let entry = readdir(directory) {
            // The name in place: a directory entry is only as long as its name, so copying the
            // whole `d_name` array could read past the end of readdir's buffer.
            let name = String(cString: (UnsafeRawPointer(entry) + Self.nameOffset).assumingMemoryBound(to: CChar.self))
            guard let descriptor = Int32(name) else { continue }
            var on: Int32 = 1
            if done.contains(descriptor) {
                // Still a TCP socket with the option on (a closed and reused descriptor is checked again).
                var value: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                if getsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length) == 0, value != 0 {
                    now.insert(descriptor)
                    continue
                }
            }
            if setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size)) == 0 {
                now.insert(descriptor)
            }
        }
        return now
    }
}
