import PodKV
import PodKVCache
import PodKVModel
import PodKVTestSupport
import XCTest

/// The shared invariants for the token-selection policies through a tiny random model, with specs that
/// set their `budget` and a prompt followed by decode steps (SnapKV-style policies compress when decoding
/// starts, so a prefill alone never shows their compression).
///
/// Cached equals uncached: h2o evicts token by token, so every chunking gives the same logits.
/// snapkv, pyramidkv and pod+snapkv vote when the first decode row arrives, so their logits depend on
/// where decoding starts; for them any chunking of the same prompt followed by the same decode steps
/// gives the same logits (their exactness against a brute-force selection is in the per-policy tests).
final class SelectionInvariantTests: XCTestCase {
    static let modelPath: String = try! TinyModel.file({ var s = TinyModel.Shape(); s.layerCount = 6; return s }(), seed: 12)
    lazy var model = try! LanguageModel(path: Self.modelPath, threads: 2, batchSize: 16)

    let names = ["h2o", "snapkv", "pyramidkv", "pod+snapkv"]

    func spec(_ name: String, budget: Int, type: String = "f32") -> PolicySpec {
        switch name {
        case "h2o": PolicySpec(name: name, options: [("budget", String(budget)), ("window", "8"), ("sink", "2"), ("kv-type", type)])
        case "pod+snapkv": PolicySpec(name: name, options: [("budget", String(budget)), ("window", "8"), ("sink", "2"), ("observation", "6"), ("kv-type", type)])
        default: PolicySpec(name: name, options: [("budget", String(budget)), ("window", "6"), ("kv-type", type)])
        }
    }

    func tokens(_ n: Int) -> [Int] {
        var rng = SplitMix(5)
        return (0..<n).map { _ in Int(rng.next() % 256) }
    }

    /// Logits of every forwarded row, and the final memory report.
    func run(_ spec: PolicySpec, _ toks: [Int], chunks: [Int]) throws -> (all: [Float], report: KVMemoryReport) {
        let cache = try model.makeCache(spec)
        let t = model.makeTransformer()
        var all: [Float] = []
        var start = 0
        for n in chunks {
            all += try t.forward(Array(toks[start..<(start + n)]), cache: cache, logits: .all)
            start += n
        }
        return (all, cache.memoryReport())
    }

