import Foundation
import XCTest
import PodKVTokenizer

/// Exact agreement with llama.cpp's tokenizer on the shared golden files (see
/// shared/golden/README.md: produced by llama.cpp on the same GGUF files, no BOS added).
final class GoldenTokenizerTests: XCTestCase {
    private struct GoldenCase: Decodable {
        let text: String
        let ids: [Int]
        let ids_parse_special: [Int]
    }

    private func goldenCases(_ file: String) throws -> [GoldenCase] {
        let url = TestModels.sharedDirectory.appendingPathComponent("golden/\(file)")
        let content = try String(contentsOf: url, encoding: .utf8)
        return try content.split(separator: "\n").map {
            try JSONDecoder().decode(GoldenCase.self, from: Data($0.utf8))
        }
    }

    private func checkGolden(model: String, file: String) throws {
        let tokenizer = try TestModels.tokenizer(model)
        let cases = try goldenCases(file)
        XCTAssertGreaterThan(cases.count, 50, "golden file \(file) looks truncated")
        for golden in cases {
            let plain = tokenizer.encode(golden.text, parseSpecial: false)
            XCTAssertEqual(plain, golden.ids, "parseSpecial=false: \(golden.text.debugDescription)")
            let special = tokenizer.encode(golden.text, parseSpecial: true)
            XCTAssertEqual(special, golden.ids_parse_special, "parseSpecial=true: \(golden.text.debugDescription)")
            XCTAssertEqual(tokenizer.decode(plain), golden.text, "round trip (plain)")
            XCTAssertEqual(tokenizer.decode(special), golden.text, "round trip (special)")
        }
    }

    func testSmolLM2MatchesLlamaCpp() throws {
        try checkGolden(model: "smollm2-135m", file: "tokenizer-smollm2-135m-instruct-q4_1.jsonl")
    }

    func testQwen25CoderMatchesLlamaCpp() throws {
        try checkGolden(model: "qwen2.5-coder-0.5b", file: "tokenizer-qwen2.5-coder-0.5b-instruct.jsonl")
    }
}
