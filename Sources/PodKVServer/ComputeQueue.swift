import Foundation

/// The queue is full: the request is refused instead of piling up without bound.
public struct ComputeQueueError: Error, CustomStringConvertible {
    public var waiting: Int
    public var running: Int
    public var description: String {
        "the server is busy: \(running) requests running and \(waiting) waiting (the queue limit); retry later"
    }
}

/// Runs CPU-bound jobs (prefill, decode, cache snapshots) on a fixed set of dedicated threads, never on
/// Swift's cooperative pool, where a multi-second forward pass would stall every other request's I/O.
///
/// `workerCount` jobs run at once; up to `maxQueue` more wait in FIFO order; beyond that `submit` throws
/// `ComputeQueueError` (the server answers 429 Too Many Requests).
final class ComputeQueue: @unchecked Sendable {
    let workerCount: Int
    let maxQueue: Int
    private let state: State

    /// Shared with the worker threads (they must not keep the queue itself alive).
    private final class State: @unchecked Sendable {
        let condition = NSCondition()
        /// Each job with what to run once it has left the running count (so that a client that sees its
        /// answer also sees the thread as free).
        var waiting: [(job: @Sendable () -> Void, then: (@Sendable () -> Void)?)] = []
        var running = 0
        var stopping = false

        func workerLoop() {
            while true {
                condition.lock()
                while waiting.isEmpty && !stopping { condition.wait() }
                if waiting.isEmpty {
                    condition.unlock()
                    return
                }
                let next = waiting.removeFirst()
                running += 1
                condition.unlock()
                next.job()
                condition.lock()
                running -= 1
                condition.unlock()
                next.then?()
            }
        }
    }

    init(workerCount: Int, maxQueue: Int) {
        self.workerCount = workerCount
        self.maxQueue = maxQueue
        state = State()
        for i in 0..<workerCount {
            let s = state
            let thread = Thread { s.workerLoop() }
            thread.name = "podkv-compute-\(i)"
            // Forward passes keep sizeable temporary buffers on the stack.
            thread.stackSize = 16 << 20
            thread.start()
        }
    }

    deinit {
        state.condition.lock()
        state.stopping = true
        state.condition.broadcast()
        state.condition.unlock()
    }

    /// Jobs waiting for a thread (not counting ones about to be picked up by an idle thread).
    var queueDepth: Int {
        state.condition.lock()
        defer { state.condition.unlock() }
        return max(0, state.waiting.count - (workerCount - state.running))
    }

    /// Jobs running now.
    var running: Int {
        state.condition.lock()
        defer { state.condition.unlock() }
        return state.running
    }

    /// Enqueues `job`, and `then` to run after it on the same thread once it no longer counts as
    /// running; throws when `maxQueue` jobs already wait and no thread is idle.
    func submit(_ job: @escaping @Sendable () -> Void, then: (@Sendable () -> Void)? = nil) throws {
        state.condition.lock()
        defer { state.condition.unlock() }
        let idle = workerCount - state.running
        guard state.waiting.count < maxQueue + idle else {
            throw ComputeQueueError(waiting: state.waiting.count, running: state.running)
        }
        state.waiting.append((job, then))
        state.condition.signal()
    }

    /// Runs `body` on a compute thread and returns its result to the awaiting task.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
            let box = ResultBox<T>()
            do {
                try submit({ box.result = Result { try body() } }, then: { c.resume(with: box.result!) })
            } catch {
                c.resume(throwing: error)
            }
        }
    }
}

/// Carries a job's result from the job to its `then` closure (same thread, one after the other).
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}
