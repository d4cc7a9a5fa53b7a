import Foundation
import PodKV
import PodKVKernels

/// The layer-local adaptation problem of one non-owner layer (POD.md §7): for every sampled (text, query
/// row, adapted head), the layer's full-cache attention output is the target; the PoD output mixes the
/// fixed proximal part (own keys) with the distant part scored by the adapter's query against the owner's
/// keys, under one softmax. The loss is sum ||o_pod - o_full||^2 / sum ||o_full||^2 over the items, so 0 is
/// perfect and a value is comparable across layers.
final class LayerProblem: @unchecked Sendable {
    let layer: Int
    let layout: PoDAdapterLayout
    let pairs: RotaryPairs
    let headDim: Int
    let scale: Float
    let sink: Int
    let window: Int
    /// Owner layer of each query head ([headCount]; equal to `layer` for heads this layer owns).
    let ownerOf: [Int]
    let queriesPerKVHead: Int
    let samples: [RecordedSample]
    let useOwnerQuery: Bool
    let useInput: Bool
    /// Adapted heads of this layer (items per sampled row).
    let headsPerRow: Int

    /// Items: which sample, which sampled row, which head.
    private(set) var itemSample: [Int32] = []
    private(set) var itemRow: [Int32] = []
    private(set) var itemHead: [Int32] = []
    /// (items, headDim) full-cache output; (items, headDim) normalised proximal output; (items) its log-sum-exp.
    private var target: [Float] = []
    private var proximalOut: [Float] = []
    private var proximalLSE: [Float] = []
    var count: Int { itemHead.count }

    init(layer: Int, heads: [Int], ownerOf: [Int], queriesPerKVHead: Int, layout: PoDAdapterLayout, pairs: RotaryPairs,
         scale: Float, sink: Int, window: Int, samples: [RecordedSample], useOwnerQuery: Bool, useInput: Bool) {
        self.layer = layer
        self.layout = layout
        self.pairs = pairs
        self.headDim = layout.headDim
        self.scale = scale
        self.sink = sink
        self.window = window
        self.ownerOf = ownerOf
        self.queriesPerKVHead = queriesPerKVHead
        self.samples = samples
        self.useOwnerQuery = useOwnerQuery
        self.useInput = useInput
        self.headsPerRow = heads.count
        let d = headDim
        for (s, sample) in samples.enumerated() {
            for (row, m) in sample.positions.enumerated() where distant(m).count > 0 {
                for head in heads {
                    let kv = head / queriesPerKVHead
                    let q = sample.query(layer: layer, index: row, head: head, headDim: d)
                    // Full attention split into its proximal and distant parts (own keys), merged for the target.
                    let parts = [proximal(m), [distant(m)]].map { ranges in
                        Self.partial(q, keys: sample.keys[layer], values: sample.values[layer], offset: kv * d, width: d,
                                     scale: scale, ranges: ranges)
                    }
                    let (lp, op) = parts[0], (ld, od) = parts[1]
                    let mx = max(lp, ld)
                    let wp = Foundation.exp(lp - mx), wd = Foundation.exp(ld - mx)
                    for i in 0..<d { target.append((wp * op[i] + wd * od[i]) / (wp + wd)) }
                    proximalOut += op
                    proximalLSE.append(lp)
                    itemSample.append(Int32(s))
                    itemRow.append(Int32(row))
                    itemHead.append(Int32(head))
                }
            }
        }
    }

    /// Softmax attention of `q` over the key rows in `ranges` (columns offset ..< offset + width): its
    /// log-sum-exp and normalised output.
    static func partial(
        _ q: UnsafePointer<Float>, keys: RowBuffer, values: RowBuffer, offset: Int, width d: Int, scale: Float, ranges: [Range<Int>]
    ) -> (lse: Float, out: [Float]) {
        var z: [Float] = []
        for r in ranges { for n in r { z.append(VectorOps.dot(q, keys.row(n) + offset, count: d) * scale) } }
        let mx = z.max() ?? 0
        var out = [Float](repeating: 0, count: d)
        var sum: Float = 0
        var k = 0
        out.withUnsafeMutableBufferPointer { ob in
            for r in ranges {
                for n in r {
                    let e = Foundation.exp(z[k] - mx)
                    sum += e
                    VectorOps.axpy(ob.baseAddress!, e, values.row(n) + offset, count: d)
                    k += 1
                }
            }
            VectorOps.scale(ob.baseAddress!, by: 1 / sum, count: d)
        }
        return (mx + Foundation.log(sum), out)
    }

    /// D(m) and P(m) of the PoD policy at sink/window (POD.md §4).
    func distant(_ m: Int) -> Range<Int> { sink..<max(sink, m - window + 1) }
    func proximal(_ m: Int) -> [Range<Int>] { [0..<min(sink, m + 1), max(sink, m - window + 1)..<(m + 1)] }

    /// Sum of ||target||^2 over `items`: the loss normaliser.
    func targetEnergy<C: Collection>(_ items: C) -> Double where C.Element == Int {
        var e: Double = 0
        target.withUnsafeBufferPointer { t in
            for i in items { e += Double(VectorOps.dot(t.baseAddress! + i * headDim, t.baseAddress! + i * headDim, count: headDim)) }
        }
        return e
    }

