import Foundation
import XCTest
import PodKVTokenizer

/// SentencePiece BPE on a small synthetic vocabulary; expected ids are derived by hand from the
/// scores (highest-scoring adjacent pair whose text is a token merges first).
final class SentencePieceTests: XCTestCase {
    /// ids: 0 <unk>, 1 <s>, 2 </s>, 3...258 <0x00>...<0xFF>, then the pieces below in order.
    static let pieces: [(String, Float)] = [
        ("▁", -1), ("h", -2), ("e", -2), ("l", -2), ("o", -2), ("w", -2), ("r", -2), ("d", -2),
        ("ll", -3), ("he", -4), ("hell", -5), ("hello", -6), ("▁hello", -7), ("▁w", -8), ("or", -9),
        ("▁wor", -10), ("ld", -11), ("▁world", -12),
        ("x", -2), ("y", -2), ("z", -2), ("xy", -20), ("yz", -15),
    ]

    static func data(addSpacePrefix: Bool? = nil) -> TokenizerData {
        var tokens = ["<unk>", "<s>", "</s>"]
        var types: [TokenType] = [.unknown, .control, .control]
        var scores: [Float] = [0, 0, 0]
        for byte in 0..<256 {
            tokens.append(String(format: "<0x%02X>", byte))
            types.append(.byte)
            scores.append(0)
        }
        for (text, score) in pieces {
            tokens.append(text)
            types.append(.normal)
            scores.append(score)
        }
        return TokenizerData(model: "llama", tokens: tokens, tokenTypes: types, scores: scores,
                             bosID: 1, eosID: 2, unknownID: 0, addSpacePrefix: addSpacePrefix)
    }

    private var tokenizer: any Tokenizer { try! makeTokenizer(Self.data()) }

    private func id(_ piece: String) -> Int {
        259 + Self.pieces.firstIndex { $0.0 == piece }!
    }

    func testMergesByScoreIntoWholeWords() {
        // "▁hello▁world": ll(-3), he(-4), hell(-5), hello(-6), ▁hello(-7), ▁w(-8), or(-9),
        // ▁wor(-10), ld(-11), ▁world(-12).
        XCTAssertEqual(tokenizer.encode("hello world", parseSpecial: false), [id("▁hello"), id("▁world")])
    }

    func testHigherScoreWinsOverLeftmost() {
        // "▁xyz": "xy" (-20) and "yz" (-15) compete; "yz" scores higher, so x stays alone.
        XCTAssertEqual(tokenizer.encode("xyz", parseSpecial: false), [id("▁"), id("x"), id("yz")])
    }

    func testEqualScoresMergeLeftmostFirst() {
        // "▁lll": both "ll" pairs score -3; the left one merges, the last l stays.
        XCTAssertEqual(tokenizer.encode("lll", parseSpecial: false), [id("▁"), id("ll"), id("l")])
    }

    func testByteFallbackForUnknownCharacters() {
        // "é" is not a piece: its UTF-8 bytes C3 A9 become <0xC3> <0xA9> (ids 3 + byte).
        let ids = tokenizer.encode("hé", parseSpecial: false)
        XCTAssertEqual(ids, [id("▁"), id("h"), 3 + 0xC3, 3 + 0xA9])
        XCTAssertEqual(tokenizer.decode(ids), "hé")
    }

    func testSpacePrefixAndBOS() throws {
        XCTAssertTrue(tokenizer.addBOS, "SentencePiece adds BOS by default")
        XCTAssertEqual(tokenizer.encodePrompt("hello"), [1, id("▁hello")])
        let noPrefix = try makeTokenizer(Self.data(addSpacePrefix: false))
        XCTAssertEqual(noPrefix.encode("hello", parseSpecial: false), [id("hello")])
    }

    func testSpecialTokensAndPrefixAfterThem() {
        // Parsed: <s> is a token and the text after it gets its own "▁" prefix.
        XCTAssertEqual(tokenizer.encode("<s>hello", parseSpecial: true), [1, id("▁hello")])
        // Not parsed: "<", "s", ">" are not pieces, so they fall back to bytes.
        XCTAssertEqual(tokenizer.encode("<s>hello", parseSpecial: false),
                       [id("▁"), 3 + 0x3C, 3 + 0x73, 3 + 0x3E, id("hello")])
    }

    func testDecodeRemovesOnlyThePrefixSpace() {
        for text in ["hello world", " hello", "xyz  lll", "hé wo"] {
            XCTAssertEqual(tokenizer.decode(tokenizer.encode(text, parseSpecial: false)), text)
        }
        XCTAssertEqual(tokenizer.pieceBytes(id("▁world")), Array(" world".utf8))
        XCTAssertEqual(tokenizer.decode([1, id("▁hello"), 2]), "<s>hello</s>")
    }

    func testMissingScoresIsAnError() {
        var data = Self.data()
        data.scores = nil
        XCTAssertThrowsError(try makeTokenizer(data)) { error in
            XCTAssertEqual(error as? TokenizerError, .missingKey("tokenizer.ggml.scores"))
        }
    }
}
