import Foundation
import PodKVKernels

/// Running state of a softmax-weighted sum of value rows for one query head, built segment by segment
/// (the split-softmax / flash-attention formulation). Two states over disjoint token sets merge by
/// their log-sum-exp into exactly the joint softmax over the union, which is how PoD combines its
/// proximal and distant partial attentions (POD.md §4).
struct SoftmaxAccumulator {
    /// Largest logit seen so far (the exponent shift).
    var maxLogit: Float = -.infinity
    /// Sum of exp(logit - maxLogit) over the tokens seen.
    var sumExp: Float = 0
    /// (headDim) unnormalised sum of exp(logit - maxLogit) * value.
    let out: UnsafeMutablePointer<Float>
    let width: Int

    /// Starts an empty accumulator writing into `out` (width values, zeroed here).
    init(out: UnsafeMutablePointer<Float>, width: Int) {
        self.out = out
        self.width = width
        out.initialize(repeating: 0, count: width)
    }

    /// Log of the partition function Z = sum exp(logit) of the tokens seen (-inf when none).
    var logSumExp: Float { sumExp > 0 ? maxLogit + Foundation.log(sumExp) : -.infinity }

    /// Adds a block of `count` logits whose value rows are given by `value(i)`.
    @inline(__always)
    mutating func add<V: KVRows>(logits: UnsafeMutablePointer<Float>, count: Int, values: V, positions: (Int) -> Int) {
        guard count > 0 else { return }
        var m = logits[0]
        for i in 1..<count where logits[i] > m { m = logits[i] }
        if m > maxLogit {
            if sumExp > 0 {
                let r = Foundation.exp(maxLogit - m)
                sumExp *= r
                VectorOps.scale(out, by: r, count: width)
            }
            maxLogit = m
        }
        for i in 0..<count {
            let p = Foundation.exp(logits[i] - maxLogit)
            sumExp += p
            values.accumulate(out, weight: p, positions(i))
        }
    }

    /// Merges `other` (over a disjoint token set, its own output buffer) into this accumulator.
    mutating func merge(_ other: SoftmaxAccumulator) {
        guard other.sumExp > 0 else { return }
        if sumExp == 0 {
            maxLogit = other.maxLogit
            sumExp = other.sumExp
            out.update(from: other.out, count: width)
            return
        }
        let m = max(maxLogit, other.maxLogit)
        let a = Foundation.exp(maxLogit - m)
        let b = Foundation.exp(other.maxLogit - m)
        VectorOps.scale(out, by: a, count: width)
        VectorOps.axpy(out, b, other.out, count: width)
        sumExp = sumExp * a + other.sumExp * b
        maxLogit = m
    }

    /// Writes the normalised attention output (sum p * v / Z) into `dst`.
    func finish(into dst: UnsafeMutablePointer<Float>) {
        let inv: Float = sumExp > 0 ? 1 / sumExp : 0
        for i in 0..<width { dst[i] = out[i] * inv }
    }
}

/// Block size for scoring keys before accumulating values (logits scratch per block).
let attentionBlock = 128

/// Scores query `q` against `keys` at every position of `positions` (ascending) and accumulates the
/// matching `values` rows into `acc`. `scratch` holds `attentionBlock` floats.
@inline(__always)
func attendRange<K: KVRows, V: KVRows>(
    _ q: UnsafePointer<Float>, scale: Float, keys: K, values: V, positions: Range<Int>,
    into acc: inout SoftmaxAccumulator, scratch: UnsafeMutablePointer<Float>
) {
    var start = positions.lowerBound
    while start < positions.upperBound {
        let n = min(attentionBlock, positions.upperBound - start)
        for i in 0..<n { scratch[i] = keys.dot(q, start + i) * scale }
        let base = start
        acc.add(logits: scratch, count: n, values: values, positions: { base + $0 })
        start += n
    }
}

/// Positions lower ..< upper, empty when upper <= lower.
@inline(__always)
func span(_ lower: Int, _ upper: Int) -> Range<Int> { lower..<max(lower, upper) }
