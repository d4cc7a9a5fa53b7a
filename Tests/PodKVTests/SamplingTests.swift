import Foundation
import XCTest

@testable import PodKV

final class SamplingTests: XCTestCase {
    /// Logits whose softmax is exactly `probabilities` (log-probabilities shifted by a constant).
    private func logits(probabilities: [Double]) -> [Float] {
        probabilities.map { Float(log($0)) + 3 }
    }

    /// How often each id is drawn in `draws` samples (the sampler keeps its state across draws).
    private func frequencies(_ sampler: inout Sampler, logits: [Float], draws: Int, history: [Int] = []) -> [Int: Double] {
        var counts: [Int: Int] = [:]
        for _ in 0..<draws { counts[sampler.sample(logits: logits, history: history), default: 0] += 1 }
        return counts.mapValues { Double($0) / Double(draws) }
    }

    /// Reproducible random logits of a large vocabulary (like qwen2's 151,936).
    private func randomLogits(count: Int, seed: UInt64) -> [Float] {
        var generator = Xoshiro256StarStar(seed: seed)
        return (0..<count).map { _ in Float(generator.nextUnitInterval() * 20 - 10) }
    }

    // MARK: Greedy

    func testGreedyPicksArgmax() throws {
        var sampler = try Sampler(options: .greedy)
        XCTAssertEqual(sampler.sample(logits: [0.1, 2.5, -3, 2.4], history: []), 1)
        let large = randomLogits(count: 151_936, seed: 7)
        let expected = large.indices.max { large[$0] < large[$1] }!
        XCTAssertEqual(sampler.sample(logits: large, history: []), expected)
    }

    func testGreedyBreaksTiesByLowestId() throws {
        var sampler = try Sampler(options: .greedy)
        XCTAssertEqual(sampler.sample(logits: [1, 5, 3, 5, 5], history: []), 1)
        XCTAssertEqual(sampler.sample(logits: [.nan, 2, .nan, 2], history: []), 1, "NaN must never win")
        XCTAssertEqual(sampler.sample(logits: [-.infinity, -.infinity], history: []), 0)
    }

    // MARK: Determinism

    func testSameSeedGivesSameSequence() throws {
        let logits = randomLogits(count: 2000, seed: 3)
        func run(seed: UInt64) throws -> [Int] {
            var sampler = try Sampler(options: SamplingOptions(temperature: 1.2, topK: 0, topP: 0.98, minP: 0, seed: seed))
            return (0..<100).map { _ in sampler.sample(logits: logits, history: []) }
        }
        XCTAssertEqual(try run(seed: 42), try run(seed: 42))
        XCTAssertNotEqual(try run(seed: 42), try run(seed: 43))
    }

    func testGeneratorMatchesReferenceXoshiro256StarStar() {
        // Expected values come from the authors' C code (splitmix64.c seeding, xoshiro256starstar.c),
        // transcribed into a throwaway C file and compiled with gcc; the first splitmix64 output for
        // seed 0, 0xE220A8397B1DCDAF, is the widely quoted one, which checks the seeding half.
        var zero = Xoshiro256StarStar(seed: 0)
        XCTAssertEqual((0..<3).map { _ in zero.next() }, [0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A, 0x1A5F_849D_4933_E6E0])
        var fortyTwo = Xoshiro256StarStar(seed: 42)
        XCTAssertEqual(
            (0..<3).map { _ in fortyTwo.next() }, [0x1578_0B2E_0C2E_C716, 0x6104_D986_6D11_3A7E, 0xAE17_5332_39E4_99A1])
        var unit = Xoshiro256StarStar(seed: 1)
        for _ in 0..<1000 {
            let value = unit.nextUnitInterval()
            XCTAssertTrue(value >= 0 && value < 1)
        }
    }

    // MARK: Top-k, top-p, min-p

    func testTopKOneEqualsGreedy() throws {
        let logits = randomLogits(count: 151_936, seed: 11)
        var greedy = try Sampler(options: .greedy)
        let expected = greedy.sample(logits: logits, history: [])
        for seed in 0..<5 as Range<UInt64> {
            var sampler = try Sampler(options: SamplingOptions(temperature: 2, topK: 1, topP: 1, minP: 0, seed: seed))
            for _ in 0..<20 { XCTAssertEqual(sampler.sample(logits: logits, history: []), expected) }
        }
    }

    func testTopKKeepsOnlyTheKBestTokens() throws {
        let logits = randomLogits(count: 151_936, seed: 5)
        let best = Set(logits.indices.sorted { logits[$0] > logits[$1] }.prefix(3))
        var sampler = try Sampler(options: SamplingOptions(temperature: 30, topK: 3, topP: 1, minP: 0, seed: 1))
        let seen = frequencies(&sampler, logits: logits, draws: 60)
        XCTAssertEqual(Set(seen.keys), best)
    }

