import Foundation
import PodKVCache
import PodKVKernels
import PodKVModel

/// Runs `cache` over `inp` in the given chunk sizes (layer by layer, then `advance`), as the model does;
/// returns [layer] of (T, headCount * headDim) outputs.
func runPolicy(_ cache: KVCachePolicy, _ inp: AttentionInputs, chunks: [Int], pool: ThreadPool) -> [[Float]] {
    let g = inp.geometry
    let qw = g.headCount * g.headDim, kw = g.kvHeadCount * g.headDim
    var outs = [[Float]](repeating: [Float](repeating: 0, count: inp.tokens * qw), count: g.layerCount)
    var start = 0
    for n in chunks {
        for l in 0..<g.layerCount {
            var out = [Float](repeating: .nan, count: n * qw)
            inp.q[l].withUnsafeBufferPointer { q in
                inp.k[l].withUnsafeBufferPointer { k in
                    inp.v[l].withUnsafeBufferPointer { v in
                        out.withUnsafeMutableBufferPointer { o in
                            cache.attend(
                                layer: l,
                                rows: AttentionRows(
                                    queries: q.baseAddress! + start * qw, keys: k.baseAddress! + start * kw,
                                    values: v.baseAddress! + start * kw, output: o.baseAddress!, count: n,
                                    startPosition: start),
                                pool: pool)
                        }
                    }
                }
            }
            outs[l].replaceSubrange(start * qw..<(start + n) * qw, with: out)
        }
        cache.advance(by: n)
        start += n
    }
    return outs
}

/// Brute-force token selection written from the papers with plain arrays and Doubles: no slots, no
/// compaction, no pooling buffers. Each function returns the attention output of one layer,
/// (T, headCount * headDim), and the positions every KV head holds at the end.
enum SelectionReference {
    struct Result {
        var output: [Float]
        /// [kvHead] positions held at the end, ascending.
        var kept: [[Int]]
    }

    /// Softmax of q(t, head) . k(j) * scale over `positions`, in that order.
    static func probabilities(_ inp: AttentionInputs, layer l: Int, queryLayer: Int? = nil, keyLayer: Int? = nil,
                              t: Int, head: Int, positions: [Int], type: KVElementType) -> [Double] {
        let g = inp.geometry, d = g.headDim, kv = head / g.queriesPerKVHead
        let keys = roundTrip(inp.k[keyLayer ?? l], type)
        let ql = queryLayer ?? l
        let logits = positions.map { j in
            (0..<d).reduce(0.0) { $0 + Double(inp.q[ql][(t * g.headCount + head) * d + $1]) * Double(keys[(j * g.kvHeadCount + kv) * d + $1]) }
                * Double(g.scale)
        }
        let m = logits.max() ?? 0
        let e = logits.map { exp($0 - m) }
        let z = e.reduce(0, +)
        return e.map { $0 / z }
    }

    /// Adds sum_j p_j v_l(j) into out(t, head).
    static func accumulate(_ inp: AttentionInputs, layer l: Int, t: Int, head: Int, positions: [Int], p: [Double],
                           type: KVElementType, into out: inout [Float]) {
        let g = inp.geometry, d = g.headDim, kv = head / g.queriesPerKVHead
        let vals = roundTrip(inp.v[l], type)
        for c in 0..<d {
            var s = 0.0
            for (j, pos) in positions.enumerated() { s += p[j] * Double(vals[(pos * g.kvHeadCount + kv) * d + c]) }
            out[(t * g.headCount + head) * d + c] = Float(s)
        }
    }

    /// H2O (arXiv 2306.14048, Algorithm 1 with eviction before the row attends): per KV head a held list
    /// and accumulated scores; evict the lowest-scoring non-sink token older than the window when full.
    static func h2o(_ inp: AttentionInputs, layer l: Int, budget: Int, sink: Int, window: Int, type: KVElementType) -> Result {
        let g = inp.geometry
        var out = [Float](repeating: 0, count: inp.tokens * g.headCount * g.headDim)
        var kept: [[Int]] = []
        for kv in 0..<g.kvHeadCount {
            var held: [Int] = []
            var score: [Int: Double] = [:]
            for t in 0..<inp.tokens {
                if held.count == budget {
                    let evictable = held.filter { $0 >= sink && $0 < t - window + 1 }
                    let victim = evictable.min { (score[$0]!, $0) < (score[$1]!, $1) }!
                    held.removeAll { $0 == victim }
                }
                held.append(t)
                score[t] = 0
                for head in (kv * g.queriesPerKVHead)..<((kv + 1) * g.queriesPerKVHead) {
                    let p = probabilities(inp, layer: l, t: t, head: head, positions: held, type: type)
                    for (j, pos) in held.enumerated() { score[pos]! += p[j] }
                    accumulate(inp, layer: l, t: t, head: head, positions: held, p: p, type: type, into: &out)
                }
            }
            kept.append(held.sorted())
        }
        return Result(output: out, kept: kept)
    }

