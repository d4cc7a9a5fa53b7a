import PodKV
import PodKVTestSupport
import XCTest
@testable import PodKVEval

/// Task generators: answers really present, seeded determinism, lengths and needle depth in tokens.
final class EvalGeneratorTests: XCTestCase {
    func testFillerIsSeededAndPrefixStable() {
        let a = FillerGenerator(seed: 7).sentences(50), b = FillerGenerator(seed: 7).sentences(20)
        XCTAssertEqual(Array(a.prefix(20)), b)
        XCTAssertNotEqual(a, FillerGenerator(seed: 8).sentences(50))
        XCTAssertTrue(a.allSatisfy { $0.hasSuffix(".") && !$0.contains(where: \.isNumber) })
    }

    func testNeedleNumberDependsOnSeed() {
        XCTAssertEqual(Needle.magicNumber(seed: 1), Needle.magicNumber(seed: 1))
        let numbers = Set((0..<20).map { Needle.magicNumber(seed: UInt64($0)).answer })
        XCTAssertGreaterThan(numbers.count, 15)
        let n = Needle.magicNumber(seed: 3)
        XCTAssertTrue(n.text.contains(n.answer))
        XCTAssertEqual(n.answer.count, 5)
    }

    func testSentenceSplitting() {
        XCTAssertEqual(Haystack.splitSentences("One two.  Three?\n\nFour 4.5 five! Six"), ["One two.", "Three?", "Four 4.5 five!", "Six"])
    }

    /// The needle lands at the requested depth measured in tokens, and the prompt fits the length.
    func testNeedleDepthInTokensTinyModel() throws {
        let model = EvalFixtures.tinyModel
        let needle = Needle.magicNumber(seed: 4)
        let builder = NIAHPromptBuilder(model: model, haystack: .generated(seed: 2), needle: needle)
        for depth in [0.0, 10, 25, 50, 75, 90, 100] {
            let p = try builder.build(length: 1500, depth: depth)
            XCTAssertLessThanOrEqual(p.tokens.count, 1500)
            XCTAssertGreaterThan(p.tokens.count, 1400, "the haystack should fill the length")
            XCTAssertEqual(p.measuredDepth, depth, accuracy: 5, "depth \(depth)")
            // Byte vocabulary: the needle's bytes start exactly at needlePosition.
            let text = model.tokenizer.decode(Array(p.tokens[p.needlePosition..<(p.needlePosition + p.needleTokens)]))
            XCTAssertEqual(text.trimmingCharacters(in: .whitespaces), needle.text)
        }
    }

    /// Same on a real BPE tokenizer, with essays as the haystack (read in place).
    func testNeedleDepthInTokensRealTokenizer() throws {
        let model = try LanguageModel(path: try TestData.modelPath("smollm2-135m"), threads: 1)
        let builder = NIAHPromptBuilder(model: model, haystack: .files(TestData.essays), needle: Needle.magicNumber(seed: 9))
        for depth in [10.0, 50, 90] {
            let p = try builder.build(length: 2000, depth: depth)
            XCTAssertLessThanOrEqual(p.tokens.count, 2000)
            XCTAssertGreaterThan(p.tokens.count, 1900)
            XCTAssertEqual(p.measuredDepth, depth, accuracy: 3, "depth \(depth)")
            let around = model.tokenizer.decode(Array(p.tokens[max(0, p.needlePosition - 1)..<(p.needlePosition + p.needleTokens + 1)]))
            XCTAssertTrue(around.contains("special magic number is"), around)
        }
    }

    /// Every RULER task: expected answers present in the prompt, fits the length, seeded.
    func testRulerTasksContainTheirAnswers() throws {
        let model = EvalFixtures.tinyModel
        for task in RulerTask.allCases {
            let s = try RulerSample.make(task, length: 1200, seed: 11, model: model)
            XCTAssertLessThanOrEqual(s.tokens.count, 1200, "\(task)")
            XCTAssertGreaterThan(s.tokens.count, 900, "\(task) should fill the length")
            XCTAssertFalse(s.expected.isEmpty)
            let context = s.text.components(separatedBy: "\n\n").dropFirst().first ?? ""
            for e in s.expected { XCTAssertTrue(context.contains(e), "\(task): \(e) missing from the context") }
            let again = try RulerSample.make(task, length: 1200, seed: 11, model: model)
            XCTAssertEqual(again.tokens, s.tokens, "\(task) is not deterministic")
            let other = try RulerSample.make(task, length: 1200, seed: 12, model: model)
            XCTAssertNotEqual(other.expected, s.expected, "\(task) ignores its seed")
        }
    }

    func testRulerTaskSemantics() throws {
        let model = EvalFixtures.tinyModel
        // Variable tracking: the chain really links every expected name to the value, in order.
        let vt = try RulerSample.make(.variableTracking, length: 1000, seed: 5, model: model)
        var previous = vt.expected[0]
        XCTAssertTrue(vt.text.range(of: "VAR \(previous) = ") != nil)
        for name in vt.expected.dropFirst() {
            XCTAssertTrue(vt.text.contains("VAR \(name) = VAR \(previous)."), "\(name) <- \(previous)")
            previous = name
        }
        // Common words: each expected word occurs more often than any other word of the list.
        let cw = try RulerSample.make(.commonWords, length: 1500, seed: 5, model: model)
        var counts: [String: Int] = [:]
        for w in cw.text.split(whereSeparator: { $0 == " " || $0 == "\n" }) where w.allSatisfy(\.isLetter) { counts[String(w), default: 0] += 1 }
        let minCommon = cw.expected.map { counts[$0] ?? 0 }.min()!
        let maxRare = counts.filter { !cw.expected.contains($0.key) && $0.key.count > 3 && $0.key.lowercased() == $0.key }.map(\.value).max() ?? 0
        XCTAssertGreaterThan(minCommon, maxRare)
        // Multi-key: the asked key's value is expected, and the distractor values are in the text too.
        let mk = try RulerSample.make(.niahMultiKey, length: 1000, seed: 5, model: model)
        XCTAssertEqual(mk.expected.count, 1)
        XCTAssertEqual(mk.text.components(separatedBy: "The special magic number for").count - 1, 4 + 1)  // 4 facts + the answer prefix
    }

    func testPolicyListParsing() throws {
        let p = try EvalPolicy.parseList(["full,streaming-llm:window=256,pod:window=256,group-size=2", "window:window=64"])
        XCTAssertEqual(p.map(\.label), ["full", "streaming-llm:window=256", "pod:window=256,group-size=2", "window:window=64"])
        XCTAssertThrowsError(try EvalPolicy.parseList(["full,full"]))
        XCTAssertThrowsError(try EvalPolicy.parseList(["window=3"]))
        XCTAssertThrowsError(try EvalPolicy.parseList(["pod:bogus=1"]))
        XCTAssertThrowsError(try EvalPolicy.parseList(["nosuch"]))
    }
}
