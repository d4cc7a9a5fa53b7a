import PodKV
import PodKVCache
import PodKVKernels
import PodKVModel
import PodKVTestSupport
import XCTest
@testable import PodKVEval

/// The recording policy: exact attention (equal to `full`) and correct distant-region distributions.
final class CalibrationRecorderTests: XCTestCase {
    let geometry = KVGeometry(layerCount: 3, headCount: 4, kvHeadCount: 2, headDim: 8, contextLength: 256)
    let pool = ThreadPool(threadCount: 2)

    /// Random (count, width) rows.
    func randomRows(_ count: Int, _ width: Int, _ rng: inout SplitMix) -> [Float] {
        (0..<(count * width)).map { _ in rng.float() * 2 }
    }

    /// Feeds the same random chunks (a prefill chunk, then single decode rows) to both policies,
    /// every layer, and returns the max |difference| of the attention outputs.
    func maxOutputDifference(_ a: KVCachePolicy, _ b: KVCachePolicy, chunks: [Int]) -> Float {
        var rng = SplitMix(7)
        let g = geometry
        let qDim = g.headCount * g.headDim, kvDim = g.kvHeadCount * g.headDim
        var worst: Float = 0
        var start = 0
        for n in chunks {
            for layer in 0..<g.layerCount {
                let q = randomRows(n, qDim, &rng), k = randomRows(n, kvDim, &rng), v = randomRows(n, kvDim, &rng)
                var outA = [Float](repeating: .nan, count: n * qDim), outB = outA
                q.withUnsafeBufferPointer { qb in k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in
                    outA.withUnsafeMutableBufferPointer { oa in
                        a.attend(layer: layer, rows: AttentionRows(queries: qb.baseAddress!, keys: kb.baseAddress!, values: vb.baseAddress!,
                                                                   output: oa.baseAddress!, count: n, startPosition: start), pool: pool)
                    }
                    outB.withUnsafeMutableBufferPointer { ob in
                        b.attend(layer: layer, rows: AttentionRows(queries: qb.baseAddress!, keys: kb.baseAddress!, values: vb.baseAddress!,
                                                                   output: ob.baseAddress!, count: n, startPosition: start), pool: pool)
                    }
                }}}
                for i in outA.indices { worst = max(worst, abs(outA[i] - outB[i])) }
            }
            a.advance(by: n)
            b.advance(by: n)
            start += n
        }
        return worst
    }

    func testAttentionOutputEqualsFullPolicy() throws {
        let recorder = try AttentionRecorder(geometry: geometry, sink: 2, window: 8, scoredPositions: 20..<60)
        var records = 0
        recorder.onRecord = { _ in records += 1 }
        let full = FullCache(geometry: geometry, elementType: .f32)
        let diff = maxOutputDifference(recorder, full, chunks: [40, 17, 1, 1, 1])
        XCTAssertLessThan(diff, 1e-5)
        XCTAssertEqual(recorder.tokenCount, 60)
        XCTAssertEqual(records, 40, "every scored position with distant tokens is recorded once")
        let report = recorder.memoryReport()
        XCTAssertEqual(report.formulaBytes, full.memoryReport().formulaBytes)
        XCTAssertGreaterThanOrEqual(report.allocatedBytes, report.formulaBytes)
    }

    func testModelLogitsEqualFullPolicy() throws {
        let path = try TinyModel.file(seed: 3)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let model = try LanguageModel(path: path, threads: 2, batchSize: 16)
        let tokens = (0..<70).map { ($0 * 37 + 11) % 256 }
        let recorder = try AttentionRecorder(geometry: KVGeometry(model.config), sink: 4, window: 16, scoredPositions: 40..<70)
        let a = try model.makeTransformer().forward(tokens, cache: recorder, logits: .all)
        let b = try model.makeTransformer().forward(tokens, cache: try model.makeCache(PolicySpec(parsing: "full:kv-type=f32")), logits: .all)
        XCTAssertEqual(a.count, b.count)
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThan(worst, 1e-3)
    }

    func testRecordedDistributionsMatchADirectComputation() throws {
        // One layer, 2 query heads over 1 KV head: the record is the mean of the two heads' softmax over D(t).
        let g = KVGeometry(layerCount: 1, headCount: 2, kvHeadCount: 1, headDim: 4, contextLength: 64)
        let sink = 3, window = 5, n = 20
        let recorder = try AttentionRecorder(geometry: g, sink: sink, window: window, scoredPositions: 18..<20)
        var records: [DistantAttention] = []
        recorder.onRecord = { records.append($0) }
        var rng = SplitMix(5)
        let q = randomRows(n, 8, &rng), k = randomRows(n, 4, &rng), v = randomRows(n, 4, &rng)
        var out = [Float](repeating: 0, count: n * 8)
        q.withUnsafeBufferPointer { qb in k.withUnsafeBufferPointer { kb in v.withUnsafeBufferPointer { vb in
            out.withUnsafeMutableBufferPointer { ob in
                recorder.attend(layer: 0, rows: AttentionRows(queries: qb.baseAddress!, keys: kb.baseAddress!, values: vb.baseAddress!,
                                                              output: ob.baseAddress!, count: n, startPosition: 0), pool: pool)
            }
        }}}
        XCTAssertTrue(records.isEmpty, "records wait until the chunk went through every layer")
        recorder.advance(by: n)
        XCTAssertEqual(records.map(\.position), [18, 19])
        for r in records {
            // D(t) = [sink, t - window].
            XCTAssertEqual(r.distant, sink..<(r.position - window + 1))
            var expected = [Double](repeating: 0, count: r.distant.count)
            for head in 0..<2 {
                let logits = r.distant.map { j in (0..<4).reduce(0.0) { $0 + Double(q[r.position * 8 + head * 4 + $1]) * Double(k[j * 4 + $1]) } / 2 }
                let m = logits.max()!
                let z = logits.reduce(0) { $0 + Foundation.exp($1 - m) }
                for (i, s) in logits.enumerated() { expected[i] += Foundation.exp(s - m) / z / 2 }
            }
            let got = r.distribution(layer: 0, kvHead: 0)
            XCTAssertEqual(Double(got.reduce(0, +)), 1, accuracy: 1e-5)
            for (e, x) in zip(expected, got) { XCTAssertEqual(Double(x), e, accuracy: 1e-5) }
        }
    }

    func testRejectsBadSettings() {
        XCTAssertThrowsError(try AttentionRecorder(geometry: geometry, sink: -1, window: 8))
        XCTAssertThrowsError(try AttentionRecorder(geometry: geometry, sink: 0, window: 0))
        XCTAssertThrowsError(try DistantAttention(position: 3, distant: 2..<2, layerCount: 1, kvHeadCount: 1, probabilities: []))
        XCTAssertThrowsError(try DistantAttention(position: 9, distant: 2..<4, layerCount: 2, kvHeadCount: 1, probabilities: [1, 0]))
    }
}
