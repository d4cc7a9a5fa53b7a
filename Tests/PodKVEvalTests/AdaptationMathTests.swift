import Foundation
import PodKV
import PodKVTestSupport
import XCTest
@testable import PodKVEval

/// The adaptation's mathematics on synthetic data: analytic gradients against central finite
/// differences for every parameter kind, and the closed-form fit recovering a known RoPE-commuting
/// transform between two layers' keys.
final class AdaptationMathTests: XCTestCase {
    let headCount = 4, kvHeads = 2, headDim = 8, inputWidth = 6, tokens = 48, sink = 3, window = 7

    func pairs(neox: Bool) -> RotaryPairs {
        RotaryPairs(headDim: headDim, ropeDim: headDim, neox: neox, frequencies: (0..<(headDim / 2)).map { 1 / pow(100, Double($0) / 4) })
    }

    /// Two layers (0 owns, 1 reads layer 0's keys) of random rotated keys/values/queries/inputs.
    func sample(seed: UInt64, keyTransform: ((Int, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void)? = nil) -> RecordedSample {
        var rng = SplitMix(seed)
        func r() -> Float { Float(Int(rng.next() % 2001) - 1000) / 1000 }
        let positions = Array(stride(from: sink + window + 1, to: tokens, by: 3))
        let kvWidth = kvHeads * headDim, qWidth = headCount * headDim
        let s = RecordedSample(tokenCount: tokens, positions: positions, layerCount: 2, kvWidth: kvWidth, queryWidth: qWidth, inputWidth: inputWidth)
        for l in 0..<2 {
            var k = (0..<(tokens * kvWidth)).map { _ in r() }
            let v = (0..<(tokens * kvWidth)).map { _ in r() }
            if l == 1, let keyTransform {
                let owner = (0..<(tokens * kvWidth)).map { i in s.keys[0].row(0)[i] }
                for row in 0..<(tokens * kvHeads) {
                    owner.withUnsafeBufferPointer { o in
                        k.withUnsafeMutableBufferPointer { kb in
                            keyTransform(row % kvHeads, o.baseAddress! + row * headDim, kb.baseAddress! + row * headDim)
                        }
                    }
                }
            }
            s.keys[l].append(k, count: tokens)
            s.values[l].append(v, count: tokens)
            for i in 0..<(positions.count * qWidth) { s.queries[l][i] = 2 * r() }
            for i in 0..<(positions.count * inputWidth) { s.inputs[l][i] = r() }
        }
        return s
    }

    func problem(_ samples: [RecordedSample], rank: Int, neox: Bool = false) -> LayerProblem {
        LayerProblem(
            layer: 1, heads: Array(0..<headCount), ownerOf: Array(repeating: 0, count: headCount), queriesPerKVHead: headCount / kvHeads,
            layout: PoDAdapterLayout(headCount: headCount, headDim: headDim, inputWidth: inputWidth, rank: rank),
            pairs: pairs(neox: neox), scale: 1 / Float(headDim).squareRoot(), sink: sink, window: window, samples: samples,
            useOwnerQuery: true, useInput: rank > 0)
    }

    func testGradientMatchesFiniteDifferences() {
        for neox in [false, true] {
            let p = problem([sample(seed: 1), sample(seed: 2)], rank: 3, neox: neox)
            XCTAssertGreaterThan(p.count, 20)
            let lay = p.layout
            var rng = SplitMix(9)
            var params = lay.identity().map { $0 + Float(Int(rng.next() % 201) - 100) / 400 }
            let items = Array(0..<p.count)
            let energy = p.targetEnergy(items)
            var gradient = [Float](repeating: 0, count: lay.count)
            _ = params.withUnsafeBufferPointer { pb in
                gradient.withUnsafeMutableBufferPointer { p.loss(parameters: pb.baseAddress!, items: items, normaliser: energy, gradient: $0.baseAddress!) }
            }
            func loss(_ q: [Float]) -> Double {
                q.withUnsafeBufferPointer { p.loss(parameters: $0.baseAddress!, items: items, normaliser: energy, gradient: nil) } / energy
            }
            // Every parameter kind: own and owner scales, biases, A and B of the low-rank term.
            let probes = [lay.ownScale, lay.ownScale + 1, lay.ownScale + 13, lay.ownerScale + 2, lay.ownerScale + 27,
                          lay.bias, lay.bias + 3, lay.down, lay.down + 7, lay.down + 17, lay.up, lay.up + 11, lay.up + 50]
            for i in probes {
                let h: Float = 2e-3
                var plus = params, minus = params
                plus[i] += h
                minus[i] -= h
                let numeric = (loss(plus) - loss(minus)) / Double(2 * h)
                XCTAssertEqual(Double(gradient[i]), numeric, accuracy: 2e-3 + 0.03 * abs(numeric), "parameter \(i) (neox \(neox))")
            }
            params[0] = params[0]
        }
    }

    func testClosedFormRecoversKnownTransform() {
        // Layer 1's keys are a fixed complex scale c_j of the owner's keys per pair (per KV head): then
        // q . (c ⊙ k_a) = (conj(c) ⊙ q) . k_a, so the fit must find s = conj(c) and bias 0.
        let pr = pairs(neox: false)
        var scales: [[(Float, Float)]] = []
        for kv in 0..<kvHeads {
            var row: [(Float, Float)] = []
            for j in 0..<pr.count {
                let re: Float = 0.5 + 0.3 * Float(j + kv)
                let im: Float = 0.4 - 0.2 * Float(j)
                row.append((re, im))
            }
            scales.append(row)
        }
        let transform: (Int, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void = { kv, src, dst in
            for j in 0..<pr.count {
                let (a, b) = scales[kv][j]
                let u = src[pr.first[j]], v = src[pr.second[j]]
                dst[pr.first[j]] = a * u - b * v
                dst[pr.second[j]] = b * u + a * v
            }
        }
        let p = problem([sample(seed: 3, keyTransform: transform), sample(seed: 4, keyTransform: transform)], rank: 0)
        var params = p.layout.identity()
        ClosedFormFit.fit(problem: p, parameters: &params, ridge: 1e-9, seed: 1)
        for head in 0..<headCount {
            let kv = head / (headCount / kvHeads)
            for j in 0..<pr.count {
                XCTAssertEqual(params[p.layout.ownScale + head * headDim + 2 * j], scales[kv][j].0, accuracy: 1e-3, "head \(head) pair \(j) re")
                XCTAssertEqual(params[p.layout.ownScale + head * headDim + 2 * j + 1], -scales[kv][j].1, accuracy: 1e-3, "head \(head) pair \(j) im")
            }
            XCTAssertEqual(params[p.layout.bias + head], 0, accuracy: 1e-3)
        }
        // And the fitted adapter reproduces the full attention: loss ~ 0.
        let items = Array(0..<p.count)
        let l = params.withUnsafeBufferPointer { p.loss(parameters: $0.baseAddress!, items: items, normaliser: p.targetEnergy(items), gradient: nil) }
        XCTAssertLessThan(l / p.targetEnergy(items), 1e-6)
    }

    func testIdentityStartEqualsOwnModeTarget() {
        // With layer 1's keys equal to the owner's, the identity adapter is exact (loss 0).
        let same = problem([sample(seed: 5, keyTransform: { _, src, dst in dst.update(from: src, count: 8) })], rank: 2)
        let items = Array(0..<same.count)
        let l = same.layout.identity().withUnsafeBufferPointer {
            same.loss(parameters: $0.baseAddress!, items: items, normaliser: same.targetEnergy(items), gradient: nil)
        }
        XCTAssertLessThan(l, 1e-8)
    }
}
