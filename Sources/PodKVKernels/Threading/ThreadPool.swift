import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed set of persistent worker threads for data-parallel loops.
///
/// Decode calls `parallelFor` a couple of hundred times per token, so a call must cost microseconds, not
/// the tens of microseconds of waking sleeping threads. Workers therefore spin on a generation counter
/// for a short while after each job (about 0.1-0.3 ms) and only then sleep on a condition variable.
/// Work is split into contiguous chunks that threads claim with an atomic counter, which also balances
/// load when the machine is shared and one thread gets descheduled.
///
/// Calls are serialized: `parallelFor` from a second thread while a job runs, or from inside a body,
/// runs that body on the calling thread alone instead of deadlocking.
public final class ThreadPool: @unchecked Sendable {
    /// Number of threads that execute chunks, counting the caller's thread.
    public let threadCount: Int

    private let shared: PoolShared
    private var workers: [pthread_t] = []

    /// Starts `threadCount - 1` workers (`threadCount >= 1`, values below 1 are treated as 1); the thread
    /// that calls `parallelFor` is always one of the workers.
    public init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        shared = PoolShared()
        for _ in 1..<self.threadCount {
            let box = Unmanaged.passRetained(shared).toOpaque()
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { arg in
                #if canImport(Darwin)
                let state = Unmanaged<PoolShared>.fromOpaque(arg).takeRetainedValue()
                #else
                let state = Unmanaged<PoolShared>.fromOpaque(arg!).takeRetainedValue()
                #endif
                state.workerLoop()
                return nil
            }, box)
            if rc == 0 {
                workers.append(thread)
            } else {
                Unmanaged<PoolShared>.fromOpaque(box).release()
            }
        }
    }

    deinit {
        shared.shutdown()
        for thread in workers { pthread_join(thread, nil) }
    }

    /// Runs `body` over `0..<count` split into contiguous chunks across the threads; returns when every
    /// chunk is done. Each index is passed exactly once. `body` must not capture state that two chunks
    /// write to without synchronization.
    public func parallelFor(_ count: Int, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        // A single worker, or too little work to share, runs inline; so do nested/concurrent calls.
        if workers.isEmpty || count == 1 || !shared.tryAcquire() {
            body(0..<count)
            return
        }
        defer { shared.release() }
        // A few chunks per thread let a thread that started late (or was preempted) be covered by others.
        let chunkCount = min(count, (workers.count + 1) * 4, 0xFFFF)
        withoutActuallyEscaping(body) { escapable in
            shared.run(count: count, chunkCount: chunkCount, body: escapable)
        }
    }
}

