import PodKV
import PodKVTestSupport
import XCTest
@testable import PodKVEval

/// Equal-budget fitting: every fitted spec's formula bytes are within the budget and close to it.
final class EvalBudgetTests: XCTestCase {
    static let geometries = [
        KVGeometry(layerCount: 30, headCount: 9, kvHeadCount: 3, headDim: 64, contextLength: 8192),   // SmolLM2-135M
        KVGeometry(layerCount: 24, headCount: 14, kvHeadCount: 2, headDim: 64, contextLength: 32768), // Qwen2.5-0.5B
    ]

    /// The policy's own formula for a spec after `tokens` tokens, independent of the fitters.
    func formulaBytes(_ spec: PolicySpec, tokens n: Int, _ g: KVGeometry) throws -> Int {
        let row = g.headDim * 2
        switch spec.name {
        case "full": return 2 * g.layerCount * g.kvHeadCount * n * row
        case "window":
            return 2 * g.layerCount * g.kvHeadCount * min(n, Int(spec.value("window")!)!) * row
        case "streaming-llm":
            return 2 * g.layerCount * g.kvHeadCount * min(n, Int(spec.value("sink") ?? "16")! + Int(spec.value("window")!)!) * row
        default:
            let fp = ModelFingerprint(architecture: "llama", layerCount: g.layerCount, headCount: g.headCount, kvHeadCount: g.kvHeadCount, headDim: g.headDim, digest: "")
            let plan = try PoDPlan.uniform(groupSize: Int(spec.value("group-size")!)!, model: fp)
            return PoDCache.formulaRows(geometry: g, plan: plan, sink: Int(spec.value("sink") ?? "16")!, window: Int(spec.value("window")!)!, tokens: n) * row
        }
    }

    func testFittedSpecsStayWithinAndCloseToBudget() throws {
        for g in Self.geometries {
            for n in [1000, 2048, 4096] {
                let full = KVPolicyRegistry.fullCacheBytes(tokens: n, geometry: g)
                for ratio in [0.1, 0.3, 0.55, 0.7, 0.9] {
                    let budget = Int(Double(full) * ratio)
                    for text in ["window", "streaming-llm", "streaming-llm:sink=4", "pod", "pod:group-size=4", "pod:window=128", "pod:sink=4,distant-query=own"] {
                        let spec = try PolicySpec(parsing: text)
                        let fitted: PolicySpec
                        do {
                            fitted = try KVPolicyRegistry.fit(spec, budgetBytes: budget, tokens: n, geometry: g)
                        } catch let e as BudgetError {
                            // Only PoD may refuse, and only below its floor (values of every token kept: 50%).
                            XCTAssertEqual(spec.name, "pod", "\(text) at \(ratio): \(e)")
                            XCTAssertLessThan(ratio, 0.75, "\(text) refused a budget of \(ratio) x full: \(e)")
                            XCTAssertTrue(e.description.contains("cannot hold"), e.description)
                            continue
                        }
                        let bytes = try formulaBytes(fitted, tokens: n, g)
                        XCTAssertLessThanOrEqual(bytes, budget, "\(text) -> \(fitted) at \(n) tokens, ratio \(ratio)")
                        // Close: one more window row per (layer, head) would break the budget, unless the window
                        // already covers every token.
                        let w = Int(fitted.value("window")!)!
                        let sink = fitted.name == "window" ? 0 : Int(fitted.value("sink") ?? "16")!
                        if spec.value("window") == nil, w + sink < n {
                            let bigger = try formulaBytes(fitted.setting("window", String(w + 1)), tokens: n, g)
                            XCTAssertGreaterThan(bigger, budget, "\(text) -> \(fitted): window could grow")
                        }
                        if ratio >= 0.7, spec.name == "pod", spec.value("window") == nil {
                            XCTAssertGreaterThan(Double(bytes), 0.9 * Double(budget), "\(text) -> \(fitted) wastes the budget")
                        }
                    }
                }
            }
        }
    }

    func testFullAndPoDRefuseImpossibleBudgets() throws {
        let g = Self.geometries[1]
        let full = KVPolicyRegistry.fullCacheBytes(tokens: 2048, geometry: g)
        XCTAssertThrowsError(try KVPolicyRegistry.fit(PolicySpec(name: "full"), budgetBytes: full - 1, tokens: 2048, geometry: g)) {
            XCTAssertTrue("\($0)".contains("full cache keeps all 2048 tokens"), "\($0)")
        }
        XCTAssertEqual(try KVPolicyRegistry.fit(PolicySpec(name: "full"), budgetBytes: full, tokens: 2048, geometry: g), PolicySpec(name: "full"))
        XCTAssertThrowsError(try KVPolicyRegistry.fit(PolicySpec(name: "pod"), budgetBytes: full / 2, tokens: 2048, geometry: g)) {
            XCTAssertTrue("\($0)".contains("values are never shared"), "\($0)")
        }
        XCTAssertThrowsError(try KVPolicyRegistry.fit(PolicySpec(name: "streaming-llm"), budgetBytes: 0, tokens: 2048, geometry: g))
    }

    /// The fitted spec, built and filled on a real (tiny) model, holds what the formula says: within budget.
    func testFittedPolicyReportsBytesWithinBudget() throws {
        var shape = TinyModel.Shape()
        shape.layerCount = 6
        let model = try LanguageModel(path: try TinyModel.file(shape, seed: 5), threads: 1)
        let g = KVGeometry(model.config)
        let tokens = (0..<300).map { 40 + $0 % 200 }
        for text in ["streaming-llm", "window", "pod"] {
            let budget = KVPolicyRegistry.fullCacheBytes(tokens: tokens.count, geometry: g) * 7 / 10
            let spec = try KVPolicyRegistry.fit(try PolicySpec(parsing: text), budgetBytes: budget, tokens: tokens.count, geometry: g)
            let cache = try model.makeCache(spec)
            _ = try model.makeTransformer().forward(tokens, cache: cache, logits: .none)
            let report = cache.memoryReport()
            XCTAssertLessThanOrEqual(report.formulaBytes, budget, "\(spec)")
            XCTAssertGreaterThan(report.formulaBytes, budget * 9 / 10, "\(spec)")
        }
    }

    func testEvalBudgetResolution() throws {
        let g = Self.geometries[1]
        let budget = try EvalBudget(bytes: nil, ratio: 0.6)
        let full = try budget.resolve(EvalPolicy(PolicySpec(name: "full")), tokens: 2048, geometry: g)
        XCTAssertTrue(full.runs)
        XCTAssertEqual(full.note, "reference, over budget")
        let pod = try budget.resolve(EvalPolicy(PolicySpec(name: "pod")), tokens: 2048, geometry: g)
        XCTAssertTrue(pod.runs)
        XCTAssertNotNil(pod.spec.value("group-size"))
        let tight = try EvalBudget(bytes: nil, ratio: 0.3).resolve(EvalPolicy(PolicySpec(name: "pod")), tokens: 2048, geometry: g)
        XCTAssertFalse(tight.runs)
        XCTAssertThrowsError(try EvalBudget(bytes: 10, ratio: 0.5))
        XCTAssertThrowsError(try EvalBudget(bytes: nil, ratio: -1))
    }
}
