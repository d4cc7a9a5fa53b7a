import Foundation
import PodKV
import PodKVCache
import PodKVModel
import PodKVTestSupport
import XCTest

/// The PoD adapter at inference: an identity adapter is own mode, the owner-mode weights are owner mode,
/// other weights really change attention; files round-trip and are refused for another model or plan.
final class PoDAdapterTests: XCTestCase {
    static let modelPath: String = try! TinyModel.file({ var s = TinyModel.Shape(); s.layerCount = 6; return s }(), seed: 17)
    lazy var model = try! LanguageModel(path: Self.modelPath, threads: 2, batchSize: 16)

    func adapter(groupSize: Int, rank: Int = 2, _ edit: (inout PoDAdapterWeights) -> Void = { _ in }) throws -> PoDQueryAdapter {
        let c = model.config
        let plan = try PoDPlan.uniform(groupSize: groupSize, model: model.fingerprint)
        let layout = PoDAdapterLayout(headCount: c.headCount, headDim: c.headDim, inputWidth: c.modelDim, rank: rank)
        var w = PoDAdapterWeights.identity(plan: plan, layout: layout)
        edit(&w)
        let pairs = RotaryPairs(config: c, rope: RotaryEmbedding(config: c))
        return PoDQueryAdapter(
            info: .init(model: model.fingerprint, owners: plan.owners, sink: 4, window: 16, method: "identity", layout: layout, pairs: pairs),
            weights: w)
    }

    func spec(_ extra: [(String, String)] = []) -> PolicySpec {
        PolicySpec(name: "pod", options: [("sink", "4"), ("window", "16"), ("group-size", "3"), ("kv-type", "f32")] + extra)
    }

    func tokens(_ n: Int) -> [Int] {
        var rng = SplitMix(5)
        return (0..<n).map { _ in Int(rng.next() % 256) }
    }

    /// All logits of a 64-token prompt (chunks of 16, then 8 one-token decode steps).
    func logits(_ spec: PolicySpec, adapter: PoDAdapter? = nil) throws -> [Float] {
        let cache = try model.makeCache(spec, adapter: adapter)
        let t = model.makeTransformer()
        t.decodeUsesInt8 = false
        let toks = tokens(72)
        var all: [Float] = []
        var start = 0
        for n in [16, 16, 16, 16, 1, 1, 1, 1, 1, 1, 1, 1] {
            all += try t.forward(Array(toks[start..<(start + n)]), cache: cache, logits: .all)
            start += n
        }
        return all
    }

    func testIdentityAdapterIsOwnMode() throws {
        let own = try logits(spec([("distant-query", "own")]))
        let adapted = try logits(spec(), adapter: try adapter(groupSize: 3))
        XCTAssertEqual(own, adapted, "an identity adapter must leave own-mode outputs unchanged")
    }

    func testOwnerModeWeightsAreOwnerMode() throws {
        let plan = try PoDPlan.uniform(groupSize: 3, model: model.fingerprint)
        let owner = try logits(spec([("distant-query", "owner")]))
        let a = try adapter(groupSize: 3) { w in w = PoDAdapterWeights.ownerMode(plan: plan, layout: w.layout) }
        XCTAssertTrue(a.needsOwnerQuery)
        let adapted = try logits(spec(), adapter: a)
        XCTAssertEqual(owner.count, adapted.count)
        for (x, y) in zip(owner, adapted) { XCTAssertEqual(x, y, accuracy: 1e-5 * max(1, abs(x))) }
    }

    func testNonIdentityWeightsChangeDistantAttention() throws {
        let own = try logits(spec([("distant-query", "own")]))
        // A large distant logit offset on every adapted head moves attention mass onto distant tokens.
        let biased = try adapter(groupSize: 3) { w in
            for l in w.adaptedLayers { for h in 0..<w.layout.headCount { w.layers[l][w.layout.bias + h] = 3 } }
        }
        let lowRank = try adapter(groupSize: 3) { w in
            for l in w.adaptedLayers { for i in w.layout.down..<w.layout.count { w.layers[l][i] = Float((i * 37) % 11 - 5) * 0.05 } }
        }
        XCTAssertTrue(lowRank.needsInput)
        for a in [biased, lowRank] {
            let out = try logits(spec(), adapter: a)
            // Identical through the first 16 tokens (no distant tokens before sink + window), different later.
            let V = model.config.vocabSize
            XCTAssertEqual(Array(out[0..<(16 * V)]), Array(own[0..<(16 * V)]))
            XCTAssertGreaterThan(zip(out, own).map { abs($0 - $1) }.max()!, 1e-3)
        }
    }

    func testFileRoundTripAndSpecOption() throws {
        let a = try adapter(groupSize: 3) { w in
            for l in w.adaptedLayers { for i in w.layers[l].indices { w.layers[l][i] = Float(i % 7) * 0.01 - 0.02 } }
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("podkv-adapter-\(UUID().uuidString).podkv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try a.save(path: path)
        let b = try PoDQueryAdapter.load(path: path)
        XCTAssertEqual(a.info, b.info)
        XCTAssertEqual(a.weights, b.weights)
        XCTAssertEqual(b.parameterBytes, a.weights.adaptedLayers.count * a.info.layout.count * 4)
        // The spec option loads the same adapter: same outputs as passing it in.
        XCTAssertEqual(try logits(spec([("adapter", path)])), try logits(spec(), adapter: a))
    }

    func testMismatchedAdaptersAreRefused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("podkv-adapter-\(UUID().uuidString).podkv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Made for groups of 2: refused by a policy with groups of 3.
        try adapter(groupSize: 2).save(path: path)
        XCTAssertThrowsError(try model.makeCache(spec([("adapter", path)]))) { e in
            XCTAssertTrue("\(e)".contains("another layer grouping"), "\(e)")
        }
        // Made for another model file.
        let other = try LanguageModel(path: try TinyModel.file({ var s = TinyModel.Shape(); s.layerCount = 6; return s }(), seed: 99),
                                      threads: 1, batchSize: 16)
        try adapter(groupSize: 3).save(path: path)
        XCTAssertThrowsError(try other.makeCache(spec([("adapter", path)]))) { e in
            XCTAssertTrue("\(e)".contains("another model"), "\(e)")
        }
        // An adapter defines the distant query: owner mode on top of it is a contradiction.
        XCTAssertThrowsError(try model.makeCache(spec([("adapter", path), ("distant-query", "owner")])))
        // Damaged files.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count - 3).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try PoDQueryAdapter.load(path: path)) { e in XCTAssertTrue("\(e)".contains("bytes, expected"), "\(e)") }
        try Data("not an adapter at all".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try PoDQueryAdapter.load(path: path)) { e in XCTAssertTrue("\(e)".contains("magic"), "\(e)") }
        XCTAssertThrowsError(try PoDQueryAdapter.load(path: path + ".missing")) { e in XCTAssertTrue("\(e)".contains("cannot read"), "\(e)") }
    }
}
