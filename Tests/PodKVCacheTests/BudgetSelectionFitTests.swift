import PodKV
import PodKVCache
import PodKVModel
import PodKVTestSupport
import XCTest

/// The equal-budget fitters of the token-selection policies, checked against the real caches on a tiny
/// random model: the fitted spec, run to the budget problem's tokens (a prompt, then `decode` single
/// rows, which is when snapkv, pyramidkv and pod+snapkv vote), holds at most the budget, and the same
/// spec with one more token of budget holds more than the budget (so the fitter's formula is the cache's,
/// in both directions). Impossible budgets throw `BudgetError.cannotMeet`.
final class BudgetSelectionFitTests: XCTestCase {
    static let modelPath: String = try! TinyModel.file({ var s = TinyModel.Shape(); s.layerCount = 6; return s }(), seed: 21)
    lazy var model = try! LanguageModel(path: Self.modelPath, threads: 2, batchSize: 16)
    lazy var geometry = KVGeometry(model.config)

    /// Prompt rows then decoded rows: 76 + 4. The model cuts the prompt into 16-row chunks ending in 12 rows,
    /// so no prompt chunk is a single row (which the vote-at-decode policies would take for decoding).
    let prompt = 76, decode = 4
    var tokens: Int { prompt + decode }

    /// Specs with windows small enough for budgets of a few dozen tokens; each fitter fits `budget`
    /// (and pod+snapkv without a written window also its window).
    let specs: [PolicySpec] = [
        PolicySpec(name: "h2o", options: [("sink", "2"), ("window", "8")]),
        PolicySpec(name: "h2o", options: [("sink", "2")]),
        PolicySpec(name: "snapkv", options: [("window", "6")]),
        PolicySpec(name: "pyramidkv", options: [("window", "6")]),
        PolicySpec(name: "pyramidkv", options: [("window", "6"), ("beta", "2")]),
        PolicySpec(name: "pod+snapkv", options: [("sink", "2"), ("window", "8"), ("observation", "6")]),
        PolicySpec(name: "pod+snapkv", options: [("sink", "2"), ("observation", "6"), ("group-size", "3")]),
    ]

    func fullBytes(_ n: Int) -> Int { KVPolicyRegistry.fullCacheBytes(tokens: n, geometry: geometry) }

    /// The memory report after `prompt` tokens in one call, then `decode` single-row calls.
    func run(_ spec: PolicySpec) throws -> KVMemoryReport {
        var rng = SplitMix(9)
        let toks = (0..<tokens).map { _ in Int(rng.next() % 256) }
        let cache = try model.makeCache(spec)
        let t = model.makeTransformer()
        _ = try t.forward(Array(toks[0..<prompt]), cache: cache, logits: .none)
        for i in prompt..<tokens { _ = try t.forward([toks[i]], cache: cache, logits: .last) }
        XCTAssertEqual(cache.memoryReport().tokenCount, tokens)
        return cache.memoryReport()
    }

    /// `spec` with one more token of budget, as the fitter would set it (pod+snapkv's derived window
    /// follows the budget).
    func oneMore(_ fitted: PolicySpec, original: PolicySpec) throws -> PolicySpec {
        let budget = try XCTUnwrap(fitted.value("budget").flatMap { Int($0) }) + 1
        var next = fitted.setting("budget", String(budget))
        if fitted.name == "pod+snapkv", original.value("window") == nil {
            let sink = Int(fitted.value("sink") ?? "16")!
            next = next.setting("window", String(max(1, (budget - sink) / 2)))
        }
        return next
    }

    func testFittedSpecsHoldAtMostTheBudgetAndOneMoreTokenExceedsIt() throws {
        let g = geometry
        let rowBytes = g.headDim * 2
        // A page of slack per stored row sequence: keys and values of every (layer, KV head).
        let slack = 2 * g.layerCount * g.kvHeadCount * 64 * rowBytes
        for ratio in [0.3, 0.45, 0.7] {
            let budget = Int(ratio * Double(fullBytes(tokens)))
            for spec in specs {
                let label = "\(spec) at \(ratio) x full"
                let fitted = try KVPolicyRegistry.fit(spec, budgetBytes: budget, tokens: tokens, geometry: g, decodeTokens: decode)
                let r = try run(fitted)
                XCTAssertLessThanOrEqual(r.formulaBytes, budget, "\(label): fitted \(fitted)")
                XCTAssertEqual(r.heldRows * rowBytes, r.formulaBytes, "\(label): rows held are the formula's")
                XCTAssertLessThanOrEqual(r.allocatedBytes, budget + slack, "\(label): allocation beyond a page of slack")
                XCTAssertLessThan(r.formulaBytes, fullBytes(tokens), "\(label): below full")
                let next = try run(try oneMore(fitted, original: spec))
                XCTAssertGreaterThan(next.formulaBytes, budget, "\(label): one more token of budget than \(fitted) must exceed it")
            }
        }
    }