    func testTopPKeepsTheSmallestPrefixReachingP() throws {
        // Cumulative 0.5, 0.8, 0.95, 1.0: top-p 0.75 keeps ids 0 and 1, renormalized to 0.625 / 0.375.
        var sampler = try Sampler(options: SamplingOptions(temperature: 1, topK: 0, topP: 0.75, minP: 0, seed: 9))
        let seen = frequencies(&sampler, logits: logits(probabilities: [0.5, 0.3, 0.15, 0.05]), draws: 20_000)
        XCTAssertEqual(Set(seen.keys), [0, 1])
        XCTAssertEqual(seen[0] ?? 0, 0.625, accuracy: 0.015)
        XCTAssertEqual(seen[1] ?? 0, 0.375, accuracy: 0.015)
    }

    func testTopPOverALargeVocabularyLooksPastTheFirstBatch() throws {
        // Three heavy tokens (0.4, 0.3, 0.2) and 4,997 equal light ones sharing 0.1 (2.0e-5 each).
        // Top-p 0.95 needs about 2,499 light tokens after the heavy ones (cumulative 0.9): more than the
        // first selection batch of 256, so the sampler must look past them. Equal logits rank by lowest
        // id, so the kept light tokens are the lowest ids.
        let light = 0.1 / 4997
        var probabilities = [Double](repeating: light, count: 5000)
        probabilities[4000] = 0.4
        probabilities[17] = 0.3
        probabilities[2500] = 0.2
        var sampler = try Sampler(options: SamplingOptions(temperature: 1, topK: 0, topP: 0.95, minP: 0, seed: 4))
        let seen = frequencies(&sampler, logits: logits(probabilities: probabilities), draws: 5_000)
        let lightIds = seen.keys.filter { ![17, 2500, 4000].contains($0) }
        XCTAssertLessThanOrEqual(lightIds.max() ?? 0, 2505, "a light token beyond the top-p cut was drawn")
        XCTAssertGreaterThan(lightIds.filter { $0 > 256 }.count, 100, "the cut must reach past the first batch")
        // 5,000 draws: one standard deviation of each frequency is under 0.007.
        XCTAssertEqual(seen[4000] ?? 0, 0.4 / 0.95, accuracy: 0.025)
        XCTAssertEqual(seen[17] ?? 0, 0.3 / 0.95, accuracy: 0.025)
        XCTAssertEqual(seen[2500] ?? 0, 0.2 / 0.95, accuracy: 0.025)
    }

    func testMinPDropsTokensBelowAFractionOfTheBest() throws {
        // min-p 0.1 keeps p >= 0.05: ids 0, 1, 2 (0.5, 0.3, 0.15), renormalized over 0.95.
        var sampler = try Sampler(options: SamplingOptions(temperature: 1, topK: 0, topP: 1, minP: 0.1, seed: 2))
        let seen = frequencies(&sampler, logits: logits(probabilities: [0.5, 0.3, 0.15, 0.04, 0.01]), draws: 20_000)
        XCTAssertEqual(Set(seen.keys), [0, 1, 2])
        XCTAssertEqual(seen[0] ?? 0, 0.5 / 0.95, accuracy: 0.015)
        XCTAssertEqual(seen[2] ?? 0, 0.15 / 0.95, accuracy: 0.015)
    }

    func testTopKRunsBeforeTopP() throws {
        // After top-k 2 the probabilities are 0.4/0.7 = 0.571 and 0.429, so top-p 0.5 keeps only id 0.
        // Top-p on the full distribution (cumulative 0.4, 0.7) would have kept ids 0 and 1.
        var sampler = try Sampler(options: SamplingOptions(temperature: 1, topK: 2, topP: 0.5, minP: 0, seed: 8))
        let seen = frequencies(&sampler, logits: logits(probabilities: [0.4, 0.3, 0.2, 0.1]), draws: 2_000)
        XCTAssertEqual(Set(seen.keys), [0])
    }

