import XCTest
@testable import PodKVEval

/// Scoring functions on hand-made answers (ROUGE-L values computed by hand in the comments).
final class EvalScoringTests: XCTestCase {
    func testRougeLHandComputed() {
        // "the cat sat on the mat" vs "the cat is on the mat": LCS = the cat on the mat = 5 words.
        let r = AnswerScoring.rougeL(candidate: AnswerScoring.words("the cat sat on the mat"),
                                     reference: AnswerScoring.words("the cat is on the mat"))
        XCTAssertEqual(r.precision, 5.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(r.recall, 5.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(r.f1, 5.0 / 6, accuracy: 1e-12)
        // Lin (2004): "police killed the gunman" vs "the gunman police killed": LCS 2 of 4 -> 0.5.
        let lin = AnswerScoring.rougeL(candidate: AnswerScoring.words("the gunman police killed"),
                                       reference: AnswerScoring.words("police killed the gunman"))
        XCTAssertEqual(lin.f1, 0.5, accuracy: 1e-12)
        // 3 candidate words, 6 reference words, LCS "a sandwich park" = 3: P 1, R 0.5, F1 2/3.
        let part = AnswerScoring.rougeL(candidate: ["a", "sandwich", "park"],
                                        reference: AnswerScoring.words("eat a sandwich in Dolores Park"))
        XCTAssertEqual(part.precision, 1, accuracy: 1e-12)
        XCTAssertEqual(part.recall, 0.5, accuracy: 1e-12)
        XCTAssertEqual(part.f1, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(AnswerScoring.rougeL(candidate: [], reference: ["x"]).f1, 0)
    }

    func testContainmentAndPartialScore() {
        let hit = AnswerScoring.score(answer: "The special magic number is 48,213.", expected: "48213")
        XCTAssertTrue(hit.exact)
        XCTAssertEqual(hit.value, 1)
        let miss = AnswerScoring.score(answer: "The number is 48231.", expected: "48213")
        XCTAssertFalse(miss.exact)
        XCTAssertEqual(miss.value, 0)
        // Part of a multi-word needle: recall of the expected words (LCS a, sandwich, park = 3 of 6).
        let partial = AnswerScoring.score(answer: "Have a sandwich at the park.", expected: "eat a sandwich in Dolores Park")
        XCTAssertFalse(partial.exact)
        XCTAssertEqual(partial.value, 0.5, accuracy: 1e-12)
        // Word boundaries: "148213" does not contain the word "48213".
        XCTAssertFalse(AnswerScoring.score(answer: "148213", expected: "48213").exact)
        XCTAssertEqual(AnswerScoring.words("UUID 3f2a-09 B. x,y 4.5"), ["uuid", "3f2a", "09", "b", "x", "y", "45"])
    }

    func testFractionContained() {
        XCTAssertEqual(AnswerScoring.fractionContained(answer: "12345, 67890 and 11111", expected: ["12345", "67890", "22222", "11111"]), 0.75)
        XCTAssertEqual(AnswerScoring.fractionContained(answer: "anything", expected: []), 0)
    }

    func testLongestCommonSubsequence() {
        XCTAssertEqual(AnswerScoring.longestCommonSubsequence(["a", "b", "c", "b", "d", "a", "b"], ["b", "d", "c", "a", "b", "a"]), 4)
    }
}
