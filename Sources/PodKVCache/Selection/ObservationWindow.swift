import Foundation

/// The last `capacity` query rows one layer has seen in the current prompt segment, with their positions:
/// SnapKV's observation window (arXiv 2404.14469 §4.2), which votes for the prompt tokens to keep.
///
/// A policy cannot know which chunk ends the prompt, so it records every multi-row chunk and votes when
/// the first decode row arrives. This is transient working memory (capacity x qDim floats per layer),
/// not KV-cache memory, and it is not counted in memory reports.
final class ObservationWindow {
    let capacity: Int
    /// Floats per query row (headCount * headDim).
    let rowWidth: Int
    /// (capacity, rowWidth) oldest first; rows 0 ..< count are valid.
    private let rows: UnsafeMutablePointer<Float>
    /// (count) position of each valid row.
    private(set) var positions: [Int] = []

    init(capacity: Int, rowWidth: Int) {
        self.capacity = capacity
        self.rowWidth = rowWidth
        rows = .allocate(capacity: capacity * rowWidth)
        rows.initialize(repeating: 0, count: capacity * rowWidth)
    }

    deinit { rows.deallocate() }

    var count: Int { positions.count }

    /// Records `n` query rows (n, rowWidth) at positions `start ..< start + n`, keeping the last `capacity`.
    func record(_ queries: UnsafePointer<Float>, count n: Int, startPosition start: Int) {
        let take = min(n, capacity)
        let keepOld = min(count, capacity - take)
        if keepOld > 0 {
            // Slide the newest `keepOld` old rows to the front (overlapping move).
            let from = (count - keepOld) * rowWidth
            if from > 0 { memmove(rows, rows + from, keepOld * rowWidth * MemoryLayout<Float>.stride) }
        }
        (rows + keepOld * rowWidth).update(from: queries + (n - take) * rowWidth, count: take * rowWidth)
        positions = Array(positions.suffix(keepOld)) + Array((start + n - take)..<(start + n))
    }

    /// Pointer to the query of `head` in valid row `r` (headDim floats at `head * headDim`).
    func query(_ r: Int, offset: Int) -> UnsafePointer<Float> {
        UnsafePointer(rows + r * rowWidth + offset)
    }

    /// Forgets every row (a new prompt segment starts).
    func clear() { positions = [] }
}