    func testMinPRunsBeforeTemperature() throws {
        // min-p 0.6 on the raw probabilities keeps 0.4 and 0.3 (0.2 < 0.6 * 0.4). Temperature 3 then
        // flattens them to 0.4^(1/3) : 0.3^(1/3). Had temperature come first, the flattened 0.2 and 0.1
        // (relative 0.79 and 0.63) would have passed min-p too.
        var sampler = try Sampler(options: SamplingOptions(temperature: 3, topK: 0, topP: 1, minP: 0.6, seed: 8))
        let seen = frequencies(&sampler, logits: logits(probabilities: [0.4, 0.3, 0.2, 0.1]), draws: 20_000)
        XCTAssertEqual(Set(seen.keys), [0, 1])
        let (a, b) = (pow(0.4, 1.0 / 3), pow(0.3, 1.0 / 3))
        XCTAssertEqual(seen[0] ?? 0, a / (a + b), accuracy: 0.015)
    }

    func testTemperatureSharpensTheDistribution() throws {
        // Temperature 0.5 squares the probabilities: 0.6 / 0.4 becomes 0.36 / 0.16, i.e. 0.692 / 0.308.
        var sampler = try Sampler(options: SamplingOptions(temperature: 0.5, topK: 0, topP: 1, minP: 0, seed: 6))
        let seen = frequencies(&sampler, logits: logits(probabilities: [0.6, 0.4]), draws: 20_000)
        XCTAssertEqual(seen[0] ?? 0, 0.36 / 0.52, accuracy: 0.015)
    }

    // MARK: Repetition penalty

    func testRepetitionPenaltyDemotesRecentTokens() throws {
        var sampler = try Sampler(options: SamplingOptions(temperature: 0, repetitionPenalty: 1.5, repetitionWindow: 2))
        // Positive logit divided: 2.0 -> 1.33 falls below 1.9.
        XCTAssertEqual(sampler.sample(logits: [2.0, 1.9, -1], history: [0]), 1)
        // Negative logit multiplied: -1.0 -> -1.5 falls below -1.2.
        XCTAssertEqual(sampler.sample(logits: [-1.0, -1.2], history: [0]), 1)
        // Only the last `repetitionWindow` tokens count: token 0 is three steps back.
        XCTAssertEqual(sampler.sample(logits: [2.0, 1.9, -1], history: [0, 2, 2]), 0)
        // A repeated id is penalized once, and ids outside the vocabulary are ignored.
        XCTAssertEqual(sampler.sample(logits: [2.0, 1.0], history: [0, 0, 99, -1]), 0)
        var plain = try Sampler(options: .greedy)
        XCTAssertEqual(plain.sample(logits: [2.0, 1.9, -1], history: [0]), 0, "penalty 1 changes nothing")
    }

    func testPenaltyLowersTheEmpiricalFrequency() throws {
        let logits = logits(probabilities: [0.5, 0.5])
        var sampler = try Sampler(options: SamplingOptions(temperature: 1, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1.3, seed: 5))
        let seen = frequencies(&sampler, logits: logits, draws: 10_000, history: [0])
        // Both logits are log(0.5) + 3 = 2.307; token 0's becomes 2.307 / 1.3 = 1.775: odds e^-0.532.
        let expected = 1 / (1 + exp(Double(logits[1] - logits[0] / 1.3)))
        XCTAssertEqual(seen[0] ?? 0, expected, accuracy: 0.02)
    }

    func testUnsafeBufferEntryPointAppliesPenaltyInPlace() throws {
        var sampler = try Sampler(options: SamplingOptions(temperature: 0, repetitionPenalty: 2))
        var logits: [Float] = [4, 3]
        let id = logits.withUnsafeMutableBufferPointer { sampler.sample(logits: $0, history: [0]) }
        XCTAssertEqual(id, 1)
        XCTAssertEqual(logits, [2, 3])
    }

    // MARK: Validation

    func testValidationNamesTheBadOption() {
        let cases: [(SamplingOptions, String)] = [
            (SamplingOptions(temperature: -0.1), "temperature"),
            (SamplingOptions(temperature: .nan), "temperature"),
            (SamplingOptions(topK: -1), "topK"),
            (SamplingOptions(topP: 0), "topP"),
            (SamplingOptions(topP: 1.01), "topP"),
            (SamplingOptions(minP: -0.01), "minP"),
            (SamplingOptions(minP: 1.5), "minP"),
            (SamplingOptions(repetitionPenalty: 0), "repetitionPenalty"),
            (SamplingOptions(repetitionPenalty: .infinity), "repetitionPenalty"),
            (SamplingOptions(repetitionWindow: -1), "repetitionWindow"),
        ]
        for (options, name) in cases {
            XCTAssertThrowsError(try Sampler(options: options), name) { error in
                guard case .invalid(let option, _, _)? = error as? SamplingOptionsError else {
                    return XCTFail("unexpected error \(error)")
                }
                XCTAssertEqual(option, name)
                XCTAssertTrue("\(error)".contains("invalid sampling option \(name) = "), "\(error)")
            }
        }
        XCTAssertNoThrow(try SamplingOptions().validate())
        XCTAssertNoThrow(try SamplingOptions(temperature: 0, topK: 0, topP: 1, minP: 1, repetitionWindow: 0).validate())
    }

