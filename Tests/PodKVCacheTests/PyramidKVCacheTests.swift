import PodKVCache
import PodKVKernels
import PodKVModel
import XCTest

/// PyramidKV: the budget schedule, and SnapKV selection per layer with those budgets.
final class PyramidKVCacheTests: XCTestCase {
    let pool = ThreadPool(threadCount: 2)

    func testBudgetsDecreaseLinearlyWithTheSameTotal() {
        for (L, budget, window, beta) in [(24, 1024, 32, 20), (30, 256, 8, 20), (5, 20, 4, 3), (7, 100, 10, 1), (1, 50, 5, 20)] {
            let b = PyramidKVCache.budgets(layerCount: L, budget: budget, window: window, beta: beta)
            XCTAssertEqual(b.count, L)
            XCTAssertEqual(b.reduce(0, +), L * budget, "same total as snapkv at budget \(budget)")
            XCTAssertTrue(b.allSatisfy { $0 >= window }, "\(b)")
            XCTAssertEqual(b, b.sorted(by: >), "non-increasing with depth: \(b)")
            if beta == 1 { XCTAssertEqual(Set(b), [budget], "beta 1 is uniform") }
        }
        let q = PyramidKVCache.budgets(layerCount: 24, budget: 1024, window: 32, beta: 20)
        // Selected part S = 992: bottom about 2S - S/20 = 1934 (+32), top about S/20 = 49 (+32).
        XCTAssertEqual(q.first!, 1934 + 32, accuracy: 1)
        XCTAssertEqual(q.last!, 49 + 32, accuracy: 1)
    }

    func testEachLayerMatchesSnapKVReferenceAtItsBudget() {
        let g = KVGeometry(layerCount: 4, headCount: 4, kvHeadCount: 2, headDim: 16, contextLength: 512)
        let inp = AttentionInputs(geometry: g, tokens: 46, seed: 41)
        let budgets = PyramidKVCache.budgets(layerCount: 4, budget: 14, window: 4, beta: 5)
        let chunks = [30, 1, 1, 1, 10, 1, 1, 1]
        let cache = try! KVPolicyRegistry.make(
            PolicySpec(parsing: "pyramidkv:budget=14,window=4,beta=5,kernel=3"), geometry: g,
            context: PolicyContext(model: ModelFingerprint(architecture: "llama", layerCount: 4, headCount: 4, kvHeadCount: 2, headDim: 16, digest: "")))
        let snap = cache as! SnapKVCache
        XCTAssertEqual(snap.budgets, budgets)
        let outs = runPolicy(cache, inp, chunks: chunks, pool: pool)
        for l in 0..<4 {
            let ref = SelectionReference.snapKV(inp, layer: l, chunks: chunks, budget: budgets[l], window: 4, kernel: 3, type: .f16)
            let worst = zip(outs[l], ref.output).reduce(Float(0)) { max($0, abs($1.0 - $1.1) / max(1, abs($1.1))) }
            XCTAssertLessThanOrEqual(worst, 2e-4, "layer \(l) budget \(budgets[l])")
            XCTAssertEqual(snap.keptPositions(layer: l, kvHead: 1), ref.kept[1])
            // Held after the second vote: the layer's budget plus three decoded rows.
            XCTAssertEqual(snap.keptPositions(layer: l, kvHead: 0).count, min(budgets[l], 43) + 3)
        }
    }
}
