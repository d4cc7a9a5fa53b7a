import PodKV
import XCTest
@testable import PodKVEval

/// JSD, greedy grouping, target-saving search and the saving formula on hand-made inputs.
final class CalibrationMathTests: XCTestCase {
    // MARK: Jensen-Shannon divergence (bits)

    func testJSDOfKnownDistributions() throws {
        // Disjoint supports: m = (½, ½), each KL = 1 bit, JSD = 1.
        XCTAssertEqual(try JensenShannon.divergence([1, 0], [0, 1]), 1, accuracy: 1e-12)
        // p = (½, ½), q = (1, 0): m = (¾, ¼); KL(p‖m) = ½ log2(2/3) + ½ log2 2 = 0.2075187,
        // KL(q‖m) = log2(4/3) = 0.4150375; JSD = ½ (sum) = 0.3112781.
        XCTAssertEqual(try JensenShannon.divergence([0.5, 0.5], [1, 0]), 0.311278124459, accuracy: 1e-7)
        // p = (¼, ¾), q = (¾, ¼): m uniform; KL = -¼ + ¾ log2 1.5 = 0.1887219 for both.
        XCTAssertEqual(try JensenShannon.divergence([0.25, 0.75], [0.75, 0.25]), 0.188721875540, accuracy: 1e-7)
        // Symmetric.
        XCTAssertEqual(try JensenShannon.divergence([0.2, 0.3, 0.5], [0.6, 0.1, 0.3]),
                       try JensenShannon.divergence([0.6, 0.1, 0.3], [0.2, 0.3, 0.5]), accuracy: 1e-12)
    }

    func testJSDOfIdenticalDistributionsIsExactlyZero() throws {
        let p: [Float] = [0.1, 0.2, 0.3, 0.4, 0]
        XCTAssertEqual(try JensenShannon.divergence(p, p), 0)
        XCTAssertEqual(try JensenShannon.similarity(p, p), 1)
    }

    func testJSDRejectsDifferentLengths() {
        XCTAssertThrowsError(try JensenShannon.divergence([1], [0.5, 0.5]))
    }

    func testLayerSimilarityAveragesPairsAndHasUnitDiagonal() throws {
        // Two layers, one KV head, distributions over 2 distant tokens.
        var sim = LayerSimilarity(layerCount: 2, kvHeadCount: 1)
        try sim.add(try DistantAttention(position: 10, distant: 2..<4, layerCount: 2, kvHeadCount: 1, probabilities: [1, 0, 0, 1]))
        try sim.add(try DistantAttention(position: 11, distant: 2..<4, layerCount: 2, kvHeadCount: 1, probabilities: [0.5, 0.5, 1, 0]))
        let m = try sim.matrices()
        XCTAssertEqual(sim.queryCount, 2)
        XCTAssertEqual(m[0][0][0], 1)
        XCTAssertEqual(m[0][1][1], 1)
        // Mean of 1 - 1 (disjoint) and 1 - 0.3112781.
        XCTAssertEqual(m[0][0][1], (0 + (1 - 0.311278124459)) / 2, accuracy: 1e-7)
        XCTAssertEqual(m[0][0][1], m[0][1][0])
        XCTAssertThrowsError(try LayerSimilarity(layerCount: 3, kvHeadCount: 1).matrices())
    }

    // MARK: Greedy grouping

    /// Symmetric matrix from the upper triangle given as [i][j] for j > i.
    static func matrix(_ L: Int, _ entries: [(Int, Int, Double)]) -> [[Double]] {
        var m = (0..<L).map { i in (0..<L).map { j in i == j ? 1.0 : 0.0 } }
        for (i, j, v) in entries { m[i][j] = v; m[j][i] = v }
        return m
    }

