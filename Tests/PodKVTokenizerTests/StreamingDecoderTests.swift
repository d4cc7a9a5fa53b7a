import XCTest
import PodKVTokenizer

final class StreamingDecoderTests: XCTestCase {
    /// Streams `ids` one by one and returns every step's output.
    private func stream(_ tokenizer: any Tokenizer, _ ids: [Int]) -> (steps: [String], flushed: String) {
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        let steps = ids.map { decoder.append($0) }
        return (steps, decoder.flush())
    }

    func testRealVocabulariesStreamMultiByteTextLikeFullDecode() throws {
        let texts = ["emoji 😀🎉👍🏽 done", "中文测试，你好世界。", "日本語のテキスト", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math", "Привет, мир!"]
        for model in ["smollm2-135m", "qwen2.5-coder-0.5b"] {
            let tokenizer = try TestModels.tokenizer(model)
            var heldBack = 0
            for text in texts {
                let ids = tokenizer.encode(text, parseSpecial: false)
                let (steps, flushed) = stream(tokenizer, ids)
                XCTAssertEqual(steps.joined() + flushed, tokenizer.decode(ids), "\(model): \(text)")
                XCTAssertEqual(steps.joined(), text, "\(model): nothing should be left for flush")
                XCTAssertFalse(steps.joined().contains("\u{FFFD}"), "\(model): no replacement characters")
                heldBack += steps.filter(\.isEmpty).count
            }
            // The emoji and CJK texts split characters across tokens in both vocabularies, so
            // some steps must have held their bytes back.
            XCTAssertGreaterThan(heldBack, 0, "\(model): no character was split across tokens")
        }
    }

    func testHoldsBackSplitCharacterUntilComplete() throws {
        // Byte tokens of the synthetic SentencePiece vocabulary are ids 3 + byte.
        let tokenizer = try makeTokenizer(SentencePieceTests.data())
        let emoji = Array("😀".utf8).map { 3 + Int($0) }  // F0 9F 98 80
        let (steps, flushed) = stream(tokenizer, [3 + 0x61] + emoji + [3 + 0x62])
        XCTAssertEqual(steps, ["a", "", "", "", "😀", "b"])
        XCTAssertEqual(flushed, "")
    }

    func testFlushReleasesAnUnfinishedCharacter() throws {
        let tokenizer = try makeTokenizer(SentencePieceTests.data())
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        XCTAssertEqual(decoder.append(3 + 0xE4), "")  // first byte of a 3-byte CJK character
        XCTAssertEqual(decoder.append(3 + 0xB8), "")
        XCTAssertEqual(decoder.flush(), "\u{FFFD}")
        XCTAssertEqual(decoder.append(3 + 0x41), "A", "flush starts over")
    }
}
