import PodKV
import PodKVCache
import PodKVTestSupport
import XCTest
@testable import PodKVEval

/// End-to-end calibration on a tiny random model: determinism, matrix invariants, the delta extremes,
/// and plans that the `pod` policy loads (and refuses for another model).
final class CalibrationRunTests: XCTestCase {
    static let modelPath: String = try! TinyModel.file(seed: 21)
    static let model = try! LanguageModel(path: modelPath, threads: 2, batchSize: 32)
    static let settings = CalibrationSettings(samples: 2, tokens: 160, queries: 24, sink: 4, window: 48)

    /// Similarity from one calibration of the tiny model, shared by the tests (runs once).
    static let measured: [[[Double]]] = {
        let calibrator = try! Calibrator(model: model, settings: settings)
        return try! calibrator.measure(samples: try! calibrator.samples(from: BuiltInCorpus.documents)).similarity
    }()

    func tempPath(_ ext: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("podkv-cal-\(UUID().uuidString).\(ext)").path
    }

    func plan(delta: Double) throws -> PoDPlan {
        var s = Self.settings
        s.grouping = .delta(delta)
        return try PlanBuilder.build(similarity: Self.measured, model: Self.model.fingerprint,
                                     modelContextLength: Self.model.config.contextLength, settings: s).plan
    }

    func podCache(_ path: String, model: LanguageModel = CalibrationRunTests.model) throws -> KVCachePolicy {
        try model.makeCache(PolicySpec(name: "pod", options: [("plan", path), ("sink", "4"), ("window", "48"), ("kv-type", "f32")]))
    }

    func testSimilarityMatricesAreWellFormed() {
        let g = Self.model.config
        XCTAssertEqual(Self.measured.count, g.kvHeadCount)
        for m in Self.measured {
            XCTAssertEqual(m.count, g.layerCount)
            for i in 0..<g.layerCount {
                XCTAssertEqual(m[i][i], 1, accuracy: 1e-12, "a layer is identical to itself")
                for j in 0..<g.layerCount {
                    XCTAssertEqual(m[i][j], m[j][i])
                    XCTAssertTrue((0...1).contains(m[i][j]))
                }
            }
        }
        // Random layers are not all identical: something off the diagonal is below 1.
        XCTAssertTrue(Self.measured.contains { m in m.indices.contains { i in m[i].indices.contains { j in m[i][j] < 0.999 } } })
    }

    func testCalibrationIsDeterministic() throws {
        let a = try Calibrator(model: Self.model, settings: Self.settings).run(documents: BuiltInCorpus.documents)
        let b = try Calibrator(model: Self.model, settings: Self.settings).run(documents: BuiltInCorpus.documents)
        XCTAssertEqual(a.plan.similarity, b.plan.similarity)
        XCTAssertEqual(a.plan.owners, b.plan.owners)
        XCTAssertEqual(a.plan.similarity, Self.measured)
        XCTAssertEqual(a.queryCount, 2 * 24)
    }

    func testDeltaOneIsTheFullCacheAndPoDReproducesFullLogits() throws {
        let plan = try plan(delta: 1)
        XCTAssertEqual(plan.blockCounts, [Int](repeating: Self.model.config.layerCount, count: Self.model.config.kvHeadCount))
        let path = tempPath("json")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try plan.save(path: path)
        let tokens = (0..<120).map { ($0 * 53 + 7) % 256 }
        let pod = try Self.model.makeTransformer().forward(tokens, cache: try podCache(path), logits: .all)
        let full = try Self.model.makeTransformer().forward(
            tokens, cache: try Self.model.makeCache(PolicySpec(parsing: "full:kv-type=f32")), logits: .all)
        XCTAssertLessThan(zip(pod, full).map { abs($0 - $1) }.max() ?? .infinity, 1e-4)
    }

    func testDeltaZeroGivesOneBlockPerHeadWhichChangesAttentionAndSavesMemory() throws {
        let plan = try plan(delta: 0)
        XCTAssertEqual(plan.blockCounts, [1, 1])
        XCTAssertTrue(plan.owners.allSatisfy { $0.allSatisfy { $0 == 0 } })
        let path = tempPath("json")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try plan.save(path: path)
        let tokens = (0..<120).map { ($0 * 53 + 7) % 256 }
        let cache = try podCache(path)
        let pod = try Self.model.makeTransformer().forward(tokens, cache: cache, logits: .all)
        let full = try Self.model.makeTransformer().forward(
            tokens, cache: try Self.model.makeCache(PolicySpec(parsing: "full:kv-type=f32")), logits: .all)
        XCTAssertGreaterThan(zip(pod, full).map { abs($0 - $1) }.max() ?? 0, 1e-3, "shared keys must change what attention reads")
        let expected = PlanSavings.saving(plan: plan, sink: 4, window: 48, contextLength: 120)
        XCTAssertGreaterThan(expected, 0)
        XCTAssertEqual(cache.memoryReport().saving, expected, accuracy: 1e-9)
    }

    func testPlanRoundTripsThroughJSONAndLoadsOnlyIntoItsModel() throws {
        let plan = try plan(delta: 0.5)
        let path = tempPath("json")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try plan.save(path: path)
        let loaded = try PoDPlan.load(path: path)
        XCTAssertEqual(loaded, plan)
        XCTAssertNoThrow(try podCache(path))

        // Same shape, different weights: the digest differs.
        let otherPath = try TinyModel.file(seed: 22)
        defer { try? FileManager.default.removeItem(atPath: otherPath) }
        XCTAssertThrowsError(try podCache(path, model: try LanguageModel(path: otherPath, threads: 1))) { error in
            guard case PoDPlanError.wrongModel = error else { return XCTFail("\(error)") }
        }
        // Different layer count.
        var shape = TinyModel.Shape()
        shape.layerCount = 5
        let deeperPath = try TinyModel.file(shape, seed: 21)
        defer { try? FileManager.default.removeItem(atPath: deeperPath) }
        XCTAssertThrowsError(try podCache(path, model: try LanguageModel(path: deeperPath, threads: 1)))
    }

    func testTargetSavingOnARealCalibration() throws {
        var s = Self.settings
        s.grouping = .targetSaving(0.1, contextLength: 1024)
        let choice = try PlanBuilder.build(similarity: Self.measured, model: Self.model.fingerprint,
                                           modelContextLength: Self.model.config.contextLength, settings: s)
        let saving = PlanSavings.saving(plan: choice.plan, sink: 4, window: 48, contextLength: 1024)
        XCTAssertGreaterThanOrEqual(saving, 0.1)
        XCTAssertEqual(choice.targetSaving ?? 0, saving, accuracy: 1e-12)
        XCTAssertLessThanOrEqual(choice.meanOwnerSimilarity, 1)
    }

    func testRejectsSettingsTheModelCannotServe() {
        XCTAssertThrowsError(try Calibrator(model: Self.model, settings: CalibrationSettings(tokens: 4096)))
    }
}