    func testImpossibleBudgetsThrowCannotMeet() throws {
        let g = geometry
        // Two positions' rows in all: not even sink + window (h2o: 2 + 1) or the observation windows fit.
        let tiny = 2 * 2 * g.layerCount * g.kvHeadCount * g.headDim * 2
        for spec in specs {
            XCTAssertThrowsError(try KVPolicyRegistry.fit(spec, budgetBytes: tiny, tokens: tokens, geometry: g, decodeTokens: decode)) { e in
                guard case BudgetError.cannotMeet(let p, let b, let m, _)? = e as? BudgetError else {
                    return XCTFail("\(spec): expected cannotMeet, got \(e)")
                }
                XCTAssertEqual(p, spec.name)
                XCTAssertEqual(b, tiny)
                XCTAssertGreaterThan(m, tiny, "\(spec): the minimum named must exceed the budget")
            }
        }
    }

    func testWithoutDecodingSnapKVAndPyramidKVCannotGoBelowFull() throws {
        let g = geometry
        let budget = fullBytes(tokens) * 9 / 10
        for spec in specs where spec.name == "snapkv" || spec.name == "pyramidkv" {
            XCTAssertThrowsError(try KVPolicyRegistry.fit(spec, budgetBytes: budget, tokens: tokens, geometry: g, decodeTokens: 0)) { e in
                XCTAssertTrue("\(e)".contains("never compressed"), "\(spec): \(e)")
            }
        }
        // pod+snapkv without a vote is PoD: its non-owner layers still hold only proximal keys.
        let pod = try KVPolicyRegistry.fit(specs[5], budgetBytes: budget, tokens: tokens, geometry: g, decodeTokens: 0)
        XCTAssertEqual(pod.name, "pod+snapkv")
        XCTAssertThrowsError(try KVPolicyRegistry.fit(specs[5], budgetBytes: fullBytes(tokens) / 3, tokens: tokens, geometry: g, decodeTokens: 0))
        // h2o evicts during prefill: decoding does not matter.
        let a = try KVPolicyRegistry.fit(specs[0], budgetBytes: budget, tokens: tokens, geometry: g, decodeTokens: 0)
        let b = try KVPolicyRegistry.fit(specs[0], budgetBytes: budget, tokens: tokens, geometry: g, decodeTokens: decode)
        XCTAssertEqual(a, b)
    }

    func testDecodedTokensMustLeaveAPrompt() {
        XCTAssertThrowsError(try KVPolicyRegistry.fit(
            PolicySpec(name: "snapkv"), budgetBytes: fullBytes(20), tokens: 20, geometry: geometry, decodeTokens: 20)) { e in
            guard case BudgetError.invalidBudget(let why)? = e as? BudgetError else { return XCTFail("\(e)") }
            XCTAssertTrue(why.contains("no prompt"), why)
        }
        XCTAssertThrowsError(try KVPolicyRegistry.fit(
            PolicySpec(name: "h2o"), budgetBytes: fullBytes(20), tokens: 20, geometry: geometry, decodeTokens: -1))
    }

    /// Budgets at qwen2.5-coder-0.5b's geometry (24 layers, 2 KV heads of 64, f16) for the 4K NIAH runs:
    /// 4096 prompt tokens + 32 answer tokens at a quarter of the full cache.
    func testQwenQuarterBudgetArithmetic() throws {
        let g = KVGeometry(layerCount: 24, headCount: 14, kvHeadCount: 2, headDim: 64, contextLength: 32768)
        let n = 4096 + 32
        let budget = KVPolicyRegistry.fullCacheBytes(tokens: n, geometry: g) / 4
        let fit = { (s: String) in try KVPolicyRegistry.fit(PolicySpec(parsing: s), budgetBytes: budget, tokens: n, geometry: g) }
        // A quarter of 4128 positions is 1032: h2o holds its budget, snapkv its budget plus 32 decoded rows.
        XCTAssertEqual(try fit("h2o").value("budget"), "1032")
        XCTAssertEqual(try fit("snapkv").value("budget"), "1000")
        // Every pyramidkv layer's budget is below the prompt here, so its mean equals snapkv's.
        XCTAssertEqual(try fit("pyramidkv").value("budget"), "1000")
        // pod+snapkv (group-size 2): values in 24 layers, selected keys in 12, proximal keys in the other
        // 12, so it selects more tokens than snapkv for the same bytes (the savings multiply).
        let pod = try fit("pod+snapkv")
        let podBudget = try XCTUnwrap(Int(pod.value("budget") ?? ""))
        XCTAssertGreaterThan(podBudget, 1000)
        XCTAssertEqual(pod.value("window"), String((podBudget - 16) / 2))
        // PoD alone keeps every value: a quarter is below its floor.
        XCTAssertThrowsError(try fit("pod"))
    }
}
