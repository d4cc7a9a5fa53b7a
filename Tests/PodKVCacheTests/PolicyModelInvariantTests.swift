import PodKV
import PodKVCache
import PodKVGGUF
import PodKVKernels
import PodKVModel
import PodKVTestSupport
import XCTest

/// Invariants every registered policy must keep, run through a tiny random model (real GGUF, real
/// loader, real forward pass): budgets >= length equal full; cached equals uncached; memory reported
/// equals the formula's rows and never exceeds the full cache; deterministic.
///
/// Equality checks use `kv-type=f32` and a 1e-4 relative tolerance: attention of two policies over the
/// same tokens differs only in summation order (~1e-7). With the default f16 cache such a 1e-7
/// difference in a later layer's key can flip an f16 rounding (one f16 ulp = 5e-4 relative), so the f16
/// variant is held to 5e-3.
final class PolicyModelInvariantTests: XCTestCase {
    static let modelPath: String = try! TinyModel.file({ var s = TinyModel.Shape(); s.layerCount = 6; return s }(), seed: 11)
    lazy var model = try! LanguageModel(path: Self.modelPath, threads: 2, batchSize: 16)

    /// A spec per registered policy whose budget covers `length` tokens (nothing is compressed).
    func generousSpec(_ name: String, length: Int) -> PolicySpec {
        generousSpecF16(name, length: length).setting("kv-type", "f32")
    }

    func generousSpecF16(_ name: String, length: Int) -> PolicySpec {
        switch name {
        case "full": PolicySpec(name: name)
        case "window": PolicySpec(name: name, options: [("window", String(length))])
        case "streaming-llm": PolicySpec(name: name, options: [("sink", "4"), ("window", String(length))])
        case "pod": PolicySpec(name: name, options: [("sink", "4"), ("window", String(length)), ("group-size", "3")])
        case "h2o", "snapkv", "pyramidkv": PolicySpec(name: name, options: [("budget", String(length + 8))])
        case "pod+snapkv":
            PolicySpec(name: name, options: [("budget", String(length + 8)), ("sink", "4"), ("window", String(length)), ("group-size", "3")])
        default: PolicySpec(name: name, options: [("window", String(length))])
        }
    }

    /// A spec per registered policy that really compresses at `length` tokens.
    func tightSpec(_ name: String) -> PolicySpec { tightSpecF16(name).setting("kv-type", "f32") }

    func tightSpecF16(_ name: String) -> PolicySpec {
        switch name {
        case "full": PolicySpec(name: name)
        case "window": PolicySpec(name: name, options: [("window", "24")])
        case "streaming-llm": PolicySpec(name: name, options: [("sink", "4"), ("window", "24")])
        case "pod": PolicySpec(name: name, options: [("sink", "4"), ("window", "24"), ("group-size", "3")])
        case "h2o": PolicySpec(name: name, options: [("budget", "24"), ("window", "8")])
        case "snapkv", "pyramidkv": PolicySpec(name: name, options: [("budget", "24"), ("window", "8")])
        case "pod+snapkv": PolicySpec(name: name, options: [("budget", "24"), ("sink", "4"), ("window", "8"), ("group-size", "3")])
        default: PolicySpec(name: name, options: [("window", "24")])
        }
    }

    /// Policies that select tokens by a vote when decoding starts (SnapKV family): they attend to a prompt
    /// exactly and compress at the prefill -> decode switch, so outputs depend on where that switch is.
    /// Their chunking invariance and compression are tested in SelectionInvariantTests instead.
    func compressesAtDecode(_ name: String) -> Bool { (try? KVPolicyRegistry.descriptor(named: name).compressesAtDecode) ?? false }

    func tokens(_ n: Int, seed: UInt64 = 3) -> [Int] {
        var rng = SplitMix(seed)
        return (0..<n).map { _ in Int(rng.next() % 256) }
    }

    func logits(_ spec: PolicySpec, _ toks: [Int], chunks: [Int]) throws -> (last: [Float], all: [Float], report: KVMemoryReport) {
        let cache = try model.makeCache(spec)
        let t = model.makeTransformer()
        var all: [Float] = []
        var start = 0
        for n in chunks {
            all += try t.forward(Array(toks[start..<(start + n)]), cache: cache, logits: .all)
            start += n
        }
        let V = model.config.vocabSize
        return (Array(all[(all.count - V)...]), all, cache.memoryReport())
    }