    /// Sum over `items` of ||o_pod - o_full||^2 under `parameters` (layout.count floats). When `gradient` is
    /// given, adds d(sum / normaliser)/d(parameters) to it.
    func loss<C: Collection>(
        parameters p: UnsafePointer<Float>, items: C, normaliser: Double, gradient: UnsafeMutablePointer<Float>?
    ) -> Double where C.Element == Int {
        let d = headDim, lay = layout
        let maxTokens = samples.map(\.tokenCount).max() ?? 1
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: maxTokens + 8 * d + 2 * max(1, lay.rank))
        defer { buffer.deallocate() }
        let weights = buffer, qd = buffer + maxTokens, o = qd + d, delta = o + d, dq = delta + d, back = dq + d
        let scratch = back + d
        let dcode = scratch + lay.rank + d
        var sse: Double = 0
        let invNorm = Float(1 / max(normaliser, 1e-30))
        target.withUnsafeBufferPointer { tb in
        proximalOut.withUnsafeBufferPointer { pb in
            for item in items {
                let sample = samples[Int(itemSample[item])]
                let row = Int(itemRow[item]), head = Int(itemHead[item])
                let m = sample.positions[row]
                let kv = head / queriesPerKVHead
                let a = ownerOf[head]
                let far = distant(m)
                let keys = sample.keys[a], values = sample.values[layer]
                let bias = PoDQueryAdapter.distantQuery(
                    parameters: p, layout: lay, pairs: pairs, head: head, position: m,
                    query: sample.query(layer: layer, index: row, head: head, headDim: d),
                    ownerQuery: useOwnerQuery ? sample.query(layer: a, index: row, head: head, headDim: d) : nil,
                    input: useInput ? sample.input(layer: layer, index: row) : nil, scratch: scratch, into: qd)
                // Joint softmax of the fixed proximal partial (one pseudo-token of weight e^lseP) and the distant logits.
                let lseP = proximalLSE[item]
                var mx = lseP
                for (k, n) in far.enumerated() {
                    let z = VectorOps.dot(qd, keys.row(n) + kv * d, count: d) * scale + bias
                    weights[k] = z
                    mx = max(mx, z)
                }
                let wp = Foundation.exp(lseP - mx)
                var total = wp
                for k in 0..<far.count {
                    weights[k] = Foundation.exp(weights[k] - mx)
                    total += weights[k]
                }
                let inv = 1 / total
                let op = pb.baseAddress! + item * d, t = tb.baseAddress! + item * d
                for i in 0..<d { o[i] = wp * inv * op[i] }
                for (k, n) in far.enumerated() {
                    weights[k] *= inv
                    VectorOps.axpy(o, weights[k], values.row(n) + kv * d, count: d)
                }
                var err: Float = 0
                for i in 0..<d {
                    let e = o[i] - t[i]
                    err += e * e
                    delta[i] = 2 * e * invNorm
                }
                sse += Double(err)
                guard let g = gradient else { continue }
                // dL/dz_n = pi_n (v_n - o) . delta; dL/dq' = scale * sum dz_n k_n; dL/dbias = sum dz_n.
                let c = VectorOps.dot(o, delta, count: d)
                dq.initialize(repeating: 0, count: d)
                var dbias: Float = 0
                for (k, n) in far.enumerated() {
                    let dz = weights[k] * (VectorOps.dot(values.row(n) + kv * d, delta, count: d) - c)
                    dbias += dz
                    VectorOps.axpy(dq, dz * scale, keys.row(n) + kv * d, count: d)
                }
                g[lay.bias + head] += dbias
                addScaleGradient(dq, source: sample.query(layer: layer, index: row, head: head, headDim: d),
                                 into: g + lay.ownScale + head * d)
                if useOwnerQuery {
                    addScaleGradient(dq, source: sample.query(layer: a, index: row, head: head, headDim: d),
                                     into: g + lay.ownerScale + head * d)
                }
                if useInput && lay.rank > 0 {
                    // q' += R_m B_h u with u = A x: back-rotate the gradient, then the two matrix products.
                    back.update(from: dq, count: d)
                    pairs.rotate(back, position: m, inverse: true)
                    let x = sample.input(layer: layer, index: row)
                    dcode.initialize(repeating: 0, count: lay.rank)
                    for i in 0..<d {
                        let bRow = p + lay.up + (head * d + i) * lay.rank
                        VectorOps.axpy(g + lay.up + (head * d + i) * lay.rank, back[i], UnsafePointer(scratch), count: lay.rank)
                        VectorOps.axpy(dcode, back[i], bRow, count: lay.rank)
                    }
                    for r in 0..<lay.rank { VectorOps.axpy(g + lay.down + r * lay.inputWidth, dcode[r], x, count: lay.inputWidth) }
                }
            }
        }}
        return sse
    }

    /// Gradient of a complex per-pair scale s (out = s ⊙ x) given dL/dout.
    @inline(__always)
    private func addScaleGradient(_ dout: UnsafePointer<Float>, source x: UnsafePointer<Float>, into g: UnsafeMutablePointer<Float>) {
        for j in 0..<pairs.count {
            let ia = pairs.first[j], ib = pairs.second[j]
            let u = x[ia], v = x[ib]
            g[2 * j] += dout[ia] * u + dout[ib] * v
            g[2 * j + 1] += -dout[ia] * v + dout[ib] * u
        }
    }

    /// Weighted least-squares data for the closed-form fit of `head`'s own-query scale and bias.
    func item(_ i: Int) -> (sample: RecordedSample, row: Int, head: Int) {
        (samples[Int(itemSample[i])], Int(itemRow[i]), Int(itemHead[i]))
    }
}
