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

    /// The word cache is shared between threads: encoding the golden texts from several threads
    /// at once (cold cache) must give the single-threaded ids.
    func testConcurrentEncodingMatchesSequential() throws {
        let data = try TestModels.data("qwen2.5-coder-0.5b")
        let texts = try goldenCases("tokenizer-qwen2.5-coder-0.5b-instruct.jsonl").map(\.text)
        let expected = try makeTokenizer(data).encodeAll(texts)
        let shared = try makeTokenizer(data)
        let results = ResultBox(count: 8)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            results.set(worker, shared.encodeAll(worker % 2 == 0 ? texts : texts.reversed()))
        }
        for worker in 0..<8 {
            let ids = results.get(worker)
            XCTAssertEqual(worker % 2 == 0 ? ids : ids.reversed(), expected, "worker \(worker)")
        }
    }
}

private extension Tokenizer {
    func encodeAll(_ texts: [String]) -> [[Int]] {
        texts.map { encode($0, parseSpecial: true) }
    }
}

/// Per-worker results written from `concurrentPerform`.
private final class ResultBox: @unchecked Sendable {
    private var slots: [[[Int]]]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: [], count: count) }
    func set(_ index: Int, _ value: [[Int]]) { lock.lock(); slots[index] = value; lock.unlock() }
    func get(_ index: Int) -> [[Int]] { lock.lock(); defer { lock.unlock() }; return slots[index] }
}