    func maxRelative(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1) / max(1, abs($1.1))) }
    }

    let decode = Array(repeating: 1, count: 6)

    func testBudgetCoveringTheContextEqualsFull() throws {
        let toks = tokens(86)
        let full = try run(PolicySpec(name: "full", options: [("kv-type", "f32")]), toks, chunks: [50, 30] + decode)
        for name in names {
            // pyramidkv's smallest layer budget is (budget - window) / beta + window: with beta 2 and budget
            // 200 that is 103, covering 86 tokens in every layer.
            let s = name == "pyramidkv" ? spec(name, budget: 200).setting("beta", "2") : spec(name, budget: 90)
            let r = try run(s, toks, chunks: [50, 30] + decode)
            if name == "pod+snapkv" {
                // PoD's key sharing still applies to distant tokens: compare with pod at the same settings.
                let pod = try run(PolicySpec(name: "pod", options: [("window", "8"), ("sink", "2"), ("kv-type", "f32")]), toks, chunks: [50, 30] + decode)
                XCTAssertLessThanOrEqual(maxRelative(r.all, pod.all), 1e-4, "pod+snapkv with a budget >= length must equal pod")
            } else {
                XCTAssertLessThanOrEqual(maxRelative(r.all, full.all), 1e-4, "\(name) with a budget >= length must equal full")
            }
        }
    }

    func testCachedEqualsUncached() throws {
        let toks = tokens(76)
        for name in names {
            let s = spec(name, budget: 24)
            let whole = try run(s, toks, chunks: [70] + decode)
            // The model cuts each forward call into 16-row chunks; a call of 17 rows would end in a single-row
            // chunk, which these policies take for the start of decoding. Prompt splits here avoid that.
            for chunks in [[30, 40], [5, 18, 25, 22], [16, 16, 16, 16, 6]] {
                let r = try run(s, toks, chunks: chunks + decode)
                XCTAssertLessThanOrEqual(maxRelative(r.all, whole.all), 1e-4, "\(name): prompt chunks \(chunks) vs one pass")
                XCTAssertEqual(r.report.heldRows, whole.report.heldRows, name)
            }
        }
        // Token-by-token eviction: h2o is independent of any split, decode included.
        let s = spec("h2o", budget: 24)
        let whole = try run(s, toks, chunks: [76])
        let byToken = try run(s, toks, chunks: Array(repeating: 1, count: 76))
        XCTAssertLessThanOrEqual(maxRelative(byToken.all, whole.all), 1e-4, "h2o: token by token vs one pass")
    }

    func testCompressionChangesDecodeAndFreesMemory() throws {
        let toks = tokens(96)
        let full = try run(PolicySpec(name: "full"), toks, chunks: [90] + decode)
        let V = model.config.vocabSize
        let decodeLogits = { (all: [Float]) in Array(all[(all.count - 6 * V)...]) }
        for name in names {
            let r = try run(spec(name, budget: 24, type: "f16"), toks, chunks: [90] + decode)
            XCTAssertGreaterThan(maxRelative(decodeLogits(r.all), decodeLogits(full.all)), 1e-3, "\(name) must change what decode attention reads")
            XCTAssertLessThan(r.report.allocatedBytes, full.report.allocatedBytes, "\(name) must allocate fewer bytes")
            XCTAssertLessThan(r.report.formulaBytes * 2, full.report.formulaBytes, "\(name) must hold far fewer rows")
        }
    }

    func testBytesWithinBudgetFormulaAndDeterminism() throws {
        let toks = tokens(106)
        let g = KVGeometry(model.config)
        let rowBytes = g.headDim * 2
        for name in names {
            let a = try run(spec(name, budget: 24, type: "f16"), toks, chunks: [64, 36] + decode)
            let b = try run(spec(name, budget: 24, type: "f16"), toks, chunks: [64, 36] + decode)
            XCTAssertEqual(a.all, b.all, "\(name) must be deterministic")
            let r = a.report
            XCTAssertEqual(r.tokenCount, 106)
            XCTAssertEqual(r.heldRows * rowBytes, r.formulaBytes, "\(name): rows held x row bytes = formula")
            XCTAssertGreaterThanOrEqual(r.allocatedBytes, r.formulaBytes, name)
            XCTAssertLessThan(r.allocatedBytes - r.formulaBytes, 2 * g.layerCount * g.kvHeadCount * 64 * rowBytes, "\(name): slack under a page per storage")
            // Within budget: at most `budget` rows per layer and KV head, plus the decode rows after the vote
            // for the vote-at-decode policies (h2o holds at most the budget at every step).
            let extra = name == "h2o" ? 0 : decode.count
            let perLayerHead = r.layers.map { $0.valueTokens / g.kvHeadCount }
            if name == "pyramidkv" {
                XCTAssertEqual(perLayerHead.reduce(0, +), g.layerCount * (24 + extra), "pyramidkv: same total as snapkv")
            } else {
                XCTAssertTrue(perLayerHead.allSatisfy { $0 <= 24 + extra }, "\(name): \(perLayerHead)")
            }
        }
    }

    func testInvalidSettingsAreRefused() throws {
        let cases: [(String, String)] = [
            ("h2o:budget=10,window=12", "budget=10 is invalid"),
            ("h2o:budget=ten", "not an integer"),
            ("snapkv:budget=8,window=16", "budget=8 is invalid"),
            ("snapkv:kernel=4", "must be odd"),
            ("pyramidkv:beta=0", "beta=0 is invalid"),
            ("pod+snapkv:budget=100,sink=16,window=128", "budget=100 is invalid"),
            ("pod+snapkv:observation=0", "observation=0 is invalid"),
            ("h2o:budget=999999", "budget=999999 is invalid"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try model.makeCache(try PolicySpec(parsing: text)), text) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(text): got '\(error)'")
            }
        }
    }
}
