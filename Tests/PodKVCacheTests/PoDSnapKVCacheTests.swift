import PodKVCache
import PodKVKernels
import PodKVModel
import XCTest

/// PoD + SnapKV against the brute-force reference of the same selection and PoD masks, a planted pattern,
/// and memory: both savings multiplied.
final class PoDSnapKVCacheTests: XCTestCase {
    let geometry = KVGeometry(layerCount: 5, headCount: 4, kvHeadCount: 2, headDim: 16, contextLength: 512)
    let fingerprint = ModelFingerprint(architecture: "llama", layerCount: 5, headCount: 4, kvHeadCount: 2, headDim: 16, digest: "")
    let pool = ThreadPool(threadCount: 2)

    func worstRelative(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1) / max(1, abs($1.1))) }
    }

    func testMatchesBruteForceBothModes() throws {
        let inp = AttentionInputs(geometry: geometry, tokens: 46, seed: 51)
        let plans = [try PoDPlan.uniform(groupSize: 2, model: fingerprint), PoDPlan(model: fingerprint, owners: [[0, 0, 0, 3, 3], [0, 1, 1, 1, 4]])]
        let chunkPlans = [[30, 1, 1, 1, 10, 1, 1, 1], [7, 13, 10, 1, 1, 1, 4, 6, 1, 1, 1]]
        for plan in plans {
            for mode in PoDDistantQuery.allCases {
                for (budget, sink, window, obs, kernel) in [(14, 2, 4, 3, 1), (12, 0, 6, 4, 3), (9, 3, 1, 2, 5)] {
                    for chunks in chunkPlans {
                        let cache = PoDSnapKVCache(geometry: geometry, plan: plan, budget: budget, sink: sink, window: window,
                                                   observation: obs, kernel: kernel, distantQuery: mode)
                        let outs = runPolicy(cache, inp, chunks: chunks, pool: pool)
                        XCTAssertGreaterThan(cache.compressions, 0)
                        for l in 0..<geometry.layerCount {
                            let ref = SelectionReference.podSnapKV(
                                inp, layer: l, chunks: chunks, plan: plan, budget: budget, sink: sink, window: window,
                                observation: obs, kernel: kernel, ownerQuery: mode == .owner, type: .f16)
                            let what = "\(plan.owners) \(mode) budget \(budget) sink \(sink) window \(window) layer \(l) chunks \(chunks)"
                            XCTAssertLessThanOrEqual(worstRelative(outs[l], ref.output), 2e-4, what)
                            for h in 0..<geometry.kvHeadCount {
                                XCTAssertEqual(cache.keptPositions(layer: l, kvHead: h), ref.kept[h], what)
                            }
                        }
                    }
                }
            }
        }
    }

    func testMemoryIsBothSavingsMultiplied() throws {
        let g = KVGeometry(layerCount: 6, headCount: 4, kvHeadCount: 2, headDim: 16, contextLength: 4096)
        let fp = ModelFingerprint(architecture: "llama", layerCount: 6, headCount: 4, kvHeadCount: 2, headDim: 16, digest: "")
        let inp = AttentionInputs(geometry: g, tokens: 804, seed: 52)
        let plan = try PoDPlan.uniform(groupSize: 3, model: fp)
        let cache = PoDSnapKVCache(geometry: g, plan: plan, budget: 200, sink: 8, window: 56, observation: 16)
        _ = runPolicy(cache, inp, chunks: [256, 256, 288, 1, 1, 1, 1], pool: pool)
        let r = cache.memoryReport()
        let rowBytes = 16 * 2
        // After the vote each layer/head holds 8 + 136 + 55 rows, then 4 decode rows: 203 values; keys 203
        // in the 2 owner layers, 64 (sink + window ring) in the 4 others.
        let values = 6 * 2 * 203, keys = 2 * (2 * 203 + 4 * 64)
        XCTAssertEqual(r.heldRows, values + keys)
        XCTAssertEqual(r.formulaBytes, r.heldRows * rowBytes)
        XCTAssertLessThan(r.allocatedBytes - r.formulaBytes, 6 * 2 * 2 * 64 * rowBytes)
        let snapOnly = 2 * 6 * 2 * 203
        XCTAssertLessThan(r.heldRows, snapOnly, "PoD's key sharing saves on top of the selection")
        XCTAssertEqual(1 - Double(r.heldRows) / Double(2 * 6 * 2 * 804), r.saving, accuracy: 1e-9)
        cache.reset()
        XCTAssertEqual(cache.memoryReport().allocatedBytes, 0)
    }
}
