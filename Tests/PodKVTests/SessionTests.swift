import Foundation
import PodKV
import PodKVTestSupport
import XCTest

/// The engine on a real model: determinism, cache reuse across turns, streaming, and load errors.
final class SessionTests: XCTestCase {
    static let model: LanguageModel = try! LanguageModel(path: try! TestData.modelPath("smollm2-135m"), threads: 2, batchSize: 32)

    func testGreedyGenerationIsDeterministicAndAnswers() throws {
        let m = Self.model
        let prompt = m.tokenizer.encodePrompt("The capital of France is")
        let a = try Session(model: m).generate(prompt: prompt, options: GenerationOptions(maxTokens: 12))
        let b = try Session(model: m).generate(prompt: prompt, options: GenerationOptions(maxTokens: 12))
        XCTAssertEqual(a.tokenIDs, b.tokenIDs)
        XCTAssertEqual(a.text, b.text)
        XCTAssertTrue(a.text.contains("Paris"), a.text)
        XCTAssertEqual(a.stats.promptTokens, prompt.count)
        XCTAssertGreaterThan(a.stats.kv.allocatedBytes, 0)
    }

    func testSeededSamplingIsReproducible() throws {
        let m = Self.model
        let prompt = m.tokenizer.encodePrompt("Once upon a time")
        let opts = GenerationOptions(maxTokens: 16, sampling: SamplingOptions(temperature: 0.9, seed: 42))
        let a = try Session(model: m).generate(prompt: prompt, options: opts)
        let b = try Session(model: m).generate(prompt: prompt, options: opts)
        XCTAssertEqual(a.tokenIDs, b.tokenIDs)
    }

    func testIncrementalForwardEqualsRecomputation() throws {
        // Logits after prefill + decode steps equal those of one pass over the whole sequence.
        let m = Self.model
        let tokens = m.tokenizer.encode("The quick brown fox jumps over the lazy dog because it wanted to see", parseSpecial: false)
        let t = m.makeTransformer()
        t.decodeUsesInt8 = false  // exact kernels on both paths; the int8 decode path is checked against the golden logits
        let whole = try t.forward(tokens, cache: try m.makeCache(), logits: .last)
        let cache = try m.makeCache()
        var last: [Float] = []
        _ = try t.forward(Array(tokens[0..<5]), cache: cache, logits: .none)
        for tok in tokens[5...] { last = try t.forward([tok], cache: cache, logits: .last) }
        let worst = zip(whole, last).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
        XCTAssertLessThan(worst, 2e-3, "exact kernels: incremental vs whole differ by \(worst)")
        XCTAssertEqual(whole.indices.max { whole[$0] < whole[$1] }, last.indices.max { last[$0] < last[$1] })
    }

    func testFollowUpTurnReusesTheCache() throws {
        let session = try Session(model: Self.model)
        let chat = ChatSession(session: session)
        let first = try chat.send("Name a colour.", options: GenerationOptions(maxTokens: 8))
        let second = try chat.send("Name another one.", options: GenerationOptions(maxTokens: 8))
        XCTAssertEqual(first.stats.prefillTokens, first.stats.promptTokens)
        XCTAssertLessThan(second.stats.prefillTokens, second.stats.promptTokens / 2, "the first turn must not be recomputed")
        XCTAssertEqual(chat.messages.count, 4)
    }

    func testFollowUpTurnWorksUnderCompressedPolicies() throws {
        for spec in ["pod:group-size=2,window=16,sink=4", "streaming-llm:window=16,sink=4"] {
            let session = try Session(model: Self.model, policy: try PolicySpec(parsing: spec))
            let chat = ChatSession(session: session)
            _ = try chat.send("Say hello.", options: GenerationOptions(maxTokens: 6))
            let second = try chat.send("Again.", options: GenerationOptions(maxTokens: 6))
            XCTAssertLessThan(second.stats.prefillTokens, second.stats.promptTokens, spec)
            XCTAssertEqual(session.cache.tokenCount, session.tokens.count, spec)
        }
    }

