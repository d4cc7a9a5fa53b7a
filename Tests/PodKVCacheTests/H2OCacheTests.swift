import PodKVCache
import PodKVKernels
import PodKVModel
import XCTest

/// H2O against the brute-force reference, on a planted heavy-hitter pattern, and its memory.
final class H2OCacheTests: XCTestCase {
    let geometry = KVGeometry(layerCount: 3, headCount: 4, kvHeadCount: 2, headDim: 16, contextLength: 512)
    let pool = ThreadPool(threadCount: 2)

    func worstRelative(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1) / max(1, abs($1.1))) }
    }

    func testMatchesBruteForceForEveryChunking() {
        let inp = AttentionInputs(geometry: geometry, tokens: 45, seed: 21)
        for (budget, sink, window) in [(12, 0, 4), (10, 2, 3), (6, 1, 5), (45, 0, 8)] {
            let refs = (0..<geometry.layerCount).map {
                SelectionReference.h2o(inp, layer: $0, budget: budget, sink: sink, window: window, type: .f16)
            }
            for chunks in [[45], [7, 13, 1, 19, 1, 1, 1, 1, 1], Array(repeating: 1, count: 45)] {
                let cache = H2OCache(geometry: geometry, budget: budget, sink: sink, window: window)
                let outs = runPolicy(cache, inp, chunks: chunks, pool: pool)
                for l in 0..<geometry.layerCount {
                    XCTAssertLessThanOrEqual(worstRelative(outs[l], refs[l].output), 2e-4, "budget \(budget) sink \(sink) window \(window) layer \(l) chunks \(chunks)")
                    for h in 0..<geometry.kvHeadCount {
                        XCTAssertEqual(cache.keptPositions(layer: l, kvHead: h), refs[l].kept[h], "kept set, layer \(l) head \(h)")
                    }
                }
                XCTAssertEqual(cache.evictions, budget >= 45 ? 0 : (45 - budget) * geometry.layerCount * geometry.kvHeadCount)
            }
        }
    }

    /// Four planted keys that every query aligns with take nearly all attention: they are the heavy
    /// hitters, so after 40 tokens the cache holds exactly them plus the recent window.
    func testPlantedHeavyHittersAreKept() {
        let g = KVGeometry(layerCount: 1, headCount: 2, kvHeadCount: 1, headDim: 16, contextLength: 256)
        var inp = AttentionInputs(geometry: g, tokens: 40, seed: 22, keyScale: 0.05)
        let planted = [2, 5, 9, 20], d = 16
        let direction = (0..<d).map { Float($0 % 2 == 0 ? 1 : -1) }
        for pos in planted {
            for c in 0..<d {
                inp.k[0][pos * d + c] = direction[c] * 3
                inp.v[0][pos * d + c] = 7
            }
        }
        for t in 0..<40 { for head in 0..<2 { for c in 0..<d { inp.q[0][(t * 2 + head) * d + c] = direction[c] * 3 } } }
        let cache = H2OCache(geometry: g, budget: 12, sink: 0, window: 8)
        let outs = runPolicy(cache, inp, chunks: [25, 1, 14], pool: pool)
        XCTAssertEqual(cache.keptPositions(layer: 0, kvHead: 0), planted + Array(32..<40))
        // The last row reads the planted values (7) through the kept heavy hitters.
        let last = outs[0][(39 * 2) * d..<(39 * 2 + 1) * d]
        XCTAssertGreaterThan(last.reduce(0, +) / Float(d), 6.5)
        // Evicting changes what attention reads: a random pattern differs from full attention.
        let random = AttentionInputs(geometry: g, tokens: 40, seed: 23)
        let h2o = runPolicy(H2OCache(geometry: g, budget: 12, sink: 0, window: 8), random, chunks: [40], pool: pool)
        let full = runPolicy(FullCache(geometry: g), random, chunks: [40], pool: pool)
        XCTAssertGreaterThan(worstRelative(h2o[0], full[0]), 1e-2)
    }

    func testMemoryIsBoundedByBudget() {
        let g = KVGeometry(layerCount: 4, headCount: 4, kvHeadCount: 2, headDim: 16, contextLength: 4096)
        let inp = AttentionInputs(geometry: g, tokens: 600, seed: 24)
        let cache = H2OCache(geometry: g, budget: 100, sink: 4, window: 32)
        let full = FullCache(geometry: g)
        _ = runPolicy(cache, inp, chunks: [256, 256, 88], pool: pool)
        _ = runPolicy(full, inp, chunks: [600], pool: pool)
        let r = cache.memoryReport()
        let rowBytes = 16 * 2
        XCTAssertEqual(r.heldRows, 2 * 4 * 2 * 100)
        XCTAssertEqual(r.formulaBytes, r.heldRows * rowBytes)
        // Storage grows in 64-row steps: 128 rows for a budget of 100.
        XCTAssertEqual(r.allocatedBytes, 2 * 4 * 2 * 128 * rowBytes)
        XCTAssertLessThan(r.allocatedBytes * 4, full.memoryReport().allocatedBytes, "bytes really shrink")
        cache.reset()
        XCTAssertEqual(cache.memoryReport().allocatedBytes, 0)
        XCTAssertEqual(cache.tokenCount, 0)
    }
}