    /// The positions SnapKV keeps out of `held` (ascending) for KV head `kv`: the first `leading` and last
    /// `trailing` are protected; observation rows (of `layer`) vote with softmax over the held keys they
    /// may see, candidates' votes are max-pooled (centred `kernel`, clipped at the edges) and the `keep`
    /// best kept (ties: older).
    static func snapKVSelect(_ inp: AttentionInputs, layer l: Int, kv: Int, held: [Int], observation: [Int],
                             keep: Int, leading: Int, trailing: Int, kernel: Int, type: KVElementType) -> [Int] {
        let g = inp.geometry
        let candidates = Array(held[leading..<(held.count - trailing)])
        guard keep < candidates.count else { return held }
        var votes = [Double](repeating: 0, count: candidates.count)
        for t in observation {
            let visible = held.filter { $0 <= t }
            for head in (kv * g.queriesPerKVHead)..<((kv + 1) * g.queriesPerKVHead) {
                let p = probabilities(inp, layer: l, t: t, head: head, positions: visible, type: type)
                for (j, pos) in visible.enumerated() { if let c = candidates.firstIndex(of: pos) { votes[c] += p[j] } }
            }
        }
        let half = kernel / 2
        let pooled = votes.indices.map { i in votes[max(0, i - half)...min(votes.count - 1, i + half)].max()! }
        let order = pooled.indices.sorted { pooled[$0] != pooled[$1] ? pooled[$0] > pooled[$1] : $0 < $1 }
        let chosen = order.prefix(max(0, keep)).map { candidates[$0] }
        return (Array(held[0..<leading]) + chosen + Array(held[(held.count - trailing)...])).sorted()
    }

    /// SnapKV over a chunk plan: multi-row chunks are appended in full (the segment's last `window`
    /// queries are its observation window); the first single-row chunk after them compresses.
    static func snapKV(_ inp: AttentionInputs, layer l: Int, chunks: [Int], budget: Int, window: Int, kernel: Int,
                       type: KVElementType) -> Result {
        let g = inp.geometry
        var out = [Float](repeating: 0, count: inp.tokens * g.headCount * g.headDim)
        var kept: [[Int]] = []
        for kv in 0..<g.kvHeadCount {
            var held: [Int] = []
            var segment: [Int] = []
            var pending = false
            var start = 0
            for n in chunks {
                if n == 1 && pending {
                    let obs = Array(segment.suffix(window))
                    if held.count > budget {
                        held = snapKVSelect(inp, layer: l, kv: kv, held: held, observation: obs, keep: budget - window,
                                            leading: 0, trailing: window, kernel: kernel, type: type)
                    }
                    pending = false
                } else if n > 1 {
                    if !pending { segment = [] }
                    segment += Array(start..<(start + n))
                    pending = true
                }
                for t in start..<(start + n) {
                    held.append(t)
                    for head in (kv * g.queriesPerKVHead)..<((kv + 1) * g.queriesPerKVHead) {
                        let visible = held.filter { $0 <= t }
                        let p = probabilities(inp, layer: l, t: t, head: head, positions: visible, type: type)
                        accumulate(inp, layer: l, t: t, head: head, positions: visible, p: p, type: type, into: &out)
                    }
                }
                start += n
            }
            kept.append(held)
        }
        return Result(output: out, kept: kept)
    }

    /// PoD + SnapKV (POD.md §2, §4, §8): per KV head the block's owner layer `a` votes at the first decode
    /// row after a prefill (sinks and the decode row's window protected, `budget - sink - window` distant
    /// tokens kept); layer `l` holds the same positions and attends with PoD's masks: proximal tokens with
    /// its own keys, held distant tokens with the owner's keys (owner's or own query), one softmax.
    static func podSnapKV(_ inp: AttentionInputs, layer l: Int, chunks: [Int], plan: PoDPlan, budget: Int, sink: Int,
                          window: Int, observation: Int, kernel: Int, ownerQuery: Bool, type: KVElementType) -> Result {
        let g = inp.geometry, d = g.headDim
        var out = [Float](repeating: 0, count: inp.tokens * g.headCount * d)
        let keys = inp.k.map { roundTrip($0, type) }
        var kept: [[Int]] = []
        for kv in 0..<g.kvHeadCount {
            let a = plan.owners[kv][l]
            var held: [Int] = []
            var segment: [Int] = []
            var pending = false
            var start = 0
            for n in chunks {
                if n == 1 && pending {
                    let leading = min(sink, held.count)
                    let trailing = min(window - 1, held.count - leading)
                    held = snapKVSelect(inp, layer: a, kv: kv, held: held, observation: Array(segment.suffix(observation)),
                                        keep: budget - sink - window, leading: leading, trailing: trailing, kernel: kernel, type: type)
                    pending = false
                } else if n > 1 {
                    if !pending { segment = [] }
                    segment += Array(start..<(start + n))
                    pending = true
                }
                for t in start..<(start + n) {
                    held.append(t)
                    let visible = held.filter { $0 <= t }
                    for head in (kv * g.queriesPerKVHead)..<((kv + 1) * g.queriesPerKVHead) {
                        func dot(_ ql: Int, _ kl: Int, _ j: Int) -> Double {
                            (0..<d).reduce(0.0) { $0 + Double(inp.q[ql][(t * g.headCount + head) * d + $1]) * Double(keys[kl][(j * g.kvHeadCount + kv) * d + $1]) }
                        }
                        let logits = visible.map { j -> Double in
                            let proximal = j < sink || j >= max(sink, t - window + 1)
                            return (proximal || a == l ? dot(l, l, j) : dot(ownerQuery ? a : l, a, j)) * Double(g.scale)
                        }
                        let m = logits.max()!
                        let e = logits.map { exp($0 - m) }
                        let z = e.reduce(0, +)
                        accumulate(inp, layer: l, t: t, head: head, positions: visible, p: e.map { $0 / z }, type: type, into: &out)
                    }
                }
                start += n
            }
            kept.append(held)
        }
        return Result(output: out, kept: kept)
    }
}
