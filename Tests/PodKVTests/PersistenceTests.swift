import Foundation
import PodKV
import PodKVKernels
import PodKVTestSupport
import XCTest

/// Save/restore of session KV states: every persistable policy continues exactly as the uninterrupted
/// session; other models, policies, settings and damaged files are refused with a clear error.
final class PersistenceTests: XCTestCase {
    /// A tiny random model (fast) with enough context for the rings of the compressed policies to wrap.
    static let model: LanguageModel = try! LanguageModel(path: try! TinyModel.file(seed: 7), threads: 2, batchSize: 16)

    static let specs = [
        "full", "full:kv-type=f32", "window:window=8", "streaming-llm:sink=2,window=8",
        "pod:group-size=2,sink=2,window=8", "pod:group-size=4,sink=0,window=5,kv-type=f32",
    ]

    var prompt: [Int] { Self.model.tokenizer.encodePrompt("A restored cache must continue exactly like the original one.") }

    func tempPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("podkv-persist-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir.appendingPathComponent(name).path
    }

    func testRestoredSessionContinuesWithIdenticalTokensForEveryPolicy() throws {
        let m = Self.model
        XCTAssertGreaterThan(prompt.count, 20, "the prompt must be longer than the windows")
        for text in Self.specs {
            let spec = try PolicySpec(parsing: text)
            // Uninterrupted: 20 tokens in one call.
            let whole = try Session(model: m, policy: spec).generate(
                prompt: prompt, options: GenerationOptions(maxTokens: 20, stopAtEndOfGeneration: false))
            XCTAssertEqual(whole.tokenIDs.count, 20)

            // Interrupted: 8 tokens, save (the 8th token is not in the cache yet), restore elsewhere, go on.
            let first = try Session(model: m, policy: spec)
            let head = try first.generate(prompt: prompt, options: GenerationOptions(maxTokens: 8, stopAtEndOfGeneration: false))
            let path = tempPath("state.pkvstate")
            try first.saveState(path: path)

            let second = try Session(model: m, policy: spec)
            try second.restoreState(path: path)
            XCTAssertEqual(second.tokens, first.tokens, text)
            XCTAssertEqual(second.cache.tokenCount, first.cache.tokenCount, text)
            XCTAssertEqual(second.cache.memoryReport(), first.cache.memoryReport(), "\(text): restored memory differs")
            let tail = try second.generate(
                prompt: second.tokens + [head.tokenIDs.last!],
                options: GenerationOptions(maxTokens: 12, stopAtEndOfGeneration: false))
            XCTAssertEqual(tail.stats.prefillTokens, 1, "\(text): only the last sampled token is computed after restore")
            XCTAssertEqual(head.tokenIDs + tail.tokenIDs, whole.tokenIDs, "\(text): restored continuation differs")
        }
    }

    func testRestoreWithSamePromptComputesNothing() throws {
        let m = Self.model
        let a = try Session(model: m, policy: try PolicySpec(parsing: "pod:group-size=2,sink=2,window=8"))
        try a.prefill(prompt)
        let state = try a.snapshot()
        let b = try Session(model: m, policy: try PolicySpec(parsing: "pod:group-size=2,sink=2,window=8"))
        try b.restore(state)
        let r = try b.generate(prompt: prompt, options: GenerationOptions(maxTokens: 4))
        XCTAssertEqual(r.stats.prefillTokens, 0)
        XCTAssertEqual(r.tokenIDs, try a.generate(prompt: prompt, options: GenerationOptions(maxTokens: 4)).tokenIDs)
    }

    func testRestoreIntoAnotherModelIsRefused() throws {
        let a = try Session(model: Self.model)
        try a.prefill(prompt)
        let path = tempPath("a.pkvstate")
        try a.saveState(path: path)
        let other = try LanguageModel(path: try TinyModel.file(seed: 8), threads: 1)
        let b = try Session(model: other)
        XCTAssertThrowsError(try b.restoreState(path: path)) { error in
            guard case KVStateError.modelMismatch(let why) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(why.contains("digest"), why)
        }
        XCTAssertTrue(b.tokens.isEmpty)
    }

    func testRestoreIntoAnotherPolicyOrOtherSettingsIsRefused() throws {
        let m = Self.model
        let a = try Session(model: m, policy: try PolicySpec(parsing: "pod:group-size=2,sink=2,window=8"))
        try a.prefill(prompt)
        let state = try a.snapshot()
        let cases: [(String, String)] = [
            ("full", "saved from a 'pod' cache"),
            ("pod:group-size=4,sink=2,window=8", "owners"),
            ("pod:group-size=2,sink=2,window=9", "window"),
            ("pod:group-size=2,sink=2,window=8,kv-type=f32", "kv-type"),
        ]
        for (target, expected) in cases {
            let b = try Session(model: m, policy: try PolicySpec(parsing: target))
            XCTAssertThrowsError(try b.restore(state), target) { error in
                guard case KVStateError.policyMismatch = error else { return XCTFail("\(target): \(error)") }
                XCTAssertTrue("\(error)".contains(expected), "\(target): \(error)")
            }
            XCTAssertEqual(b.cache.tokenCount, 0, "\(target): a refused restore leaves the cache empty")
        }
    }

