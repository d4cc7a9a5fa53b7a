import XCTest
import PodKVTokenizer

/// Hand-derived splits for each pre-tokenizer regex (derivations in the comments).
final class PreTokenizerTests: XCTestCase {
    private func assertSplit(_ pre: PreTokenizer, _ text: String, _ expected: [String],
                             file: StaticString = #filePath, line: UInt = #line) {
        let words = pre.split(text)
        XCTAssertEqual(words, expected, "\(pre) on \(text.debugDescription)", file: file, line: line)
        XCTAssertEqual(words.joined(), text, "split must cover the text", file: file, line: line)
    }

    func testGPT2() {
        assertSplit(.gpt2, "Hello world", ["Hello", " world"])
        // Contractions are lower case only: "'T" falls to the punctuation alternative.
        assertSplit(.gpt2, "don't DON'T", ["don", "'t", " DON", "'", "T"])
        // A whitespace run before a word gives its last space to the word (\s+(?!\S)).
        assertSplit(.gpt2, "  two  spaces", [" ", " two", " ", " spaces"])
        // Trailing whitespace stays one piece (\s+(?!\S) succeeds at the end).
        assertSplit(.gpt2, "a   ", ["a", "   "])
        assertSplit(.gpt2, "x 123 y", ["x", " 123", " y"])
        assertSplit(.gpt2, "hi!!! ok", ["hi", "!!!", " ok"])
        // "\n\n" then a letter: "\n" (backtracked \s+(?!\S)), then "\n" (\s+), then the word.
        assertSplit(.gpt2, "\n\nabc", ["\n", "\n", "abc"])
        assertSplit(.gpt2, "über café", ["über", " café"])
        assertSplit(.gpt2, "", [])
    }

    func testSmolLMSplitsEveryDigit() {
        // Pass 1 isolates each \p{N}; the space before "2024" becomes its own piece.
        assertSplit(.smollm, "year 2024,", ["year", " ", "2", "0", "2", "4", ","])
        assertSplit(.smollm, "a1b", ["a", "1", "b"])
        // Non-ASCII numbers count too (U+00BD VULGAR FRACTION ONE HALF is No).
        assertSplit(.smollm, "x½y", ["x", "½", "y"])
    }

    func testQwen2() {
        assertSplit(.qwen2, "Hello world", ["Hello", " world"])
        // Case-insensitive contractions.
        assertSplit(.qwen2, "DON'T", ["DON", "'T"])
        assertSplit(.qwen2, "2024", ["2", "0", "2", "4"])
        // One non-letter may lead a word: "(hello", and a tab leads "here".
        assertSplit(.qwen2, "(hello)", ["(hello", ")"])
        assertSplit(.qwen2, "tab\there", ["tab", "\there"])
        // Punctuation takes following newlines; \s*[\r\n]+ ends after the run's last newline.
        assertSplit(.qwen2, "foo.\nbar", ["foo", ".\n", "bar"])
        assertSplit(.qwen2, "a  \n  b", ["a", "  \n", " ", " b"])
        assertSplit(.qwen2, "x\r\n\r\ny", ["x", "\r\n\r\n", "y"])
    }

    func testLlama3GroupsDigitsByThree() {
        assertSplit(.llama3, "12345", ["123", "45"])
        assertSplit(.llama3, "I'M 1000000", ["I", "'M", " ", "100", "000", "0"])
    }

    func testNamesMapToPreTokenizers() throws {
        XCTAssertEqual(try PreTokenizer(name: nil), .gpt2)
        XCTAssertEqual(try PreTokenizer(name: "default"), .gpt2)
        XCTAssertEqual(try PreTokenizer(name: "smollm"), .smollm)
        XCTAssertEqual(try PreTokenizer(name: "qwen2"), .qwen2)
        XCTAssertEqual(try PreTokenizer(name: "llama-bpe"), .llama3)
        XCTAssertThrowsError(try PreTokenizer(name: "deepseek-llm")) { error in
            XCTAssertEqual(error as? TokenizerError, .unsupportedPreTokenizer("deepseek-llm"))
        }
    }
}
