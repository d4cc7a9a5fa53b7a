import XCTest
import PodKVTokenizer

/// What the loader reads from real models, and the errors it gives for what it cannot handle.
final class TokenizerLoadingTests: XCTestCase {
    private let tiny = TokenizerData(model: "gpt2", preTokenizer: "gpt2", tokens: ["a", "b", "ab"],
                                     merges: ["a b"])

    func testRealModelsSpecialIDs() throws {
        let smol = try TestModels.tokenizer("smollm2-135m")
        XCTAssertEqual(smol.vocabularySize, 49152)
        XCTAssertEqual(smol.bosID, 1)
        XCTAssertEqual(smol.eosID, 2)
        XCTAssertFalse(smol.addBOS)
        XCTAssertEqual(smol.id(forSpecial: "<|im_end|>"), 2)
        XCTAssertEqual(smol.endOfGenerationIDs, [0, 2], "<|endoftext|> and <|im_end|> (= EOS)")
        XCTAssertTrue(smol.isSpecial(1))
        XCTAssertFalse(smol.isSpecial(100))
        XCTAssertEqual((smol as? ByteLevelBPETokenizer)?.preTokenizer, .smollm)

        let qwen = try TestModels.tokenizer("qwen2.5-coder-0.5b")
        XCTAssertEqual(qwen.vocabularySize, 151936)
        XCTAssertEqual(qwen.eosID, 151645)
        XCTAssertEqual(qwen.paddingID, 151643)
        XCTAssertEqual(qwen.endOfGenerationIDs, [151643, 151645])
        XCTAssertEqual(qwen.tokenText(151657), "<tool_call>")
        XCTAssertNil(qwen.tokenText(151936))
        XCTAssertEqual(qwen.pieceBytes(-1), [])
        XCTAssertEqual((qwen as? ByteLevelBPETokenizer)?.preTokenizer, .qwen2)
    }

    func testUserDefinedTokensMatchEvenWithoutParseSpecial() throws {
        // <tool_call> is GGUF type 4 (user-defined) in Qwen2.5: llama.cpp always matches it,
        // while <|im_end|> (control) is matched only with parseSpecial.
        let qwen = try TestModels.tokenizer("qwen2.5-coder-0.5b")
        XCTAssertEqual(qwen.encode("<tool_call>", parseSpecial: false), [151657])
        XCTAssertGreaterThan(qwen.encode("<|im_end|>", parseSpecial: false).count, 1)
        XCTAssertEqual(qwen.encode("<|im_end|>", parseSpecial: true), [151645])
    }

    func testLongestSpecialTokenWins() throws {
        let data = TokenizerData(
            model: "gpt2", tokens: ["<", "a", ">", "<a", "<a>", "<a><a>"],
            tokenTypes: [.normal, .normal, .normal, .normal, .control, .control], merges: ["< a"])
        let tokenizer = try makeTokenizer(data)
        XCTAssertEqual(tokenizer.encode("<a><a><a>", parseSpecial: true), [5, 4])
        // As text, GPT-2 pre-tokenization splits "<", "a", ">" apart, so "< a" never applies.
        XCTAssertEqual(tokenizer.encode("<a>", parseSpecial: false), [0, 1, 2])
    }

    func testUnsupportedModelIsNamed() {
        var data = tiny
        data.model = "bert"
        XCTAssertThrowsError(try makeTokenizer(data)) { error in
            XCTAssertEqual(error as? TokenizerError, .unsupportedModel("bert"))
            XCTAssertTrue("\(error)".contains("'bert'"))
        }
    }

    func testUnsupportedPreTokenizerIsNamed() {
        var data = tiny
        data.preTokenizer = "deepseek-coder"
        XCTAssertThrowsError(try makeTokenizer(data)) { error in
            XCTAssertEqual(error as? TokenizerError, .unsupportedPreTokenizer("deepseek-coder"))
            XCTAssertTrue("\(error)".contains("'deepseek-coder'"))
        }
    }

    func testInconsistentVocabulariesAreRejected() {
        var noMerges = tiny
        noMerges.merges = nil
        XCTAssertThrowsError(try makeTokenizer(noMerges)) { error in
            XCTAssertEqual(error as? TokenizerError, .missingKey("tokenizer.ggml.merges"))
        }
        var badTypes = tiny
        badTypes.tokenTypes = [.normal]
        XCTAssertThrowsError(try makeTokenizer(badTypes)) { error in
            XCTAssertEqual(error as? TokenizerError, .invalidVocabulary("token_type has 1 entries for 3 tokens"))
        }
        var badEOS = tiny
        badEOS.eosID = 7
        XCTAssertThrowsError(try makeTokenizer(badEOS)) { error in
            XCTAssertTrue("\(error)".contains("eos_token_id 7"))
        }
        var empty = tiny
        empty.tokens = []
        XCTAssertThrowsError(try makeTokenizer(empty))
    }

    func testTinyMerge() throws {
        let tokenizer = try makeTokenizer(tiny)
        XCTAssertEqual(tokenizer.encode("abab", parseSpecial: false), [2, 2])
        XCTAssertEqual(tokenizer.decode([2, 0]), "aba")
    }
}
