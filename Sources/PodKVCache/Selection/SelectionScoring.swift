import Foundation
import PodKVKernels

/// Scoring helpers shared by the token-selection policies: attention with explicit probabilities (H2O's
/// accumulated attention), the observation-window vote (SnapKV, PyramidKV, PoD + SnapKV), pooling and
/// top-k. Pure functions over buffers; the policies own the storage.
enum SelectionScoring {
    /// Attention of one query over slots `0 ..< count`, with the probabilities made explicit.
    ///
    /// Writes the normalised output (width floats) to `out` and adds each slot's softmax probability to
    /// `scores[slot]` (count floats). `logits` is scratch for `count` floats.
    @inline(__always)
    static func attendAccumulating<K: KVRows, V: KVRows>(
        _ q: UnsafePointer<Float>, scale: Float, keys: K, values: V, count: Int,
        logits: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, width: Int,
        scores: UnsafeMutablePointer<Float>
    ) {
        out.initialize(repeating: 0, count: width)
        guard count > 0 else { return }
        var m = -Float.infinity
        for j in 0..<count {
            logits[j] = keys.dot(q, j) * scale
            if logits[j] > m { m = logits[j] }
        }
        var z: Float = 0
        for j in 0..<count {
            logits[j] = Foundation.exp(logits[j] - m)
            z += logits[j]
        }
        let inv = 1 / z
        for j in 0..<count {
            let p = logits[j] * inv
            scores[j] += p
            values.accumulate(out, weight: p, j)
        }
    }

    /// The observation-window vote of SnapKV (arXiv 2404.14469 §4.2), for one KV head.
    ///
    /// For every observation query row r (query of head `head` at `queries(r, head)`, position
    /// `queryPositions[r]`) and every query head in `heads`, takes the softmax of q . k * scale over the
    /// key slots it may see (causal: slots whose position is <= its own; `keys` must hold ascending
    /// positions) and adds the probabilities of the slots in `candidates` into `votes` (candidates.count
    /// floats, zeroed here; votes[0] is slot candidates.lowerBound). Softmax is over every visible key, including the observation window itself, as in
    /// the paper; only the candidates' share is voted. `logits` is scratch for `keys.count` floats.
    static func observationVotes(
        queryCount: Int, queryPositions: (Int) -> Int, query: (_ row: Int, _ head: Int) -> UnsafePointer<Float>,
        heads: Range<Int>, keys: SelectedRows, scale: Float, candidates: Range<Int>,
        votes: UnsafeMutablePointer<Float>, logits: UnsafeMutablePointer<Float>
    ) {
        votes.initialize(repeating: 0, count: candidates.count)
        let positions = keys.positions
        for r in 0..<queryCount {
            // Visible slots: positions ascending, so a prefix.
            let p = queryPositions(r)
            var visible = positions.count
            while visible > 0 && positions[visible - 1] > p { visible -= 1 }
            guard visible > 0 else { continue }
            for head in heads {
                let q = query(r, head)
                var m = -Float.infinity
                for j in 0..<visible {
                    logits[j] = keys.dot(q, j) * scale
                    if logits[j] > m { m = logits[j] }
                }
                var z: Float = 0
                for j in 0..<visible {
                    logits[j] = Foundation.exp(logits[j] - m)
                    z += logits[j]
                }
                let inv = 1 / z
                for j in candidates.lowerBound..<min(visible, candidates.upperBound) {
                    votes[j - candidates.lowerBound] += logits[j] * inv
                }
            }
        }
    }

    /// Max pooling with an odd `kernel`, stride 1, centred, edges padded with -infinity (so the output has
    /// the input's length), as SnapKV's clustering step does: a kept token brings its neighbours along.
    static func maxPool(_ x: UnsafePointer<Float>, count n: Int, kernel: Int) -> [Float] {
        precondition(kernel >= 1 && kernel % 2 == 1, "kernel is validated odd by the registry")
        let half = kernel / 2
        var out = [Float](repeating: 0, count: n)
        for i in 0..<n {
            var m = -Float.infinity
            for j in max(0, i - half)...min(n - 1, i + half) where x[j] > m { m = x[j] }
            out[i] = m
        }
        return out
    }

    /// Indices of the `k` largest values of `x`, returned ascending. Ties go to the lower index, so the
    /// choice is deterministic.
    static func topIndices(_ x: [Float], count k: Int) -> [Int] {
        guard k < x.count else { return Array(x.indices) }
        guard k > 0 else { return [] }
        let order = x.indices.sorted { x[$0] != x[$1] ? x[$0] > x[$1] : $0 < $1 }
        return order[0..<k].sorted()
    }
}
