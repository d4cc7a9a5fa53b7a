import Foundation
import PodKV
import PodKVCache
import PodKVTestSupport
import XCTest
@testable import PodKVEval

/// `AdaptationTrainer` end to end on a tiny random model: it lowers the held-out loss from its start,
/// writes a usable adapter, and a rerun resumes from the checkpoint instead of training again.
final class AdaptationRunTests: XCTestCase {
    static let model: LanguageModel = {
        var shape = TinyModel.Shape()
        shape.layerCount = 4
        return try! LanguageModel(path: try! TinyModel.file(shape, seed: 31), threads: 2, batchSize: 32)
    }()

    func settings() -> AdaptationSettings {
        var s = AdaptationSettings()
        s.sink = 4
        s.window = 16
        s.samples = 2
        s.sampleTokens = 96
        s.validationSamples = 1
        s.queriesPerSample = 24
        s.rank = 2
        s.steps = 30
        s.batchQueries = 8
        s.learningRate = 0.02
        s.checkpointEvery = 10
        s.validateEvery = 10
        return s
    }

    func testDistillationLowersHeldOutLossAndResumes() throws {
        let plan = try PoDPlan.uniform(groupSize: 2, model: Self.model.fingerprint)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("podkv-adapt-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trainer = try AdaptationTrainer(model: Self.model, plan: plan, settings: settings())
        let first = try trainer.run(documents: BuiltInCorpus.documents, checkpointDirectory: dir)
        XCTAssertEqual(first.curve.map(\.step), Array(1...30))
        let start = try XCTUnwrap(first.baselines["start"]), adapted = try XCTUnwrap(first.baselines["adapted"])
        XCTAssertEqual(start, try XCTUnwrap(first.baselines["owner"]), accuracy: 1e-12, "distillation starts from owner mode")
        XCTAssertLessThan(adapted, start, "training lowers the held-out loss")
        XCTAssertEqual(first.trainingTokens, 2 * 96)
        XCTAssertTrue(first.adapter.needsInput, "the low-rank input term moved away from zero")
        XCTAssertTrue(first.adapter.needsOwnerQuery)

        // Same settings again: resumes at the last checkpoint (step 30) and trains no further.
        var resumedAt: Int?
        let second = try trainer.run(documents: BuiltInCorpus.documents, checkpointDirectory: dir) { event in
            if case .resumed(let step) = event { resumedAt = step }
        }
        XCTAssertEqual(resumedAt, 30)
        XCTAssertEqual(second.adapter.weights, first.adapter.weights)

        // Other settings with the same directory are refused, not mixed.
        var other = settings()
        other.learningRate = 0.01
        XCTAssertThrowsError(try AdaptationTrainer(model: Self.model, plan: plan, settings: other)
            .run(documents: BuiltInCorpus.documents, checkpointDirectory: dir)) { e in
            XCTAssertTrue("\(e)".contains("other settings"), "\(e)")
        }

        // The adapter loads into the pod policy of the same plan.
        let path = dir + "/a.podkv"
        try first.adapter.save(path: path)
        XCTAssertNoThrow(try Self.model.makeCache(PolicySpec(name: "pod", options: [("group-size", "2"), ("sink", "4"), ("window", "16"), ("adapter", path)])))
    }

    func testClosedFormRunAndBadSettings() throws {
        let plan = try PoDPlan.uniform(groupSize: 2, model: Self.model.fingerprint)
        var s = settings()
        s.method = .closedForm
        let result = try AdaptationTrainer(model: Self.model, plan: plan, settings: s).run(documents: BuiltInCorpus.documents, checkpointDirectory: nil)
        XCTAssertTrue(result.curve.isEmpty)
        XCTAssertEqual(result.adapter.info.layout.rank, 0)
        XCTAssertLessThanOrEqual(try XCTUnwrap(result.baselines["adapted"]), try XCTUnwrap(result.baselines["own"]) + 1e-9,
                                 "the least-squares fit does not do worse than its own-query start")
        s.window = 200
        XCTAssertThrowsError(try AdaptationTrainer(model: Self.model, plan: plan, settings: s)) { e in
            XCTAssertTrue("\(e)".contains("no distant tokens"), "\(e)")
        }
        s = settings()
        s.learningRate = -1
        XCTAssertThrowsError(try AdaptationTrainer(model: Self.model, plan: plan, settings: s))
        XCTAssertThrowsError(try AdaptationTrainer(model: Self.model, plan: try PoDPlan.uniform(groupSize: 1, model: Self.model.fingerprint),
                                                   settings: settings())) { e in
            XCTAssertTrue("\(e)".contains("nothing to adapt"), "\(e)")
        }
    }
}