    func testGreedyComparesWithTheBlockOwnerNotTheNeighbour() throws {
        // 0~1 and 1~2 are similar, but 2 is far from 0, the owner: 2 opens a new block.
        let m = Self.matrix(4, [(0, 1, 0.9), (1, 2, 0.9), (0, 2, 0.3), (2, 3, 0.6), (0, 3, 0.1), (1, 3, 0.2)])
        XCTAssertEqual(try GreedyGrouping.owners(similarity: m, delta: 0.5), [0, 0, 2, 2])
        XCTAssertEqual(try GreedyGrouping.owners(similarity: m, delta: 0.7), [0, 0, 2, 3])
        XCTAssertEqual(try GreedyGrouping.owners(similarity: m, delta: 0.95), [0, 1, 2, 3])
    }

    func testDeltaOneGivesSingletonsAndZeroGivesOneBlock() throws {
        let m = Self.matrix(5, [(0, 1, 0.99), (1, 2, 0.4), (2, 3, 0.8), (3, 4, 0.2), (0, 4, 0)])
        XCTAssertEqual(try GreedyGrouping.owners(similarity: m, delta: 1), [0, 1, 2, 3, 4])
        XCTAssertEqual(try GreedyGrouping.owners(similarity: m, delta: 0), [0, 0, 0, 0, 0])
        XCTAssertThrowsError(try GreedyGrouping.owners(similarity: m, delta: 1.5))
        XCTAssertThrowsError(try GreedyGrouping.owners(similarity: m, delta: -0.1))
        XCTAssertThrowsError(try GreedyGrouping.owners(similarity: [[1, 0]], delta: 0.5), "not square")
    }

    func testMeanOwnerSimilarity() {
        let m = Self.matrix(3, [(0, 1, 0.8), (0, 2, 0.6), (1, 2, 0.1)])
        XCTAssertEqual(GreedyGrouping.meanOwnerSimilarity(owners: [[0, 0, 0]], similarity: [m]), 0.7, accuracy: 1e-12)
        XCTAssertEqual(GreedyGrouping.meanOwnerSimilarity(owners: [[0, 1, 2]], similarity: [m]), 1)
    }

    // MARK: Savings and the target-saving rule

    static let fingerprint = ModelFingerprint(architecture: "llama", layerCount: 6, headCount: 4, kvHeadCount: 2, headDim: 16, digest: "")

    func testSavingMatchesPoDFormula() throws {
        // POD.md §6: saving = ½ (1 - mean(B)/L) (n_d / n). Groups of 2 over 6 layers: B = 3.
        let plan = try PoDPlan.uniform(groupSize: 2, model: Self.fingerprint)
        let n = 4096, np = 16 + 1024
        let expected = 0.5 * (1 - 3.0 / 6) * Double(n - np) / Double(n)
        XCTAssertEqual(PlanSavings.saving(plan: plan, sink: 16, window: 1024, contextLength: n), expected, accuracy: 1e-12)
        // Below the proximal size nothing is distant, nothing saved.
        XCTAssertEqual(PlanSavings.saving(plan: plan, sink: 16, window: 1024, contextLength: 1000), 0, accuracy: 1e-12)
        XCTAssertEqual(PlanSavings.reportedContexts(modelContextLength: 8192), [2048, 4096, 8192])
        XCTAssertEqual(PlanSavings.reportedContexts(modelContextLength: 32768), [2048, 4096, 8192, 16384, 32768])
        XCTAssertEqual(PlanSavings.reportedContexts(modelContextLength: 131072), [2048, 4096, 8192, 16384, 32768])
        XCTAssertEqual(PlanSavings.reportedContexts(modelContextLength: 1024), [1024])
    }

    static var twoHeads: [[[Double]]] {
        [matrix(6, [(0, 1, 0.9), (0, 2, 0.7), (0, 3, 0.2), (3, 4, 0.6), (3, 5, 0.4), (1, 2, 0.8), (4, 5, 0.5)]),
         matrix(6, [(0, 1, 0.3), (1, 2, 0.85), (1, 3, 0.75), (1, 4, 0.1), (4, 5, 0.55), (2, 3, 0.9)])]
    }

