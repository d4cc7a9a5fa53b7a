import Foundation
import PodKV
import PodKVCache
import PodKVKernels
import PodKVModel
import PodKVTestSupport
import XCTest

/// The forward pass against `shared/golden/logits-*.json`: an independent numpy fp32 forward pass with
/// every weight dequantized to fp32.
///
/// Tolerance: PodKV keeps fp32 activations and dequantizes weights exactly, so the only systematic
/// difference is the KV cache: with `kv-type f32` logits agree to ~1e-3 (summation order only); with the
/// default f16 cache, keys/values are rounded to 11 significant bits, which moves logits by up to a few
/// hundredths. We assert |Δ| <= 0.02 (f32 cache) and <= 0.1 (f16 cache) on each reference top-10 logit and
/// on the log-sum-exp, and top-1 agreement wherever the reference top-2 gap is above 0.3.
final class GoldenLogitsTests: XCTestCase {
    struct Golden: Decodable {
        struct Case: Decodable {
            struct Position: Decodable {
                var top_ids: [Int]
                var top_logits: [Float]
                var logsumexp: Float
            }
            var prompt: String
            var ids: [Int]
            var positions: [Position]
        }
        var model: String
        var cases: [Case]
    }

    func check(model name: String, golden file: String, batchSize: Int) throws {
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: TestData.golden(file)))
        let model = try LanguageModel(path: try TestData.modelPath(name), threads: 2, batchSize: batchSize)
        for kvType in KVElementType.allCases {
            let tol: Float = kvType == .f32 ? 0.02 : 0.1
            var worst: Float = 0
            var checkedTop1 = 0
            for c in golden.cases {
                let cache = try model.makeCache(PolicySpec(name: "full", options: [("kv-type", kvType.rawValue)]))
                let t = model.makeTransformer()
                t.decodeUsesInt8 = false  // exact kernels; the int8 decode path has its own test below
                let logits = try t.forward(c.ids, cache: cache, logits: .all)
                let V = model.config.vocabSize
                XCTAssertEqual(c.positions.count, c.ids.count)
                for (t, pos) in c.positions.enumerated() {
                    let row = Array(logits[t * V..<(t + 1) * V])
                    for (id, ref) in zip(pos.top_ids, pos.top_logits) { worst = max(worst, abs(row[id] - ref)) }
                    let m = row.max()!
                    let lse = m + log(row.reduce(0) { $0 + exp($1 - m) })
                    worst = max(worst, abs(lse - pos.logsumexp))
                    if pos.top_logits[0] - pos.top_logits[1] > 0.3 {
                        let argmax = row.indices.max { row[$0] < row[$1] }!
                        XCTAssertEqual(argmax, pos.top_ids[0], "\(name) '\(c.prompt.prefix(30))' position \(t): top-1 differs")
                        checkedTop1 += 1
                    }
                }
            }
            print("golden \(name) kv \(kvType) batch \(batchSize): worst |Δlogit| = \(worst), top-1 checked at \(checkedTop1) positions")
            XCTAssertLessThanOrEqual(worst, tol, "\(name) kv \(kvType): worst logit difference \(worst)")
        }
    }

    /// Accuracy limits of a decode path: the median, 95th percentile and worst per-position error (the
    /// largest |Δ| over the reference top-10 logits), and the share of top-1 flips allowed among positions
    /// whose reference top-2 gap exceeds 0.3.
    struct DecodeLimits {
        var median: Float, p95: Float, worst: Float, flipShare: Double
    }

    /// The decode path: one token per forward pass through the integer matrix-vector kernels.
    ///
    /// `.fine` (default): 15-bit activations on the interleaved weights. Measured: SmolLM2 median 0.004,
    /// p95 0.009, worst 0.02 (as exact as the fp32 path, whose f16 KV cache alone moves logits by ~0.03);
    /// Qwen 0.03 / 0.07 / 0.19 (its q6_K down projections have no interleaved layout and keep 8-bit
    /// activations). `.int8` (llama.cpp's precision everywhere but the output projection): SmolLM2 0.21 /
    /// 0.5 / 1.3-1.8 (its activations have outliers that dominate a 32-value block), Qwen 0.07 / 0.13 /
    /// 0.5; near-ties flip (2 of 302 SmolLM2 positions with a gap above 0.3 in one run, depending on
    /// rounding order), so that path is held to 2% flips.
    func checkDecodePath(model name: String, golden file: String, precision: MatMul.ActivationPrecision, limits: DecodeLimits) throws {
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: TestData.golden(file)))
        let model = try LanguageModel(path: try TestData.modelPath(name), threads: 2, batchSize: 1)
        var errors: [Float] = []
        var flips = 0, checked = 0
        for c in golden.cases {
            let cache = try model.makeCache()
            let t = model.makeTransformer()
            t.decodePrecision = precision
            for (p, id) in c.ids.enumerated() {
                let row = try t.forward([id], cache: cache, logits: .last)
                let pos = c.positions[p]
                errors.append(zip(pos.top_ids, pos.top_logits).reduce(Float(0)) { max($0, abs(row[$1.0] - $1.1)) })
                if pos.top_logits[0] - pos.top_logits[1] > 0.3 {
                    checked += 1
                    if row.indices.max(by: { row[$0] < row[$1] }) != pos.top_ids[0] { flips += 1 }
                }
            }
        }
        errors.sort()
        let median = errors[errors.count / 2], p95 = errors[errors.count * 95 / 100], worst = errors.last!
        print("golden \(name) \(precision) decode path: |Δlogit| median \(median), p95 \(p95), worst \(worst); top-1 flips \(flips) of \(checked)")
        XCTAssertLessThanOrEqual(median, limits.median)
        XCTAssertLessThanOrEqual(p95, limits.p95)
        XCTAssertLessThanOrEqual(worst, limits.worst)
        XCTAssertLessThanOrEqual(Double(flips), limits.flipShare * Double(checked))
    }

    func testSmolLM2DecodePath() throws {
        try checkDecodePath(model: "smollm2-135m", golden: "logits-smollm2-135m-instruct-q4_1.json", precision: .fine,
                            limits: DecodeLimits(median: 0.02, p95: 0.05, worst: 0.1, flipShare: 0))
    }

    func testQwen25DecodePath() throws {
        try checkDecodePath(model: "qwen2.5-coder-0.5b", golden: "logits-qwen2.5-coder-0.5b-instruct.json", precision: .fine,
                            limits: DecodeLimits(median: 0.1, p95: 0.2, worst: 0.5, flipShare: 0))
    }

    func testSmolLM2Int8DecodePath() throws {
        try checkDecodePath(model: "smollm2-135m", golden: "logits-smollm2-135m-instruct-q4_1.json", precision: .int8,
                            limits: DecodeLimits(median: 0.4, p95: 1.5, worst: 3, flipShare: 0.02))
    }

    func testSmolLM2Batched() throws {
        try check(model: "smollm2-135m", golden: "logits-smollm2-135m-instruct-q4_1.json", batchSize: 64)
    }

    func testSmolLM2OneTokenPerBatch() throws {
        try check(model: "smollm2-135m", golden: "logits-smollm2-135m-instruct-q4_1.json", batchSize: 1)
    }

    func testQwen25Batched() throws {
        try check(model: "qwen2.5-coder-0.5b", golden: "logits-qwen2.5-coder-0.5b-instruct.json", batchSize: 32)
    }
}
