import PodKVCache
import PodKVKernels
import PodKVModel
import XCTest

/// SnapKV against the brute-force reference of the same selection (it compresses at the prefill/decode
/// switch, so a run is compared with the reference of the same chunk plan), on a planted vote pattern,
/// across a follow-up turn, and its memory.
final class SnapKVCacheTests: XCTestCase {
    let geometry = KVGeometry(layerCount: 3, headCount: 4, kvHeadCount: 2, headDim: 16, contextLength: 512)
    let pool = ThreadPool(threadCount: 2)

    func worstRelative(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1) / max(1, abs($1.1))) }
    }

    /// Prompt, answer, follow-up prompt, answer: two compressions per layer and head.
    let plans: [[Int]] = [
        [30, 1, 1, 1, 10, 1, 1, 1],
        [7, 13, 10, 1, 1, 1, 4, 6, 1, 1, 1],
        [29, 1, 1, 1, 1, 8, 1, 1, 1, 1, 1],
    ]

    func testMatchesBruteForceOfTheSameSelection() {
        let inp = AttentionInputs(geometry: geometry, tokens: 46, seed: 31)
        for (budget, window, kernel) in [(12, 4, 1), (16, 3, 5), (9, 9, 7), (46, 4, 7)] {
            for chunks in plans {
                XCTAssertEqual(chunks.reduce(0, +), 46)
                let cache = SnapKVCache(geometry: geometry, budgets: Array(repeating: budget, count: 3), window: window, kernel: kernel)
                let outs = runPolicy(cache, inp, chunks: chunks, pool: pool)
                for l in 0..<geometry.layerCount {
                    let ref = SelectionReference.snapKV(inp, layer: l, chunks: chunks, budget: budget, window: window, kernel: kernel, type: .f16)
                    XCTAssertLessThanOrEqual(worstRelative(outs[l], ref.output), 2e-4, "budget \(budget) window \(window) kernel \(kernel) layer \(l) chunks \(chunks)")
                    for h in 0..<geometry.kvHeadCount {
                        XCTAssertEqual(cache.keptPositions(layer: l, kvHead: h), ref.kept[h], "kept, layer \(l) head \(h) chunks \(chunks)")
                    }
                }
                if budget >= 46 {
                    let full = runPolicy(FullCache(geometry: geometry), inp, chunks: chunks, pool: pool)
                    XCTAssertEqual(outs, full, "a budget covering every token is the full cache")
                    XCTAssertEqual(cache.compressions, 0)
                }
            }
        }
    }

    /// Observation queries align with four planted keys; the other prompt queries align with a decoy.
    /// The vote keeps the planted keys (and, with pooling, their neighbours), never the decoy.
    func plantedInputs() -> AttentionInputs {
        let g = KVGeometry(layerCount: 1, headCount: 2, kvHeadCount: 1, headDim: 16, contextLength: 256)
        var inp = AttentionInputs(geometry: g, tokens: 59, seed: 32, keyScale: 0.05)
        let d = 16
        let a = (0..<d).map { Float($0 % 2 == 0 ? 1 : -1) }
        let b = (0..<d).map { Float($0 < 8 ? 1 : -1) }   // orthogonal to a
        for pos in [3, 10, 17, 30] { for c in 0..<d { inp.k[0][pos * d + c] = a[c] * 3; inp.v[0][pos * d + c] = 7 } }
        for c in 0..<d { inp.k[0][25 * d + c] = b[c] * 3 }   // the decoy
        for pos in [45] { for c in 0..<d { inp.k[0][pos * d + c] = b[c] * 3 } }   // planted in the follow-up
        // Rows 36..<40 (the first observation window) and decode row 40 look for a; earlier prompt rows
        // and the follow-up's observation window 52..<56 look for b.
        for t in 0..<59 {
            let dir: [Float]? = (36...40).contains(t) ? a : t < 36 ? b : (52..<56).contains(t) ? b : nil
            guard let dir else { continue }
            for head in 0..<2 { for c in 0..<d { inp.q[0][(t * 2 + head) * d + c] = dir[c] * 3 } }
        }
        return inp
    }

    func testPlantedVotesAreKeptAndFollowUpTurnCompressesAgain() {
        let inp = plantedInputs()
        let g = inp.geometry
        let cache = SnapKVCache(geometry: g, budgets: [8], window: 4, kernel: 1)
        // Prompt 0..<40, answer 40..<43, follow-up 43..<56, answer 56.
        _ = runPolicy(cache, inp, chunks: [40, 1], pool: pool)
        XCTAssertEqual(cache.keptPositions(layer: 0, kvHead: 0), [3, 10, 17, 30, 36, 37, 38, 39, 40])
        XCTAssertEqual(cache.compressions, 1)
        let cache2 = SnapKVCache(geometry: g, budgets: [8], window: 4, kernel: 1)
        let outs = runPolicy(cache2, inp, chunks: [40, 1, 1, 1, 13, 1, 1, 1], pool: pool)
        XCTAssertEqual(cache2.compressions, 2, "the follow-up turn is compressed again")
        // Second vote (queries 52..<56 look for b): the follow-up's key 45 is kept; the decoy 25, also b,
        // was dropped by the first vote and cannot come back. Then the window 52..<56 and decode rows.
        let kept = cache2.keptPositions(layer: 0, kvHead: 0)
        XCTAssertTrue(kept.contains(45), "\(kept)")
        XCTAssertFalse(kept.contains(25), "\(kept)")
        XCTAssertEqual(Array(kept.suffix(7)), [52, 53, 54, 55, 56, 57, 58], "window kept, decode rows appended")
        XCTAssertEqual(kept.count, 8 + 3)
        // The decode row after the first vote reads the planted values (7) through the kept keys.
        let d = 16
        let row40 = outs[0][(40 * 2) * d..<(40 * 2 + 1) * d]
        XCTAssertGreaterThan(row40.reduce(0, +) / Float(d), 6.5)
    }

    func testPoolingKeepsNeighbours() {
        let inp = plantedInputs()
        let cache = SnapKVCache(geometry: inp.geometry, budgets: [16], window: 4, kernel: 3)
        _ = runPolicy(cache, inp, chunks: [40, 1], pool: pool)
        XCTAssertEqual(cache.keptPositions(layer: 0, kvHead: 0),
                       [2, 3, 4, 9, 10, 11, 16, 17, 18, 29, 30, 31, 36, 37, 38, 39, 40])
    }

    func testCompressionFreesMemoryAndChangesAttention() {
        let g = KVGeometry(layerCount: 4, headCount: 4, kvHeadCount: 2, headDim: 16, contextLength: 4096)
        let inp = AttentionInputs(geometry: g, tokens: 604, seed: 33)
        let prefilled = SnapKVCache(geometry: g, budgets: Array(repeating: 100, count: 4), window: 16)
        let full = FullCache(geometry: g)
        let rowBytes = 16 * 2
        _ = runPolicy(prefilled, inp, chunks: [256, 256, 88], pool: pool)
        XCTAssertEqual(prefilled.memoryReport().heldRows, 2 * 4 * 2 * 600, "the prompt is held in full until decoding starts")
        let chunks = [256, 256, 88, 1, 1, 1, 1]
        let outs = runPolicy(SnapKVCache(geometry: g, budgets: Array(repeating: 100, count: 4), window: 16), inp, chunks: chunks, pool: pool)
        let fullOuts = runPolicy(full, inp, chunks: chunks, pool: pool)
        let qw = g.headCount * g.headDim
        XCTAssertEqual(Array(outs[3][0..<(600 * qw)]), Array(fullOuts[3][0..<(600 * qw)]), "prefill attention is exact")
        XCTAssertGreaterThan(worstRelative(Array(outs[3][(600 * qw)...]), Array(fullOuts[3][(600 * qw)...])), 1e-3,
                             "decode rows read the compressed cache")
        let cache2 = SnapKVCache(geometry: g, budgets: Array(repeating: 100, count: 4), window: 16)
        _ = runPolicy(cache2, inp, chunks: chunks, pool: pool)
        let r = cache2.memoryReport()
        XCTAssertEqual(r.heldRows, 2 * 4 * 2 * 104)
        XCTAssertEqual(r.formulaBytes, r.heldRows * rowBytes)
        XCTAssertEqual(r.allocatedBytes, 2 * 4 * 2 * 128 * rowBytes, "kept rows moved into 128-row allocations")
        XCTAssertLessThan(r.allocatedBytes * 4, full.memoryReport().allocatedBytes)
        cache2.reset()
        XCTAssertEqual(cache2.memoryReport().allocatedBytes, 0)
    }
}
