import Foundation
import PodKVCache
import PodKVModel

/// Small seeded generator so that tests are reproducible.
struct TestRNG {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        var z = state
        z = (z ^ (z >> 33)) &* 0xff51afd7ed558ccd
        return z ^ (z >> 33)
    }
    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(next() >> 40) / Float(1 << 24) * 2 - 1 }
    mutating func floats(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in float() * scale } }
}

/// Rounds through the cache's element type, as stored keys/values read back.
func roundTrip(_ x: [Float], _ type: KVElementType) -> [Float] {
    type == .f16 ? x.map { Float(Float16($0)) } : x
}

/// The queries, keys and values of every layer for a whole sequence: [layer] of (T, width) row-major.
struct AttentionInputs {
    var geometry: KVGeometry
    var tokens: Int
    var q: [[Float]]
    var k: [[Float]]
    var v: [[Float]]

    init(geometry g: KVGeometry, tokens: Int, seed: UInt64, keyScale: Float = 2) {
        var rng = TestRNG(seed)
        geometry = g
        self.tokens = tokens
        q = (0..<g.layerCount).map { _ in rng.floats(tokens * g.headCount * g.headDim, scale: keyScale) }
        k = (0..<g.layerCount).map { _ in rng.floats(tokens * g.kvHeadCount * g.headDim, scale: keyScale) }
        v = (0..<g.layerCount).map { _ in rng.floats(tokens * g.kvHeadCount * g.headDim) }
    }
}

/// Scalar PoD attention written from POD.md §4 with masks over the whole sequence: no caches, no rings,
/// no log-sum-exp merging. Every other policy is a special case:
/// full = PoD with all blocks of size one; streaming-llm = proximal tokens only.
enum BruteForce {
    enum Mode { case full, proximalOnly(sink: Int, window: Int), pod(plan: PoDPlan, sink: Int, window: Int, ownerQuery: Bool, skip: Float?) }

    /// Output (T, headCount * headDim) of `layer`.
    static func attention(_ inp: AttentionInputs, layer l: Int, mode: Mode, type: KVElementType) -> [Float] {
        let g = inp.geometry
        let d = g.headDim
        let T = inp.tokens
        var out = [Float](repeating: 0, count: T * g.headCount * d)
        let keys = inp.k.map { roundTrip($0, type) }
        let vals = inp.v.map { roundTrip($0, type) }
        for t in 0..<T {
            for h in 0..<g.headCount {
                let kv = h / g.queriesPerKVHead
                func qrow(_ layer: Int) -> ArraySlice<Float> {
                    inp.q[layer][(t * g.headCount + h) * d..<(t * g.headCount + h + 1) * d]
                }
                func krow(_ layer: Int, _ j: Int) -> ArraySlice<Float> {
                    keys[layer][(j * g.kvHeadCount + kv) * d..<(j * g.kvHeadCount + kv + 1) * d]
                }
                func dot(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
                    zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) }
                }
                var logits: [(j: Int, s: Double, distant: Bool)] = []
                for j in 0...t {
                    switch mode {
                    case .full:
                        logits.append((j, dot(qrow(l), krow(l, j)) * Double(g.scale), false))
                    case .proximalOnly(let ns, let nr):
                        if j < ns || j >= max(ns, t - nr + 1) {
                            logits.append((j, dot(qrow(l), krow(l, j)) * Double(g.scale), false))
                        }
                    case .pod(let plan, let ns, let nr, let ownerQuery, _):
                        let a = plan.owners[kv][l]
                        let proximal = j < ns || j >= max(ns, t - nr + 1)
                        if proximal || a == l {
                            logits.append((j, dot(qrow(l), krow(l, j)) * Double(g.scale), false))
                        } else {
                            let qd = ownerQuery ? qrow(a) : qrow(l)
                            logits.append((j, dot(qd, krow(a, j)) * Double(g.scale), true))
                        }
                    }
                }
                var keep = logits
                if case .pod(_, _, _, _, let skip?) = mode {
                    let m = logits.map(\.s).max()!
                    let zp = logits.filter { !$0.distant }.reduce(0) { $0 + exp($1.s - m) }
                    let zd = logits.filter { $0.distant }.reduce(0) { $0 + exp($1.s - m) }
                    if zd > 0, zp / (zp + zd) >= Double(skip) { keep = logits.filter { !$0.distant } }
                }
                let m = keep.map(\.s).max()!
                let z = keep.reduce(0) { $0 + exp($1.s - m) }
                for (j, s, _) in keep {
                    let p = exp(s - m) / z
                    for c in 0..<d {
                        out[(t * g.headCount + h) * d + c] += Float(p * Double(vals[l][(j * g.kvHeadCount + kv) * d + c]))
                    }
                }
            }
        }
        return out
    }
}
