import Foundation
import PodKV
import PodKVKernels

/// The cheap adaptation (POD.md §7, first candidate): for each adapted head, one complex scale per rotary
/// pair on the layer's own query plus a distant logit offset, fitted by weighted least squares so that
/// scale * (s ⊙ q_l) . k_owner + b matches the layer's own logit scale * q_l . k_l on calibration text.
///
/// Weights: each distant token counts with its full-cache probability among the distant tokens (the
/// tokens attention actually reads) plus a uniform share (so rarely-read tokens are not scored wildly):
/// the top `topTokens` by probability exactly, the uniform part estimated from `randomTokens` random ones.
/// A ridge term pulls towards the identity (s = 1, b = 0) so a head with little data stays put.
enum ClosedFormFit {
    static func fit(problem: LayerProblem, parameters p: inout [Float], itemsPerHead: Int = 512, topTokens: Int = 32,
                    randomTokens: Int = 32, ridge: Double = 1e-3, seed: UInt64) {
        let d = problem.headDim, lay = problem.layout, pairs = problem.pairs
        let dim = d + 1
        var byHead: [Int: [Int]] = [:]
        for i in 0..<problem.count { byHead[problem.item(i).head, default: []].append(i) }
        var rng = Xoshiro256StarStar(seed: seed &+ UInt64(problem.layer))
        for (head, all) in byHead.sorted(by: { $0.key < $1.key }) {
            var items = all
            if items.count > itemsPerHead {
                for i in 0..<itemsPerHead { items.swapAt(i, i + Int(rng.next() % UInt64(items.count - i))) }
                items = Array(items[0..<itemsPerHead])
            }
            var gram = [Double](repeating: 0, count: dim * dim)
            var rhs = [Double](repeating: 0, count: dim)
            var phi = [Double](repeating: 0, count: dim)
            var energy = 0.0
            for i in items {
                let (sample, row, _) = problem.item(i)
                let m = sample.positions[row]
                let far = problem.distant(m)
                let kv = head / problem.queriesPerKVHead
                let q = sample.query(layer: problem.layer, index: row, head: head, headDim: d)
                let own = sample.keys[problem.layer], owner = sample.keys[problem.ownerOf[head]]
                // Own logits over D(m) and their distant-only softmax.
                let z = far.map { VectorOps.dot(q, own.row($0) + kv * d, count: d) * problem.scale }
                let mx = z.max() ?? 0
                var sum: Float = 0
                for k in z.indices { sum += Foundation.exp(z[k] - mx) }
                let chosen = chooseTokens(logits: z, top: topTokens, random: randomTokens, rng: &rng)
                for (k, weight) in chosen {
                    let probability = Double(Foundation.exp(z[k] - mx) / sum)
                    let w = weight.isTop ? probability : weight.uniform
                    let key = owner.row(far.lowerBound + k) + kv * d
                    for j in 0..<pairs.count {
                        let a = pairs.first[j], b = pairs.second[j]
                        phi[2 * j] = Double(problem.scale * (q[a] * key[a] + q[b] * key[b]))
                        phi[2 * j + 1] = Double(problem.scale * (q[a] * key[b] - q[b] * key[a]))
                    }
                    phi[d] = 1
                    let t = Double(z[k])
                    for r in 0..<dim {
                        let wr = w * phi[r]
                        rhs[r] += wr * t
                        for c in r..<dim { gram[r * dim + c] += wr * phi[c] }
                    }
                    energy += w
                }
            }
            for r in 0..<dim { for c in 0..<r { gram[r * dim + c] = gram[c * dim + r] } }
            // Ridge towards identity: minimise ... + lambda ||theta - theta0||^2, lambda relative to the data.
            var trace = 0.0
            for r in 0..<dim { trace += gram[r * dim + r] }
            let lambda = ridge * max(trace / Double(dim), 1e-12)
            for r in 0..<dim {
                gram[r * dim + r] += lambda
                rhs[r] += lambda * (r < d && r % 2 == 0 ? 1 : 0)
            }
            guard energy > 0, let theta = LinearSolve.solve(gram, rhs, size: dim) else { continue }
            for j in 0..<d { p[lay.ownScale + head * d + j] = Float(theta[j]) }
            p[lay.bias + head] = Float(theta[d])
        }
    }

    /// Indices of the top-`top` logits (weight: their probability) and `random` uniform picks (each standing
    /// for far.count / random tokens of the uniform part). Returns (index, (isTop, uniformWeight)).
    private static func chooseTokens(logits: [Float], top: Int, random: Int, rng: inout Xoshiro256StarStar)
        -> [(Int, (isTop: Bool, uniform: Double))] {
        let n = logits.count
        guard n > 0 else { return [] }
        var result: [(Int, (isTop: Bool, uniform: Double))] = []
        let order = logits.indices.sorted { logits[$0] > logits[$1] }
        for k in order.prefix(top) { result.append((k, (true, 0))) }
        let picks = min(random, n)
        for _ in 0..<picks {
            result.append((Int(rng.next() % UInt64(n)), (false, 1.0 / Double(picks))))
        }
        return result
    }
}

/// Dense linear solve by Gaussian elimination with partial pivoting (small systems, Double).
enum LinearSolve {
    /// Solves A x = b for an n x n row-major A; nil when A is singular.
    static func solve(_ a: [Double], _ b: [Double], size n: Int) -> [Double]? {
        var m = a, x = b
        for col in 0..<n {
            var pivot = col
            for r in (col + 1)..<n where abs(m[r * n + col]) > abs(m[pivot * n + col]) { pivot = r }
            guard abs(m[pivot * n + col]) > 1e-300 else { return nil }
            if pivot != col {
                for c in 0..<n { m.swapAt(col * n + c, pivot * n + c) }
                x.swapAt(col, pivot)
            }
            let inv = 1 / m[col * n + col]
            for r in (col + 1)..<n {
                let f = m[r * n + col] * inv
                guard f != 0 else { continue }
                for c in col..<n { m[r * n + c] -= f * m[col * n + c] }
                x[r] -= f * x[col]
            }
        }
        for r in stride(from: n - 1, through: 0, by: -1) {
            var s = x[r]
            for c in (r + 1)..<n { s -= m[r * n + c] * x[c] }
            x[r] = s / m[r * n + r]
        }
        return x
    }
}
