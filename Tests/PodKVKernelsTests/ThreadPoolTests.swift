import Synchronization
import XCTest
@testable import PodKVKernels

final class ThreadPoolTests: XCTestCase {
    /// Runs `parallelFor(count)` and returns how many times each index was visited.
    private func visits(_ pool: ThreadPool, _ count: Int) -> [Int] {
        let counters = Mutex([Int](repeating: 0, count: count))
        pool.parallelFor(count) { range in
            counters.withLock { c in for i in range { c[i] += 1 } }
        }
        return counters.withLock { $0 }
    }

    func testEveryIndexCoveredExactlyOnce() {
        for threads in [1, 2, 3, 4] {
            let pool = ThreadPool(threadCount: threads)
            XCTAssertEqual(pool.threadCount, threads)
            for count in [1, 2, 3, 7, 8, 9, 100, 1001] {
                XCTAssertEqual(visits(pool, count), [Int](repeating: 1, count: count), "threads \(threads) count \(count)")
            }
        }
    }

    func testMoreChunksThanItemsAndEmptyRange() {
        let pool = ThreadPool(threadCount: 4)  // 16 chunks wanted, only 3 items
        XCTAssertEqual(visits(pool, 3), [1, 1, 1])
        var called = false
        pool.parallelFor(0) { _ in called = true }
        XCTAssertFalse(called)
    }

    func testChunksAreContiguousAndDisjoint() {
        let pool = ThreadPool(threadCount: 3)
        let ranges = Mutex<[Range<Int>]>([])
        pool.parallelFor(50) { r in ranges.withLock { $0.append(r) } }
        let sorted = ranges.withLock { $0 }.sorted { $0.lowerBound < $1.lowerBound }
        XCTAssertEqual(sorted.first?.lowerBound, 0)
        XCTAssertEqual(sorted.last?.upperBound, 50)
        for (a, b) in zip(sorted, sorted.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
    }

    func testManySequentialCallsIncludingAfterWorkersSleep() {
        let pool = ThreadPool(threadCount: 2)
        let total = Atomic<Int>(0)
        for call in 0..<20_000 {
            pool.parallelFor(16) { r in total.add(r.count, ordering: .relaxed) }
            if call == 10_000 { usleep(20_000) }  // let workers fall asleep, then wake them
        }
        XCTAssertEqual(total.load(ordering: .relaxed), 20_000 * 16)
    }

    /// Jobs of few chunks followed by jobs of many (decode alternates 3-item attention jobs with 8-chunk
    /// matrix jobs): a worker late from a small job must not claim a chunk of it while the next, larger job
    /// is being published. Before the chunk count travelled in the claim word this ran bodies twice or with
    /// the wrong closure (a crash within a few thousand calls on 2 threads).
    func testAlternatingSmallAndLargeJobsCoverEveryIndexOnce() {
        for threads in [2, 3] {
            let pool = ThreadPool(threadCount: threads)
            let total = Atomic<Int>(0)
            var expected = 0
            for call in 0..<30_000 {
                let count = call % 2 == 0 ? 3 : 64
                expected += count * (call % 7 + 1)
                let weight = call % 7 + 1
                pool.parallelFor(count) { r in total.add(r.count * weight, ordering: .relaxed) }
            }
            XCTAssertEqual(total.load(ordering: .relaxed), expected, "threads \(threads)")
        }
    }

    func testSingleThreadRunsInline() {
        let pool = ThreadPool(threadCount: 1)
        var seen: [Range<Int>] = []
        pool.parallelFor(10) { seen.append($0) }
        XCTAssertEqual(seen, [0..<10])
        XCTAssertEqual(ThreadPool(threadCount: 0).threadCount, 1)
    }

    func testNestedAndConcurrentCallersDoNotDeadlock() {
        let pool = ThreadPool(threadCount: 2)
        let total = Atomic<Int>(0)
        pool.parallelFor(4) { outer in
            for _ in outer {
                pool.parallelFor(5) { inner in total.add(inner.count, ordering: .relaxed) }
            }
        }
        XCTAssertEqual(total.load(ordering: .relaxed), 20)
        // Two caller threads sharing one pool: calls serialize or fall back to inline, never hang.
        let done = Atomic<Int>(0)
        let threads = (0..<2).map { _ in
            Thread {
                for _ in 0..<2000 { pool.parallelFor(8) { r in done.add(r.count, ordering: .relaxed) } }
            }
        }
        threads.forEach { $0.start() }
        let deadline = Date().addingTimeInterval(20)
        while done.load(ordering: .relaxed) < 2 * 2000 * 8 && Date() < deadline { usleep(1000) }
        XCTAssertEqual(done.load(ordering: .relaxed), 2 * 2000 * 8)
    }

    /// Overhead of an (almost) empty parallelFor: reported, and loosely bounded so a regression to
    /// sleeping-thread wakeups (tens of microseconds) shows up. Debug builds and a shared machine make the
    /// bound generous.
    func testPerCallOverheadIsMicroseconds() {
        let pool = ThreadPool(threadCount: 2)
        let sink = Atomic<Int>(0)
        let calls = 20_000
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<calls { pool.parallelFor(2) { r in sink.add(r.count, ordering: .relaxed) } }
        let perCall = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(calls) / 1000
        print("ThreadPool parallelFor overhead: \(String(format: "%.2f", perCall)) us per call (2 threads)")
        XCTAssertEqual(sink.load(ordering: .relaxed), 2 * calls)
        XCTAssertLessThan(perCall, 50)
    }
}
