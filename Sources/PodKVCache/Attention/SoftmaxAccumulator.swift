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

    /// Adds a block of `count` logits whose value rows are `valueRows[0..<count]` (`width` values each, IEEE
    /// half when `half`). Overwrites `logits` with the block's softmax weights.
    @inline(__always)
    mutating func add(
        logits: UnsafeMutablePointer<Float>, count: Int, valueRows: UnsafePointer<UnsafeRawPointer>, half: Bool
    ) {
        guard count > 0 else { return }
        absorb(logits: logits, count: count)
        AttentionKernels.accumulateRows(weights: logits, rows: valueRows, count: count, width: width, half: half, into: out)
    }

    /// The softmax half of `add`: takes a block of `count` (>= 1) logits into the running maximum and sum,
    /// rescaling `out` when the maximum grows, and overwrites `logits` with the weights the caller must
    /// then accumulate into `out` (the grouped attention does that for several heads per value row).
    @inline(__always)
    mutating func absorb(logits: UnsafeMutablePointer<Float>, count: Int) {
        let m = AttentionKernels.maximum(logits, count: count)
        if m > maxLogit {
            if sumExp > 0 {
                let r = Foundation.exp(maxLogit - m)
                sumExp *= r
                VectorOps.scale(out, by: r, count: width)
            }
            maxLogit = m
        }
        sumExp += AttentionKernels.expShifted(logits, minus: maxLogit, count: count)
    }

    /// Merges `other` (over a disjoint token set, its own output buffer) into this accumulator.
    /// Adds a block of `count` logits whose value rows are `values.row(positions(i))`.
    @inline(__always)
    mutating func add<V: KVRows>(logits: UnsafeMutablePointer<Float>, count: Int, values: V, positions: (Int) -> Int) {
        guard count > 0 else { return }
        withUnsafeTemporaryAllocation(of: UnsafeRawPointer.self, capacity: count) { table in
            for i in 0..<count { (table.baseAddress! + i).initialize(to: values.row(positions(i))) }
            add(logits: logits, count: count, valueRows: table.baseAddress!, half: values.elementType == .f16)
        }
    }

    /// Adds `offset` to every logit seen so far (a constant shift of one partial's weight in a merge).
    mutating func shiftLogits(by offset: Float) {
        if sumExp > 0 { maxLogit += offset }
    }

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
///
/// Rows go to the kernels a block at a time as pointer tables (built here, where the storage's `row` is
/// inlined), so one call scores or accumulates up to `attentionBlock` rows whatever the storage layout.
@inline(__always)
func attendRange<K: KVRows, V: KVRows>(
    _ q: UnsafePointer<Float>, scale: Float, keys: K, values: V, positions: Range<Int>,
    into acc: inout SoftmaxAccumulator, scratch: UnsafeMutablePointer<Float>
) {
    guard !positions.isEmpty else { return }
    let width = keys.rowWidth
    let keyHalf = keys.elementType == .f16, valueHalf = values.elementType == .f16
    withUnsafeTemporaryAllocation(of: UnsafeRawPointer.self, capacity: attentionBlock) { table in
        let rows = table.baseAddress!
        var start = positions.lowerBound
        while start < positions.upperBound {
            let n = min(attentionBlock, positions.upperBound - start)
            for i in 0..<n { (rows + i).initialize(to: keys.row(start + i)) }
            AttentionKernels.scores(q, rows: rows, count: n, width: width, half: keyHalf, scale: scale, into: scratch)
            for i in 0..<n { rows[i] = values.row(start + i) }
            acc.add(logits: scratch, count: n, valueRows: rows, half: valueHalf)
            start += n
        }
    }
}

/// `attendRange` for the `heads` query heads that share one KV head (`q`: their vectors one after
/// another): each block of key and value rows is read once for all of them. `accs` holds one accumulator
/// per head; `scratch` holds `heads * attentionBlock` floats.
@inline(__always)
func attendRangeGroup<K: KVRows, V: KVRows>(
    _ q: UnsafePointer<Float>, heads: Int, scale: Float, keys: K, values: V, positions: Range<Int>,
    into accs: UnsafeMutablePointer<SoftmaxAccumulator>, scratch: UnsafeMutablePointer<Float>
) {
    guard !positions.isEmpty else { return }
    let width = keys.rowWidth
    let keyHalf = keys.elementType == .f16, valueHalf = values.elementType == .f16
    withUnsafeTemporaryAllocation(of: UnsafeRawPointer.self, capacity: attentionBlock) { table in
    withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>.self, capacity: heads) { outs in
        for h in 0..<heads { (outs.baseAddress! + h).initialize(to: accs[h].out) }
        let rows = table.baseAddress!
        var start = positions.lowerBound
        while start < positions.upperBound {
            let n = min(attentionBlock, positions.upperBound - start)
            for i in 0..<n { (rows + i).initialize(to: keys.row(start + i)) }
            AttentionKernels.scoresGroup(q, heads: heads, rows: rows, count: n, width: width, half: keyHalf, scale: scale,
                                         into: scratch, logitStride: attentionBlock)
            for h in 0..<heads { accs[h].absorb(logits: scratch + h * attentionBlock, count: n) }
            for i in 0..<n { rows[i] = values.row(start + i) }
            AttentionKernels.accumulateRowsGroup(weights: scratch, weightStride: attentionBlock, heads: heads, rows: rows,
                                                 count: n, width: width, half: valueHalf, into: outs.baseAddress!)
            start += n
        }
    }
    }
}

/// Positions lower ..< upper, empty when upper <= lower.
@inline(__always)
func span(_ lower: Int, _ upper: Int) -> Range<Int> { lower..<max(lower, upper) }