    func maxRelative(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1) / max(1, abs($1.1))) }
    }

    func testEveryPolicyWithGenerousBudgetEqualsFull() throws {
        let toks = tokens(80)
        let full = try logits(PolicySpec(name: "full", options: [("kv-type", "f32")]), toks, chunks: [50, 30])
        let full16 = try logits(PolicySpec(name: "full"), toks, chunks: [50, 30])
        for name in KVPolicyRegistry.names {
            let r = try logits(generousSpec(name, length: 80), toks, chunks: [50, 30])
            XCTAssertLessThanOrEqual(maxRelative(r.all, full.all), 1e-4, "\(name) with budget >= length must equal full")
            let r16 = try logits(generousSpecF16(name, length: 80), toks, chunks: [50, 30])
            XCTAssertLessThanOrEqual(maxRelative(r16.all, full16.all), 5e-3, "\(name) (f16) with budget >= length must equal full")
        }
    }

    func testCachedEqualsUncachedForEveryPolicy() throws {
        let toks = tokens(70)
        for name in KVPolicyRegistry.names where !compressesAtDecode(name) {
            let spec = tightSpec(name)
            let whole = try logits(spec, toks, chunks: [70])
            let incremental = try logits(spec, toks, chunks: [30] + Array(repeating: 1, count: 40))
            let mixed = try logits(spec, toks, chunks: [5, 17, 1, 25, 22])
            XCTAssertLessThanOrEqual(maxRelative(incremental.all, whole.all), 1e-4, "\(spec): token-by-token decode vs one pass")
            XCTAssertLessThanOrEqual(maxRelative(mixed.all, whole.all), 1e-4, "\(spec): odd chunks vs one pass")
            let whole16 = try logits(tightSpecF16(name), toks, chunks: [70])
            let incremental16 = try logits(tightSpecF16(name), toks, chunks: [30] + Array(repeating: 1, count: 40))
            XCTAssertLessThanOrEqual(maxRelative(incremental16.all, whole16.all), 5e-3, "\(name) f16: decode vs one pass")
        }
    }

    func testCompressionChangesOutputAndMemory() throws {
        // A prompt then a few decode steps, so policies that compress when decoding starts do so too.
        let toks = tokens(90)
        let chunks = [86, 1, 1, 1, 1]
        let full = try logits(PolicySpec(name: "full"), toks, chunks: chunks)
        for name in KVPolicyRegistry.names where name != "full" {
            let r = try logits(tightSpecF16(name), toks, chunks: chunks)
            XCTAssertGreaterThan(maxRelative(r.last, full.last), 1e-3, "\(name) must change what attention reads")
            XCTAssertLessThan(r.report.allocatedBytes, full.report.allocatedBytes, "\(name) must hold fewer bytes")
        }
    }

    func testMemoryReportsMatchFormulaAndDeterminism() throws {
        let toks = tokens(100)
        let g = KVGeometry(model.config)
        let rowBytes = g.headDim * 2
        for name in KVPolicyRegistry.names {
            let a = try logits(tightSpecF16(name), toks, chunks: [64, 33, 1, 1, 1])
            let b = try logits(tightSpecF16(name), toks, chunks: [64, 33, 1, 1, 1])
            XCTAssertEqual(a.all, b.all, "\(name) must be deterministic")
            let r = a.report
            XCTAssertEqual(r.tokenCount, 100)
            XCTAssertEqual(r.heldRows * rowBytes, r.formulaBytes, "\(name): rows held x row bytes = formula")
            XCTAssertGreaterThanOrEqual(r.allocatedBytes, r.formulaBytes, "\(name)")
            XCTAssertLessThan(r.allocatedBytes - r.formulaBytes, 2 * g.layerCount * g.kvHeadCount * 64 * rowBytes, "\(name): slack under a page per storage")
            XCTAssertLessThanOrEqual(r.formulaBytes, r.fullCacheBytes, "\(name)")
        }
    }

    func testPoDGroupSizeOneGivesFullLogitsExactly() throws {
        let toks = tokens(60)
        let full = try logits(PolicySpec(name: "full"), toks, chunks: [40, 20])
        let pod = try logits(PolicySpec(name: "pod", options: [("group-size", "1"), ("sink", "2"), ("window", "8")]), toks, chunks: [40, 20])
        XCTAssertEqual(pod.all, full.all)
    }

    func testInvalidSpecsAreRefusedWithClearErrors() throws {
        let cases: [(String, String)] = [
            ("nonsense", "unknown KV policy 'nonsense'"),
            ("pod:group-size=0", "group-size=0 is invalid"),
            ("pod:window=999999", "window=999999 is invalid"),
            ("pod:distant-query=sideways", "expected one of own, owner"),
            ("streaming-llm:colour=blue", "has no option 'colour'"),
            ("pod:skip-threshold=0", "skip-threshold=0 is invalid"),
            ("pod:plan=/nonexistent/plan.json", "cannot read PoD plan"),
            ("pod:window", "is not key=value"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try model.makeCache(try PolicySpec(parsing: text)), text) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(text): got '\(error)'")
            }
        }
    }

    func testPlanForAnotherModelIsRefused() throws {
        let other = ModelFingerprint(architecture: "llama", layerCount: 7, headCount: 4, kvHeadCount: 2, headDim: 16, digest: "")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID()).json").path
        try PoDPlan.uniform(groupSize: 2, model: other).save(path: path)
        XCTAssertThrowsError(try model.makeCache(PolicySpec(name: "pod", options: [("plan", path)]))) { error in
            XCTAssertTrue("\(error)".contains("made for another model"), "\(error)")
        }
        // The right model's plan loads.
        let mine = try PoDPlan.uniform(groupSize: 3, model: model.fingerprint)
        try mine.save(path: path)
        let cache = try model.makeCache(PolicySpec(name: "pod", options: [("plan", path)])) as! PoDCache
        XCTAssertEqual(cache.plan.owners, mine.owners)
    }
}