    func testStreamMatchesGenerate() async throws {
        let m = Self.model
        let prompt = m.tokenizer.encodePrompt("Water boils at")
        let direct = try Session(model: m).generate(prompt: prompt, options: GenerationOptions(maxTokens: 10))
        var text = ""
        var finished: GenerationResult?
        for try await event in try Session(model: m).stream(prompt: prompt, options: GenerationOptions(maxTokens: 10)) {
            switch event {
            case .token(_, let piece): text += piece
            case .finished(let r): finished = r
            case .prefill: break
            }
        }
        XCTAssertEqual(text, direct.text)
        XCTAssertEqual(finished?.tokenIDs, direct.tokenIDs)
    }

    func testStopStringsAndMaxTokens() throws {
        let m = Self.model
        let prompt = m.tokenizer.encodePrompt("1, 2, 3, 4, 5,")
        let r = try Session(model: m).generate(prompt: prompt, options: GenerationOptions(maxTokens: 30, stop: [" 8"]))
        XCTAssertFalse(r.text.contains(" 8"), r.text)
        XCTAssertEqual(r.finishReason, .stop)
        let capped = try Session(model: m).generate(prompt: prompt, options: GenerationOptions(maxTokens: 3, stopAtEndOfGeneration: false))
        XCTAssertEqual(capped.tokenIDs.count, 3)
        XCTAssertEqual(capped.finishReason, .length)
    }

    func testContextOverflowIsAClearError() throws {
        let m = Self.model
        let tooLong = [Int](repeating: 100, count: m.config.contextLength + 1)
        XCTAssertThrowsError(try Session(model: m).generate(prompt: tooLong)) { error in
            XCTAssertTrue("\(error)".contains("exceeds the context limit"), "\(error)")
        }
        XCTAssertThrowsError(try Session(model: m).generate(prompt: [])) { error in
            XCTAssertTrue("\(error)".contains("empty"), "\(error)")
        }
        XCTAssertThrowsError(try m.makeTransformer().forward([999_999], cache: try m.makeCache())) { error in
            XCTAssertTrue("\(error)".contains("outside the vocabulary"), "\(error)")
        }
    }
}

/// Model files the loader must refuse with an error that names the problem.
final class ModelLoadErrorTests: XCTestCase {
    func write(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID()).gguf").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testNonGGUFAndTruncatedFiles() throws {
        XCTAssertThrowsError(try LanguageModel(path: try write(Array("definitely not a model".utf8)))) { e in
            XCTAssertTrue("\(e)".contains("not a GGUF file"), "\(e)")
        }
        let good = try TinyModel.bytes()
        XCTAssertThrowsError(try LanguageModel(path: try write(Array(good.prefix(good.count / 2))))) { e in
            XCTAssertTrue(["past the end", "truncated", "remain", "beyond the end"].contains { "\(e)".contains($0) }, "\(e)")
        }
        XCTAssertThrowsError(try LanguageModel(path: "/nonexistent/model.gguf"))
    }

    func testUnsupportedArchitectureMissingTensorAndBadShape() throws {
        func rewrite(_ edit: (inout GGUFWriter) throws -> Void, dropping drop: String? = nil) throws -> String {
            let file = try GGUFFile(bytes: try TinyModel.bytes())
            var w = GGUFWriter()
            for key in file.metadataKeys { w.set(key, file.value(key)!) }
            for t in file.tensors where t.name != drop {
                try w.addTensor(name: t.name, dimensions: t.dimensions, type: t.type,
                                bytes: Array(UnsafeRawBufferPointer(start: file.data(of: t), count: t.byteCount)))
            }
            try edit(&w)
            return try write(try w.bytes())
        }
        XCTAssertThrowsError(try LanguageModel(path: try rewrite { $0.set("general.architecture", .string("mamba")) })) { e in
            XCTAssertTrue("\(e)".contains("architecture 'mamba' is not supported"), "\(e)")
        }
        XCTAssertThrowsError(try LanguageModel(path: try rewrite({ _ in }, dropping: "blk.2.ffn_up.weight"))) { e in
            XCTAssertTrue("\(e)".contains("'blk.2.ffn_up.weight' is missing"), "\(e)")
        }
        XCTAssertThrowsError(try LanguageModel(path: try rewrite { $0.set("llama.feed_forward_length", .uint32(80)) })) { e in
            XCTAssertTrue("\(e)".contains("has shape"), "\(e)")
        }
        XCTAssertThrowsError(try LanguageModel(path: try rewrite { $0.set("llama.attention.head_count_kv", .uint32(3)) })) { e in
            XCTAssertTrue("\(e)".contains("does not divide"), "\(e)")
        }
    }
}
