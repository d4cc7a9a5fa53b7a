import PodKVCache
import PodKVKernels
import PodKVModel
import XCTest

/// Each policy's cached attention against the brute-force masks of `BruteForce`, fed in chunks of
/// varying sizes (prefill) and single rows (decode), across sink/window boundaries.
final class PolicyAttentionTests: XCTestCase {
    let geometry = KVGeometry(layerCount: 5, headCount: 4, kvHeadCount: 2, headDim: 16, contextLength: 512)
    let pool = ThreadPool(threadCount: 2)
    let fingerprint = ModelFingerprint(architecture: "llama", layerCount: 5, headCount: 4, kvHeadCount: 2, headDim: 16, digest: "")

    /// Runs the policy over `inputs` in the given chunk sizes; returns [layer] of (T, qDim) outputs.
    func run(_ cache: KVCachePolicy, _ inp: AttentionInputs, chunks: [Int]) -> [[Float]] {
        XCTAssertEqual(chunks.reduce(0, +), inp.tokens, "chunks must cover every token")
        return runPolicy(cache, inp, chunks: chunks, pool: pool)
    }

    func assertClose(_ a: [Float], _ b: [Float], tol: Float = 2e-4, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, message, file: file, line: line)
        var worst: Float = 0
        for i in 0..<min(a.count, b.count) { worst = max(worst, abs(a[i] - b[i]) / max(1, abs(b[i]))) }
        XCTAssertLessThanOrEqual(worst, tol, "\(message): worst relative error \(worst)", file: file, line: line)
    }

    /// Prefill chunks that straddle the window edge, then decode rows.
    let chunkPlans: [[Int]] = [[40, 1, 1, 1, 1, 1], [7, 13, 1, 19, 1, 1, 1, 1, 1], [1] + Array(repeating: 1, count: 44)]

    func testFullMatchesBruteForce() {
        let inp = AttentionInputs(geometry: geometry, tokens: 45, seed: 1)
        for type in KVElementType.allCases {
            for chunks in chunkPlans {
                let outs = run(FullCache(geometry: geometry, elementType: type), inp, chunks: chunks)
                for l in 0..<geometry.layerCount {
                    assertClose(outs[l], BruteForce.attention(inp, layer: l, mode: .full, type: type), "full \(type) layer \(l) chunks \(chunks)")
                }
            }
        }
    }

    func testStreamingLLMAndWindowMatchBruteForce() {
        let inp = AttentionInputs(geometry: geometry, tokens: 45, seed: 2)
        for (sink, window) in [(4, 8), (0, 5), (3, 1), (16, 64)] {
            for chunks in chunkPlans {
                let cache = StreamingLLMCache(geometry: geometry, sink: sink, window: window)
                let outs = run(cache, inp, chunks: chunks)
                for l in 0..<geometry.layerCount {
                    assertClose(outs[l], BruteForce.attention(inp, layer: l, mode: .proximalOnly(sink: sink, window: window), type: .f16),
                                "streaming sink \(sink) window \(window) layer \(l) chunks \(chunks)")
                }
                let held = min(45, sink + window)
                XCTAssertEqual(cache.memoryReport().heldRows, 2 * geometry.layerCount * geometry.kvHeadCount * held)
            }
        }
    }

    func irregularPlan() -> PoDPlan {
        PoDPlan(model: fingerprint, owners: [[0, 0, 0, 3, 3], [0, 1, 1, 1, 4]])
    }

    func testPoDMatchesBruteForceBothModes() throws {
        let inp = AttentionInputs(geometry: geometry, tokens: 45, seed: 3)
        let plans = [try PoDPlan.uniform(groupSize: 2, model: fingerprint), irregularPlan()]
        for plan in plans {
            for mode in PoDDistantQuery.allCases {
                for (sink, window) in [(4, 8), (0, 6), (2, 1)] {
                    for chunks in chunkPlans {
                        let cache = PoDCache(geometry: geometry, plan: plan, sink: sink, window: window, distantQuery: mode)
                        let outs = run(cache, inp, chunks: chunks)
                        for l in 0..<geometry.layerCount {
                            let ref = BruteForce.attention(
                                inp, layer: l, mode: .pod(plan: plan, sink: sink, window: window, ownerQuery: mode == .owner, skip: nil), type: .f16)
                            assertClose(outs[l], ref, "pod \(mode) \(plan.owners) sink \(sink) window \(window) layer \(l) chunks \(chunks)")
                        }
                    }
                }
            }
        }
    }

    func testPoDSkipThresholdMatchesBruteForce() {
        let inp = AttentionInputs(geometry: geometry, tokens: 45, seed: 4)
        let plan = irregularPlan()
        for tau: Float in [0.3, 0.7, 1.0] {
            let cache = PoDCache(geometry: geometry, plan: plan, sink: 2, window: 6, distantQuery: .owner, skipThreshold: tau)
            let outs = run(cache, inp, chunks: [20, 1, 1, 23])
            for l in 0..<geometry.layerCount {
                let ref = BruteForce.attention(inp, layer: l, mode: .pod(plan: plan, sink: 2, window: 6, ownerQuery: true, skip: tau), type: .f16)
                assertClose(outs[l], ref, "skip tau \(tau) layer \(l)")
            }
            XCTAssertGreaterThan(cache.distantSkipped + cache.distantComputed, 0)
            if tau == 0.3 { XCTAssertGreaterThan(cache.distantSkipped, 0, "a low threshold must skip some distant parts") }
        }
    }

    func testPoDGroupSizeOneIsFullExactly() throws {
        let inp = AttentionInputs(geometry: geometry, tokens: 45, seed: 5)
        let pod = PoDCache(geometry: geometry, plan: try .uniform(groupSize: 1, model: fingerprint), sink: 2, window: 4)
        let full = FullCache(geometry: geometry)
        let a = run(pod, inp, chunks: [30, 1, 14])
        let b = run(full, inp, chunks: [30, 1, 14])
        XCTAssertEqual(a, b, "group size 1 must be bit-identical to the full cache")
        XCTAssertEqual(pod.memoryReport().formulaBytes, full.memoryReport().formulaBytes)
    }

    func testPlantedDistantKeyIsReadThroughOwnerKeys() throws {
        // A non-owner layer whose own key at the planted position is noise still attends to it in the
        // distant region, because it reads the owner's key there (owner mode and own mode alike).
        let g = KVGeometry(layerCount: 2, headCount: 1, kvHeadCount: 1, headDim: 16, contextLength: 256)
        let fp = ModelFingerprint(architecture: "llama", layerCount: 2, headCount: 1, kvHeadCount: 1, headDim: 16, digest: "")
        var inp = AttentionInputs(geometry: g, tokens: 64, seed: 6, keyScale: 0.05)
        let planted = 20, d = 16
        let direction = (0..<d).map { Float($0 % 2 == 0 ? 1 : -1) }
        for c in 0..<d {
            inp.k[0][planted * d + c] = direction[c] * 3   // owner's key at the planted position
            inp.v[1][planted * d + c] = 7                  // layer 1's value there: easy to spot
        }
        for t in 0..<64 { for c in 0..<d { inp.q[0][t * d + c] = direction[c] * 3; inp.q[1][t * d + c] = direction[c] * 3 } }
        for mode in PoDDistantQuery.allCases {
            let cache = PoDCache(geometry: g, plan: try .uniform(groupSize: 2, model: fp), sink: 4, window: 8, distantQuery: mode)
            let outs = run(cache, inp, chunks: [60, 1, 1, 1, 1])
            let last = outs[1][63 * d..<64 * d]
            XCTAssertGreaterThan(last.reduce(0, +) / Float(d), 6, "\(mode): layer 1 must read the planted value via the owner's key")
            let stream = StreamingLLMCache(geometry: g, sink: 4, window: 8)
            let sOuts = run(stream, inp, chunks: [60, 1, 1, 1, 1])
            XCTAssertLessThan(sOuts[1][63 * d..<64 * d].reduce(0, +) / Float(d), 1, "streaming-llm has dropped the planted token")
        }
    }

    func testPoDMemoryShrinksAndMatchesFormula() throws {
        let g = KVGeometry(layerCount: 6, headCount: 4, kvHeadCount: 2, headDim: 16, contextLength: 4096)
        let fp = ModelFingerprint(architecture: "llama", layerCount: 6, headCount: 4, kvHeadCount: 2, headDim: 16, digest: "")
        let inp = AttentionInputs(geometry: g, tokens: 600, seed: 7)
        let pod = PoDCache(geometry: g, plan: try .uniform(groupSize: 3, model: fp), sink: 16, window: 64)
        _ = run(pod, inp, chunks: [256, 256, 88])
        let r = pod.memoryReport()
        let rowBytes = 16 * 2
        // Formula (POD.md §6): values L*H*n, keys per head B*n + (L-B)*min(n, ns+nr), B = 2 blocks.
        let expectedRows = 6 * 2 * 600 + 2 * (2 * 600 + 4 * 80)
        XCTAssertEqual(r.formulaBytes, expectedRows * rowBytes)
        XCTAssertEqual(r.heldRows, expectedRows, "rows actually held equal the formula's rows")
        XCTAssertGreaterThanOrEqual(r.allocatedBytes, r.formulaBytes)
        // Allocation slack is under one 64-row page per storage (L * H * 2 storages).
        XCTAssertLessThan(r.allocatedBytes - r.formulaBytes, 6 * 2 * 2 * 64 * rowBytes)
        XCTAssertLessThan(r.allocatedBytes, r.fullCacheBytes, "storage must really shrink")
        XCTAssertEqual(r.saving, 1 - Double(expectedRows) / Double(2 * 6 * 2 * 600), accuracy: 1e-12)
    }
}