    func testTruncatedCorruptAndForeignFilesAreRefused() throws {
        let a = try Session(model: Self.model, policy: try PolicySpec(parsing: "streaming-llm:sink=2,window=8"))
        try a.prefill(prompt)
        let good = try a.snapshot().encoded()
        let b = try Session(model: Self.model, policy: try PolicySpec(parsing: "streaming-llm:sink=2,window=8"))

        for cut in [10, good.count / 2, good.count - 9, good.count - 1] {
            let path = tempPath("cut.pkvstate")
            try good.prefix(cut).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try b.restoreState(path: path), "cut at \(cut)") { error in
                guard let e = error as? KVStateError else { return XCTFail("\(error)") }
                switch e {
                case .truncated, .corrupt: break
                default: XCTFail("cut at \(cut): \(e)")
                }
            }
        }
        var flipped = good
        flipped[good.count / 2] ^= 0x40
        XCTAssertThrowsError(try SessionState(decoding: flipped)) { error in
            XCTAssertEqual(error as? KVStateError, .corrupt("checksum mismatch: the file was modified or damaged"))
        }
        XCTAssertThrowsError(try SessionState(decoding: Data("definitely not a state file, just text".utf8))) { error in
            XCTAssertTrue("\(error)".contains("not a PodKV session state file"), "\(error)")
        }
        XCTAssertThrowsError(try b.restoreState(path: tempPath("missing.pkvstate"))) { error in
            XCTAssertTrue("\(error)".contains("cannot read session state"), "\(error)")
        }
        // The intact bytes still restore.
        try b.restore(try SessionState(decoding: good))
        XCTAssertEqual(b.tokens, a.tokens)
    }

    func testPolicyWithoutSerializationGivesAClearError() throws {
        let m = Self.model
        let session = Session(model: m, cache: UnsavableCache(inner: try m.makeCache()))
        try session.prefill(prompt)
        XCTAssertThrowsError(try session.snapshot()) { error in
            XCTAssertEqual("\(error)", "cannot save or restore a unsavable cache: the policy has no state serialization")
        }
    }

    func testSaveIsAtomicAndLeavesNoTemporaryFiles() throws {
        let m = Self.model
        let a = try Session(model: m)
        try a.prefill(prompt)
        let path = tempPath("slot.pkvstate")
        try a.saveState(path: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        // A failing save (unsupported policy) must leave the good file untouched.
        let bad = Session(model: m, cache: UnsavableCache(inner: try m.makeCache()))
        try bad.prefill(prompt)
        XCTAssertThrowsError(try bad.saveState(path: path))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
        // Overwriting replaces the file whole.
        try a.generate(prompt: prompt, options: GenerationOptions(maxTokens: 3))
        try a.saveState(path: path)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["slot.pkvstate"])
    }

    func testPromptCacheFileReusesThePrefix() throws {
        let m = Self.model
        let spec = try PolicySpec(parsing: "pod:group-size=2,sink=2,window=8")
        let path = tempPath("prompt.pkvstate")
        let first = try Session(model: m, policy: spec).prefill(prompt, promptCacheFile: path)
        XCTAssertEqual(first, PromptCacheFileUse(reusedTokens: 0, computedTokens: prompt.count, saved: true))
        let longer = prompt + m.tokenizer.encode(" And then some more text.", parseSpecial: false)
        let session = try Session(model: m, policy: spec)
        let second = try session.prefill(longer, promptCacheFile: path)
        XCTAssertEqual(second.reusedTokens, prompt.count)
        XCTAssertEqual(second.computedTokens, longer.count - prompt.count)
        // The reused path generates what a from-scratch session generates.
        let fresh = try Session(model: m, policy: spec).generate(prompt: longer, options: GenerationOptions(maxTokens: 6))
        XCTAssertEqual(try session.generate(prompt: longer, options: GenerationOptions(maxTokens: 6)).tokenIDs, fresh.tokenIDs)
        // Another policy's file is refused rather than overwritten.
        XCTAssertThrowsError(try Session(model: m).prefill(longer, promptCacheFile: path)) { error in
            guard case KVStateError.policyMismatch = error else { return XCTFail("\(error)") }
        }
    }
}

/// A policy that does not adopt `KVStatePersistable` (as a newly added policy might not).
private final class UnsavableCache: KVCachePolicy {
    let inner: KVCachePolicy
    init(inner: KVCachePolicy) { self.inner = inner }
    var name: String { "unsavable" }
    var geometry: KVGeometry { inner.geometry }
    var tokenCount: Int { inner.tokenCount }
    func attend(layer: Int, rows: AttentionRows, pool: ThreadPool) { inner.attend(layer: layer, rows: rows, pool: pool) }
    func advance(by count: Int) { inner.advance(by: count) }
    func memoryReport() -> KVMemoryReport { inner.memoryReport() }
    func reset() { inner.reset() }
}