    func testTargetSavingPicksTheLargestDeltaThatMeetsIt() throws {
        let sim = Self.twoHeads
        let n = 4096, sink = 16, window = 256
        for target in [0.05, 0.15, 0.25, 0.35] {
            let found = try PlanBuilder.deltaForTarget(similarity: sim, model: Self.fingerprint, saving: target,
                                                       contextLength: n, sink: sink, window: window)
            let owners = try GreedyGrouping.owners(similarity: sim, delta: found.delta)
            let saving = PlanSavings.saving(plan: PoDPlan(model: Self.fingerprint, owners: owners), sink: sink, window: window, contextLength: n)
            XCTAssertGreaterThanOrEqual(saving, target)
            XCTAssertEqual(saving, found.saving, accuracy: 1e-12)
            // No higher delta (a plan closer to the full cache) reaches the target.
            let higher = Set(sim.flatMap { $0.flatMap { $0 } } + [1]).filter { $0 > found.delta }
            for d in higher {
                let o = try GreedyGrouping.owners(similarity: sim, delta: d)
                XCTAssertLessThan(PlanSavings.saving(plan: PoDPlan(model: Self.fingerprint, owners: o), sink: sink, window: window, contextLength: n), target)
            }
        }
        // One block per head saves ½ (1 - 1/6) (n_d/n) at most.
        XCTAssertThrowsError(try PlanBuilder.deltaForTarget(similarity: sim, model: Self.fingerprint, saving: 0.45,
                                                            contextLength: n, sink: sink, window: window)) { error in
            guard case CalibrationError.unreachableTarget = error else { return XCTFail("\(error)") }
        }
    }

    func testPlanBuilderRecordsSettingsSavingsAndValidates() throws {
        let settings = CalibrationSettings(samples: 2, tokens: 512, queries: 8, sink: 16, window: 256,
                                           grouping: .targetSaving(0.2, contextLength: 4096))
        let choice = try PlanBuilder.build(similarity: Self.twoHeads, model: Self.fingerprint, modelContextLength: 8192,
                                           settings: settings, extraSettings: ["data": "x.txt"])
        XCTAssertGreaterThanOrEqual(choice.targetSaving ?? 0, 0.2)
        XCTAssertEqual(choice.plan.settings["target-saving"], "0.2")
        XCTAssertEqual(choice.plan.settings["context-length"], "4096")
        XCTAssertEqual(choice.plan.settings["window"], "256")
        XCTAssertEqual(choice.plan.settings["data"], "x.txt")
        XCTAssertEqual(choice.plan.savings?.map(\.contextLength), [2048, 4096, 8192])
        XCTAssertEqual(choice.plan.savings?[1].saving ?? 0, choice.targetSaving ?? -1, accuracy: 1e-12)
        XCTAssertEqual(choice.plan.similarity, Self.twoHeads)
        XCTAssertNoThrow(try choice.plan.validate(for: Self.fingerprint))
        XCTAssertThrowsError(try PlanBuilder.build(similarity: [Self.twoHeads[0]], model: Self.fingerprint, modelContextLength: 8192,
                                                   settings: settings), "one matrix for two KV heads")
    }

    func testSettingsValidation() {
        func check(_ s: CalibrationSettings) throws { try s.validate(modelContextLength: 8192) }
        XCTAssertNoThrow(try check(CalibrationSettings()))
        XCTAssertThrowsError(try check(CalibrationSettings(samples: 0)))
        XCTAssertThrowsError(try check(CalibrationSettings(tokens: 10000)))
        XCTAssertThrowsError(try check(CalibrationSettings(tokens: 1100, queries: 128)), "first scored position has no distant tokens")
        XCTAssertThrowsError(try check(CalibrationSettings(grouping: .delta(2))))
        XCTAssertThrowsError(try check(CalibrationSettings(grouping: .targetSaving(0.6, contextLength: 4096))))
        XCTAssertThrowsError(try check(CalibrationSettings(grouping: .targetSaving(0.2, contextLength: 0))))
    }
}
