/// A token id with its (possibly penalized) logit.
struct TokenCandidate: Sendable {
    var id: Int32
    var logit: Float

    /// The sampler's order: higher logit first, lower id first on ties, so results never depend on
    /// how a sort or heap happened to arrange equal values.
    @inline(__always)
    func ranksAbove(_ other: TokenCandidate) -> Bool {
        logit > other.logit || (logit == other.logit && id < other.id)
    }
}

/// Selection of the best candidate tokens without sorting the whole vocabulary.
enum TopKSelection {
    /// Fills `result` with the `k` best tokens of `logits` (shape `[vocabulary]`), sorted best first
    /// (see `TokenCandidate.ranksAbove`). NaN logits count as -infinity. `k` is clamped to the vocabulary.
    ///
    /// A min-heap of the current best `k` keeps the worst kept token at the root, so most tokens of a large
    /// vocabulary cost a single comparison with the root.
    static func select(_ logits: UnsafeBufferPointer<Float>, k: Int, into result: inout [TokenCandidate]) {
        let count = min(k, logits.count)
        result.removeAll(keepingCapacity: true)
        guard count > 0 else { return }
        result.reserveCapacity(count)
        for index in 0..<logits.count {
            let raw = logits[index]
            let value = raw.isNaN ? -Float.infinity : raw
            if result.count < count {
                result.append(TokenCandidate(id: Int32(index), logit: value))
                siftUp(&result, from: result.count - 1)
            } else if value > result[0].logit {
                // Ids arrive in increasing order, so a tie with the root ranks below it: `>` is exact.
                result[0] = TokenCandidate(id: Int32(index), logit: value)
                siftDown(&result, from: 0)
            }
        }
        result.sort { $0.ranksAbove($1) }
    }

    /// Fills `result` with every token whose logit is at least `floor`, sorted best first. NaN logits are
    /// skipped. Used when the caller knows no token below `floor` matters but cannot bound the count.
    static func collect(_ logits: UnsafeBufferPointer<Float>, atLeast floor: Float, into result: inout [TokenCandidate]) {
        result.removeAll(keepingCapacity: true)
        for index in 0..<logits.count where logits[index] >= floor {
            result.append(TokenCandidate(id: Int32(index), logit: logits[index]))
        }
        result.sort { $0.ranksAbove($1) }
    }

    // The heap's root is the candidate that ranks lowest.
    private static func siftUp(_ heap: inout [TokenCandidate], from start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[parent].ranksAbove(heap[child]) else { return }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    private static func siftDown(_ heap: inout [TokenCandidate], from start: Int) {
        var parent = start
        let count = heap.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            var lowest = left
            let right = left + 1
            if right < count && heap[lowest].ranksAbove(heap[right]) { lowest = right }
            guard heap[parent].ranksAbove(heap[lowest]) else { return }
            heap.swapAt(parent, lowest)
            parent = lowest
        }
    }
}
