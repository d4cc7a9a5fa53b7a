import Foundation
import XCTest
import PodKVTokenizer

/// Encoding speed on a long prompt (Paul Graham essays, the usual long-context filler).
final class TokenizerSpeedTests: XCTestCase {
    /// The first `characters` characters of the essays, concatenated in file-name order.
    private func essayText(characters: Int) throws -> String {
        let directory = TestModels.sharedDirectory.appendingPathComponent("data/pg_essays")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        var text = ""
        for name in names where text.count < characters {
            text += try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        }
        return String(text.prefix(characters))
    }

    /// Prints cold-cache (fresh tokenizer) and warm-cache encode times for an 8K+ token prompt.
    /// The bound is loose so a debug build on a shared machine passes; release numbers are what
    /// the budget ("well under a second") is about: `swift test -c release --filter TokenizerSpeedTests`.
    func testEightThousandTokenPromptEncodesQuickly() throws {
        let text = try essayText(characters: 40_000)
        for model in ["smollm2-135m", "qwen2.5-coder-0.5b"] {
            let data = try TestModels.data(model)
            let clock = ContinuousClock()
            var built: (any Tokenizer)?
            let buildTime = try clock.measure { built = try makeTokenizer(data) }
            let tokenizer = try XCTUnwrap(built)
            var ids: [Int] = []
            let cold = clock.measure { ids = tokenizer.encode(text, parseSpecial: true) }
            let warm = clock.measure { _ = tokenizer.encode(text, parseSpecial: true) }
            XCTAssertGreaterThanOrEqual(ids.count, 8192, "\(model): prompt too short for the measurement")
            XCTAssertEqual(tokenizer.decode(ids), text)
            print("encode \(model): \(ids.count) tokens, \(text.utf8.count) bytes: cold \(cold), warm \(warm); building the tokenizer \(buildTime)")
            XCTAssertLessThan(cold, .seconds(5), "\(model): encoding \(ids.count) tokens took \(cold)")
        }
    }
}
