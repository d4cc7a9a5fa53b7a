import ArgumentParser
import Foundation
import PodKV
import PodKVEval

/// `podkv ask`: the main job. Answers a question about a long document under each KV policy given and
/// shows the answer, the KV memory held against the full cache, and the speed.
struct AskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Answer a question about a long document under compressed KV caches, side by side.",
        discussion: """
            Without --document, a generated logbook (~3.4K tokens) with one fact to find is used, so the
            answer can be checked. Policies are specs as in --kv-policy, e.g. pod:group-size=2,window=512.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(name: .long, help: "Text file to ask about (default: a generated logbook).")
    var document: String?
    @Option(name: .long, help: "The question (required with --document).")
    var question: String?
    @Option(name: .long, help: "Expected answer, to mark replies correct or not (optional).")
    var expect: String?
    @Option(name: .long, parsing: .upToNextOption, help: "KV policies to compare.")
    var policies: [String] = ["full", "pod:group-size=2,window=512", "streaming-llm:window=512"]
    @Option(name: .long, help: "Seed of the generated document (different document, fact and position).")
    var seed: UInt64 = 7
    @Option(name: .long, help: "Words in the generated document.")
    var words: Int = 2000
    @Option(name: .long, help: "Most answer tokens.")
    var maxTokens: Int = 32

    func validate() throws {
        if document != nil && question == nil { throw ValidationError("--document needs --question") }
        if words < 50 || words > 50_000 { throw ValidationError("--words must be in 50...50000 (got \(words))") }
        if policies.isEmpty { throw ValidationError("give at least one --policies entry") }
    }

    func run() throws {
        let specs = try policies.map { text -> PolicySpec in
            do { return try PolicySpec(parsing: text) } catch { throw ValidationError("\(error)") }
        }
        let text: String, q: String, expected: String?
        if let path = document {
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ValidationError("cannot read --document '\(path)': \(error.localizedDescription)")
            }
            q = question!
            expected = expect
        } else {
            let doc = LogbookDocument(words: words, depth: 0.3, seed: seed)
            text = doc.text
            q = question ?? doc.question
            expected = question == nil ? doc.answer : expect
        }
        let model = try modelOptions.load()
        let qa = DocumentQA(model: model)
        let promptTokens = qa.prompt(document: text, question: q).count
        Terminal.out("model: \(modelOptions.model) (\(model.config.name)), \(model.pool.threadCount) threads\n")
        Terminal.out("document: \(document ?? "generated logbook, seed \(seed)"), \(promptTokens) prompt tokens\n")
        Terminal.out("question: \(q)\n")
        if let e = expected { Terminal.out("expected: \(e)\n") }
        Terminal.out("\n| policy | answer | correct | KV held | full cache | saved | prefill tok/s | decode tok/s |\n|---|---|---|---|---|---|---|---|\n")
        for spec in specs {
            let o = try qa.answer(document: text, question: q, expected: expected, policy: spec, maxTokens: maxTokens,
                                  warn: { Terminal.error("warning: \($0)") }) { done, total in
                Terminal.progress("\(spec) prefill", done: done, total: total)
            }
            Terminal.clearStatus()
            let kv = o.stats.kv
            let answer = o.answer.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "|", with: "/")
            Terminal.out("| \(spec) | \(answer.prefix(60)) | \(o.correct.map { $0 ? "yes" : "no" } ?? "-") | \(Terminal.bytes(kv.allocatedBytes)) | \(Terminal.bytes(kv.fullCacheBytes)) | \(Summary.f1(100 * kv.saving))% | \(Summary.f1(o.stats.prefillTokensPerSecond)) | \(Summary.f1(o.stats.decodeTokensPerSecond)) |\n")
        }
        Terminal.out("""

            KV held = bytes the cache allocated (f16 rows, 64-row pages); full cache = 2 x layers x KV heads x tokens rows;
            saved = 1 - rows held / rows of the full cache (POD.md §6 formula, which the allocation tracks to within a page).

            """)
    }
}
