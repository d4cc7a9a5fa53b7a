import Foundation
import PodKV
import PodKVTestSupport
import XCTest
@testable import PodKVEval

/// The real check: Qwen2.5-Coder-0.5B with the full cache finds a needle in a ~2K-token haystack of
/// Paul Graham essays (read in place) at 10, 50 and 90% depth.
final class EvalRealModelTests: XCTestCase {
    func testQwenFullCacheFindsNeedleInEssays() throws {
        let model = try LanguageModel(path: try TestData.modelPath("qwen2.5-coder-0.5b"))
        let config = NIAHConfig(
            lengths: [2000], depths: [10, 50, 90], policies: [EvalPolicy(PolicySpec(name: "full"))],
            haystack: .files(TestData.essays), seed: 7)
        let rows = try NIAHRunner(model: model, modelName: "qwen2.5-coder-0.5b", config: config)
            .run(log: try TrialLog(url: EvalFixtures.scratchDir().appendingPathComponent(EvalReport.niahFile)))
        XCTAssertEqual(rows.count, 3)
        for r in rows {
            XCTAssertEqual(r.score, 1, "depth \(r.depth): answered '\(r.answer)', expected \(r.expected)")
            XCTAssertGreaterThan(r.promptTokens, 1900)
            XCTAssertEqual(r.measuredDepth, r.depth, accuracy: 3)
        }
    }
}