/// State shared between the pool's caller and its worker threads.
final class PoolShared: @unchecked Sendable {
    /// Incremented (never reset) to announce a new job; also the shutdown signal (with `stopping`).
    private let generation = Atomic<Int>(0)
    /// `generation << 32 | chunkCount << 16 | next chunk index`. The generation tag stops a late worker
    /// from an old job from claiming a chunk of the next one; the chunk count travels in the same word so
    /// the bound a worker checks always belongs to the generation it claims from (read from the shared
    /// `chunkCount` field instead, a worker late from a job of 3 chunks could claim "chunk 3" of that
    /// finished job while the next job of 8 chunks was being published, and run with half-written state).
    private let claim = Atomic<Int>(0)
    /// Chunks of the current job not yet finished.
    private let pending = Atomic<Int>(0)
    /// Workers blocked (or about to block) on the condition variable.
    private let sleepers = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)

    // The job, written by the caller before `generation` is published and read only by a thread that
    // has claimed a chunk of that generation.
    private var count = 0
    private var chunkCount = 0
    private var body: ((Range<Int>) -> Void)?

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>

    /// How long an idle worker spins before it sleeps, and how long the caller spins on unfinished chunks
    /// before it starts yielding its core. Measured in time, not turns: Swift cannot emit `pause`, so a
    /// turn of the loop is a few nanoseconds and a turn budget (the old 4,000 turns, ~5 µs) put workers to
    /// sleep between most decode dispatches (~100 context switches per SmolLM2 token, measured with
    /// `perf stat`). 200 µs covers the gaps inside a decode step; an idle pool sleeps after that.
    static let spinNanoseconds: UInt64 = 200_000
    static let yieldAfterNanoseconds: UInt64 = 500_000

    /// Counts the turns of a spin loop and tells when it has spun longer than a budget; the clock (vDSO,
    /// ~20 ns) is read once per 64 turns, the first reading starts the budget.
    struct SpinTimer {
        private var turns = 0
        private var start: UInt64 = 0

        /// Counts one turn; true once more than `limit` nanoseconds have passed since spinning began.
        @inline(__always) mutating func spun(longerThan limit: UInt64) -> Bool {
            cpuRelax()
            turns += 1
            guard turns & 63 == 0 else { return false }
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            let now = UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
            if start == 0 { start = now }
            return now &- start > limit
        }
    }

    init() {
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        cond.deallocate()
    }

    func tryAcquire() -> Bool {
        busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    }

    func release() { busy.store(false, ordering: .releasing) }

    /// Publishes a job, works on it from the calling thread, and waits for the other threads' chunks.
    func run(count: Int, chunkCount: Int, body: @escaping (Range<Int>) -> Void) {
        self.count = count
        self.chunkCount = chunkCount
        self.body = body
        let gen = generation.load(ordering: .relaxed) + 1
        pending.store(chunkCount, ordering: .relaxed)
        claim.store(gen << 32 | chunkCount << 16, ordering: .relaxed)
        generation.store(gen, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(cond)
            pthread_mutex_unlock(mutex)
        }
        work(generation: gen)
        var timer = SpinTimer()
        while pending.load(ordering: .acquiring) > 0 {
            // A worker may have been preempted mid-chunk on a busy machine: after a while, yield the core to it.
            if timer.spun(longerThan: Self.yieldAfterNanoseconds) { sched_yield() }
        }
        self.body = nil
    }

    /// Claims and runs chunks of job `generation` until none are left.
    private func work(generation gen: Int) {
        while true {
            var current = claim.load(ordering: .relaxed)
            var index = 0, chunks = 0
            while true {
                guard current >> 32 == gen else { return }
                index = current & 0xFFFF
                chunks = (current >> 16) & 0xFFFF
                guard index < chunks else { return }
                let (exchanged, original) = claim.compareExchange(
                    expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
                if exchanged { break }
                current = original
            }
            let lower = index * count / chunks
            let upper = (index + 1) * count / chunks
            if lower < upper { invoke(lower..<upper) }
            // `invoke` has returned, so this thread holds no reference to the caller's closure any more
            // when the caller sees `pending` reach 0 and ends `withoutActuallyEscaping`.
            pending.subtract(1, ordering: .releasing)
        }
    }

    /// Body of every worker thread: wait for a new generation, help with it, repeat until shutdown.
    /// Calls the job's body on one chunk. Not inlined: the copy of the closure taken here is released
    /// before this returns, never after the chunk is reported done (`withoutActuallyEscaping` in the
    /// caller traps if the closure outlives the call; an inlined copy could be released late).
    @inline(never)
    private func invoke(_ range: Range<Int>) {
        guard let job = body else { return }
        job(range)
    }

    func workerLoop() {
        var seen = 0
        while true {
            var timer = SpinTimer()
            var gen = generation.load(ordering: .acquiring)
            while gen == seen {
                if timer.spun(longerThan: Self.spinNanoseconds) {
                    timer = SpinTimer()
                    pthread_mutex_lock(mutex)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen {
                        pthread_cond_wait(cond, mutex)
                    }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    pthread_mutex_unlock(mutex)
                }
                gen = generation.load(ordering: .acquiring)
            }
            seen = gen
            if stopping.load(ordering: .acquiring) { return }
            work(generation: gen)
        }
    }

    /// Makes every worker return from `workerLoop`.
    func shutdown() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        generation.add(1, ordering: .sequentiallyConsistent)
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
    }
}