    // MARK: Speed on a qwen2-sized vocabulary

    func testLargeVocabularySamplingStaysCheap() throws {
        let logits = randomLogits(count: 151_936, seed: 21)
        let top40 = Set(logits.indices.sorted { logits[$0] > logits[$1] }.prefix(40))
        var sampler = try Sampler(options: SamplingOptions(seed: 1))
        let draws = 50
        let start = Date()
        for _ in 0..<draws { XCTAssertTrue(top40.contains(sampler.sample(logits: logits, history: []))) }
        let perDraw = Date().timeIntervalSince(start) / Double(draws)
        print("sampling 151,936 logits with default options (top-k 40): \(String(format: "%.3f", perDraw * 1000)) ms/token")

        // Without top-k, on a deliberately flat distribution (uniform logits: ~22k tokens pass min-p 0.05),
        // the worst case for the sort-the-survivors path.
        let best = logits.indices.max { logits[$0] < logits[$1] }!
        let floor = logits[best] + log(0.05)
        var flat = try Sampler(options: SamplingOptions(topK: 0, seed: 1))
        let flatStart = Date()
        for _ in 0..<draws { XCTAssertGreaterThanOrEqual(logits[flat.sample(logits: logits, history: [])], floor) }
        let flatPerDraw = Date().timeIntervalSince(flatStart) / Double(draws)
        print("sampling 151,936 flat logits, top-k off, top-p 0.95, min-p 0.05: \(String(format: "%.3f", flatPerDraw * 1000)) ms/token")
    }

    // MARK: Stop strings

    func testStopStringSplitAcrossChunksIsNotEmitted() throws {
        var matcher = try StopMatcher(stopStrings: ["<|im_end|>"])
        XCTAssertEqual(matcher.feed("Hello <|im"), .init(text: "Hello ", stopped: false))
        XCTAssertEqual(matcher.feed("_e"), .init(text: "", stopped: false))
        XCTAssertEqual(matcher.feed("nd|> trailing"), .init(text: "", stopped: true))
        XCTAssertEqual(matcher.feed("more"), .init(text: "", stopped: true))
        XCTAssertTrue(matcher.isStopped)
    }

    func testFalseStartIsReleased() throws {
        var matcher = try StopMatcher(stopStrings: ["<|im_end|>"])
        XCTAssertEqual(matcher.feed("a <|i"), .init(text: "a ", stopped: false))
        XCTAssertEqual(matcher.feed("nfo|> b"), .init(text: "<|info|> b", stopped: false))
        XCTAssertEqual(matcher.feed("<"), .init(text: "", stopped: false))
        XCTAssertEqual(matcher.finish(), "<", "held text is released when generation ends")
    }

    func testEarliestStopStringWinsAndTextBeforeItIsEmitted() throws {
        var matcher = try StopMatcher(stopStrings: ["STOP", "\n\n"])
        XCTAssertEqual(matcher.feed("one\n"), .init(text: "one", stopped: false))
        XCTAssertEqual(matcher.feed("\nSTOP"), .init(text: "", stopped: true))

        var other = try StopMatcher(stopStrings: ["world", "lo w"])
        XCTAssertEqual(other.feed("hello world"), .init(text: "hel", stopped: true))
    }

    func testStopMatchingWorksOnUnicodeScalars() throws {
        var matcher = try StopMatcher(stopStrings: ["🛑 end"])
        XCTAssertEqual(matcher.feed("café 🛑"), .init(text: "café ", stopped: false))
        XCTAssertEqual(matcher.feed(" en"), .init(text: "", stopped: false))
        XCTAssertEqual(matcher.feed("d"), .init(text: "", stopped: true))
    }

    func testNoStopStringsPassesEverythingThrough() throws {
        var matcher = try StopMatcher(stopStrings: [])
        XCTAssertEqual(matcher.feed("anything <|im_end|>"), .init(text: "anything <|im_end|>", stopped: false))
        XCTAssertEqual(matcher.finish(), "")
    }

    func testEmptyStopStringIsRejected() {
        XCTAssertThrowsError(try StopMatcher(stopStrings: ["</s>", ""])) { error in
            XCTAssertEqual(error as? StopMatcherError, .emptyStopString(index: 1))
            XCTAssertTrue("\(error)".contains("stop string #2 is empty"))
        }
    }
}
