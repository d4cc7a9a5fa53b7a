import ArgumentParser
import Foundation
import PodKV
import PodKVCache
import PodKVTokenizer

/// `podkv generate`: one prompt in, a continuation out (streamed to stdout, or one JSON object).
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Generate text from a prompt (raw or as a chat message).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var policy: PolicyFlags
    @OptionGroup var samplingFlags: SamplingFlags

    @Option(name: .long, help: "Prompt text.")
    var prompt: String?
    @Option(name: .long, help: "Read the prompt from this file.")
    var promptFile: String?
    @Flag(name: .long, help: "Wrap the prompt as a user message in the model's chat format.")
    var chat = false
    @Option(name: .long, help: "System message (with --chat).")
    var system: String?
    @Option(name: .long, help: "Chat format: chatml, llama3, llama2 (default: from the model's template).")
    var chatFormat: ChatFormat?
    @Flag(name: .long, help: "Tokenize special-token text in a raw prompt as plain text.")
    var noParseSpecial = false
    @Flag(name: .long, help: "Print one JSON object (text, token ids, speed, KV memory) instead of streaming.")
    var json = false
    @Flag(name: .long, help: "Print speed and KV memory to stderr after generating.")
    var stats = false
    @Option(name: .long, help: "KV state file: resume the prompt's cached prefix from it, then save the prompt's state to it.")
    var promptCache: String?

    func validate() throws {
        if prompt != nil && promptFile != nil { throw ValidationError("give --prompt or --prompt-file, not both") }
        if system != nil && !chat { throw ValidationError("--system needs --chat") }
    }

    func run() throws {
        let text = try readPrompt()
        let spec = try policy.spec()
        let model = try modelOptions.load()
        if chat, chatFormat == nil, let w = model.chatFormatWarning { Terminal.error("warning: \(w)") }
        let session = try Session(model: model, policy: spec) { Terminal.error("warning: \($0)") }
        let ids: [Int]
        if chat {
            var messages: [ChatMessage] = []
            if let s = system { messages.append(ChatMessage(role: "system", content: s)) }
            messages.append(ChatMessage(role: "user", content: text))
            let template = chatFormat.map { ChatTemplate(format: $0) } ?? model.chatTemplate
            ids = model.tokenizer.encodePrompt(template.render(messages, addGenerationPrompt: true), parseSpecial: true)
        } else {
            ids = model.tokenizer.encodePrompt(text, parseSpecial: !noParseSpecial)
        }
        if ids.count + samplingFlags.maxTokens > model.config.contextLength {
            throw ValidationError("the prompt has \(ids.count) tokens; with --max-tokens \(samplingFlags.maxTokens) it exceeds the model's context of \(model.config.contextLength)")
        }
        if let file = promptCache {
            let use = try session.prefill(ids, promptCacheFile: file)
            Terminal.error("prompt cache: \(use.reusedTokens) tokens reused, \(use.computedTokens) computed\(use.saved ? ", saved to \(file)" : "")")
        }
        let result = try session.generate(prompt: ids, options: samplingFlags.generation) { event in
            switch event {
            case .prefill(let done, let total) where total >= 256:
                Terminal.progress("prefill", done: done, total: total)
                if done == total { Terminal.clearStatus() }
            case .token(_, let piece) where !json:
                Terminal.out(piece)
            default: break
            }
        }
        if json {
            try printJSON(result, model: model, spec: spec)
        } else {
            Terminal.out("\n")
        }
        if stats { Terminal.error(Summary.line(result.stats)) }
    }

    private func readPrompt() throws -> String {
        if let p = prompt { return p }
        if let f = promptFile {
            do { return try String(contentsOfFile: f, encoding: .utf8) } catch {
                throw ValidationError("cannot read --prompt-file '\(f)': \(error.localizedDescription)")
            }
        }
        let data = FileHandle.standardInput.readDataToEndOfFile()
        guard let s = String(data: data, encoding: .utf8), !s.isEmpty else {
            throw ValidationError("no prompt: give --prompt, --prompt-file or text on stdin")
        }
        return s
    }

    private func printJSON(_ r: GenerationResult, model: LanguageModel, spec: PolicySpec) throws {
        let out = GenerateJSON(
            model: model.config.name, kvPolicy: spec.description, text: r.text, tokenIDs: r.tokenIDs,
            finishReason: r.finishReason.rawValue, promptTokens: r.stats.promptTokens,
            generatedTokens: r.stats.generatedTokens,
            prefillTokensPerS: r.stats.prefillTokensPerSecond, decodeTokensPerS: r.stats.decodeTokensPerSecond,
            kvBytes: r.stats.kv.allocatedBytes, kvFormulaBytes: r.stats.kv.formulaBytes,
            kvFullCacheBytes: r.stats.kv.fullCacheBytes, kvSaving: r.stats.kv.saving, kv: r.stats.kv)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        enc.keyEncodingStrategy = .convertToSnakeCase
        Terminal.out(String(decoding: try enc.encode(out), as: UTF8.self) + "\n")
    }
}

/// The `--json` object of `podkv generate`.
struct GenerateJSON: Encodable {
    var model: String
    var kvPolicy: String
    var text: String
    var tokenIDs: [Int]
    var finishReason: String
    var promptTokens: Int
    var generatedTokens: Int
    var prefillTokensPerS: Double
    var decodeTokensPerS: Double
    var kvBytes: Int
    var kvFormulaBytes: Int
    var kvFullCacheBytes: Int
    var kvSaving: Double
    var kv: KVMemoryReport

    enum CodingKeys: String, CodingKey {
        case model, kvPolicy, text, finishReason, promptTokens, generatedTokens, kvBytes, kvFormulaBytes
        case kvFullCacheBytes, kvSaving, kv
        case tokenIDs = "tokenIds"
        case prefillTokensPerS = "prefillTokensPerS"
        case decodeTokensPerS = "decodeTokensPerS"
    }
}

extension ChatFormat: ExpressibleByArgument {}

/// One-line human summaries of a generation.
enum Summary {
    static func line(_ s: GenerationStats) -> String {
        let kv = s.kv
        return "prompt \(s.promptTokens) tok (\(s.prefillTokens) computed) \(f1(s.prefillTokensPerSecond)) tok/s"
            + " | generated \(s.generatedTokens) tok \(f1(s.decodeTokensPerSecond)) tok/s"
            + " | KV \(Terminal.bytes(kv.allocatedBytes)) allocated (formula \(Terminal.bytes(kv.formulaBytes)),"
            + " full cache \(Terminal.bytes(kv.fullCacheBytes))), \(f1(kv.saving * 100))% less than full"
            + (kv.parameterBytes.map { "; PoD adapter \(Terminal.bytes($0))" } ?? "")
    }

    static func f1(_ x: Double) -> String { String(format: "%.1f", x) }
}
