import Foundation
import PodKV
import PodKVTestSupport
import XCTest
@testable import PodKVEval

/// Runs end to end: outputs exist and parse, resumption does no new trials, KL of full vs full is zero.
final class EvalRunTests: XCTestCase {
    func testNIAHGridResumesAndWritesOutputs() throws {
        let dir = EvalFixtures.scratchDir()
        let model = EvalFixtures.tinyModel
        let config = NIAHConfig(
            lengths: [500, 600], depths: [0, 50, 100],
            policies: try EvalPolicy.parseList(["full,streaming-llm:sink=4,window=32"]), maxAnswerTokens: 4, seed: 3)
        let runner = NIAHRunner(model: model, modelName: "tiny", config: config)
        let url = dir.appendingPathComponent(EvalReport.niahFile)
        var statusLines: [String] = []
        let first = try runner.run(log: try TrialLog(url: url), status: { statusLines.append($0) })
        XCTAssertEqual(first.count, 12)
        XCTAssertTrue(statusLines.last!.contains("[12/12]") && statusLines.last!.contains("ETA"), statusLines.last!)
        // Second run: every trial is found in the JSONL, nothing is redone.
        let second = try runner.run(log: try TrialLog(url: url))
        XCTAssertEqual(second.count, 0)
        // Every line is a JSON object with the documented fields.
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 12)
        for line in lines {
            let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            for key in ["policy", "length", "depth", "answer", "expected", "score", "kv_bytes", "prompt_tokens", "measured_depth", "prefill_seconds"] {
                XCTAssertNotNil(obj[key], "missing \(key) in \(line)")
            }
            let score = obj["score"] as! Double
            XCTAssertTrue((0...1).contains(score))
        }
        let rows = try TrialLog.rows(NIAHTrial.self, at: url)
        let streaming = rows.filter { $0.policy.hasPrefix("streaming") }
        let full = rows.filter { $0.policy == "full" }
        XCTAssertLessThan(streaming[0].kvBytes!, full[0].kvBytes!)
        XCTAssertEqual(streaming[0].kvFormulaBytes!, 2 * 4 * 2 * 36 * 16 * 2)  // 2 (K,V) x layers x kvHeads x (4+32) x headDim x f16
        // A crash mid-write leaves half a line: it is ignored and that trial is redone.
        let handle = try FileHandle(forWritingTo: url)
        _ = try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"trial_key\": \"niah|tin".utf8))
        try handle.close()
        XCTAssertEqual(try TrialLog(url: url).completed.count, 12)

        let written = try EvalReport.write(dir: dir)
        let report = try String(contentsOfFile: written[0], encoding: .utf8)
        XCTAssertTrue(report.contains("## Needle in a haystack") && report.contains("streaming-llm:sink=4,window=32"))
        XCTAssertEqual(written.count, 3)
        for png in written.dropFirst() {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: png)))
            XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            XCTAssertEqual(Array(bytes[12..<16]), Array("IHDR".utf8))
            XCTAssertTrue(report.contains(URL(fileURLWithPath: png).lastPathComponent))
        }
    }

    func testBudgetedNIAHReportsBytesAndSkipsWhatCannotFit() throws {
        let dir = EvalFixtures.scratchDir()
        let config = NIAHConfig(
            lengths: [600], depths: [50], policies: try EvalPolicy.parseList(["full,streaming-llm,pod"]),
            budget: .ratio(0.3), maxAnswerTokens: 4)
        let rows = try NIAHRunner(model: EvalFixtures.tinyModel, modelName: "tiny", config: config)
            .run(log: try TrialLog(url: dir.appendingPathComponent(EvalReport.niahFile)))
        XCTAssertEqual(rows.count, 3)
        let byPolicy = Dictionary(uniqueKeysWithValues: rows.map { ($0.policy, $0) })
        XCTAssertEqual(byPolicy["full"]!.note, "reference, over budget")
        XCTAssertNotNil(byPolicy["full"]!.score)
        let s = byPolicy["streaming-llm"]!
        XCTAssertLessThanOrEqual(s.kvFormulaBytes!, s.budgetBytes!)
        XCTAssertNotEqual(s.policySpec, "streaming-llm")
        XCTAssertNil(byPolicy["pod"]!.score)
        XCTAssertTrue(byPolicy["pod"]!.note!.contains("cannot hold"))
    }

    func testPerplexityFullIsExactReferenceAndStreamingDiverges() throws {
        let model = EvalFixtures.tinyModel
        let text = FillerGenerator(seed: 1).sentences(40).joined(separator: " ")
        let config = PerplexityConfig(context: 400, scoreLast: 150, policies: try EvalPolicy.parseList(["full,streaming-llm:sink=4,window=32"]))
        let results = try PerplexityRunner(model: model, modelName: "tiny", config: config).run(texts: [("filler", text), ("short", "too short")])
        XCTAssertEqual(results.count, 2)
        let full = results[0], streaming = results[1]
        XCTAssertEqual(full.tokensScored, 150)
        XCTAssertEqual(full.texts, 1)
        XCTAssertEqual(full.kl, 0, accuracy: 1e-9)
        XCTAssertEqual(full.top1Agreement, 1)
        XCTAssertTrue(full.ppl.isFinite && full.ppl > 1)
        XCTAssertGreaterThan(streaming.kl, 1e-4)
        XCTAssertGreaterThanOrEqual(streaming.klMax, streaming.klP99)
        XCTAssertGreaterThanOrEqual(streaming.klP99, streaming.klMedian)
        XCTAssertLessThan(streaming.kvBytes, full.kvBytes)
        // JSON fields scripts rely on.
        let obj = try JSONSerialization.jsonObject(with: JSONEncoder().encode(streaming)) as! [String: Any]
        for key in ["policy", "tokens_scored", "ppl", "kl", "top1_agreement", "kv_bytes"] { XCTAssertNotNil(obj[key], key) }
    }

    func testRulerRunResumes() throws {
        let dir = EvalFixtures.scratchDir()
        let config = RulerConfig(tasks: [.niahSingleNumber, .variableTracking], lengths: [800], samples: 2,
                                 policies: try EvalPolicy.parseList(["full"]), seed: 2)
        let url = dir.appendingPathComponent(EvalReport.rulerFile)
        let runner = RulerRunner(model: EvalFixtures.tinyModel, modelName: "tiny", config: config)
        XCTAssertEqual(try runner.run(log: try TrialLog(url: url)).count, 4)
        XCTAssertEqual(try runner.run(log: try TrialLog(url: url)).count, 0)
        let report = try String(contentsOfFile: try EvalReport.write(dir: dir)[0], encoding: .utf8)
        XCTAssertTrue(report.contains("variable_tracking"))
    }

    /// The tiny end-to-end run on SmolLM2: one short NIAH trial with the full cache finds the needle.
    func testSmolLM2FindsShortNeedle() throws {
        let model = try LanguageModel(path: try TestData.modelPath("smollm2-135m"))
        let config = NIAHConfig(lengths: [512], depths: [50], policies: [EvalPolicy(PolicySpec(name: "full"))], seed: 1)
        let rows = try NIAHRunner(model: model, modelName: "smollm2-135m", config: config)
            .run(log: try TrialLog(url: EvalFixtures.scratchDir().appendingPathComponent(EvalReport.niahFile)))
        XCTAssertEqual(rows.first?.score, 1, rows.first?.answer ?? "")
    }
}
