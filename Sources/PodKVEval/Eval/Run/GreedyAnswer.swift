import PodKV

/// A greedy reply to one prompt under one KV policy, with its timings and the cache's memory.
public struct GreedyAnswer: Sendable {
    public var text: String
    public var promptTokens: Int
    public var generatedTokens: Int
    public var prefillSeconds: Double
    public var decodeSeconds: Double
    /// Memory held after the reply (prompt plus generated tokens).
    public var kv: KVMemoryReport

    /// Runs `prompt` (token ids) through a fresh cache of `spec` and decodes greedily up to `maxTokens`
    /// tokens, stopping at the end-of-generation token.
    public static func run(model: LanguageModel, spec: PolicySpec, prompt: [Int], maxTokens: Int,
                           warn: @escaping @Sendable (String) -> Void = { _ in }) throws -> GreedyAnswer {
        let session = try Session(model: model, policy: spec, warn: warn)
        let result = try session.generate(prompt: prompt, options: GenerationOptions(maxTokens: maxTokens, sampling: .greedy))
        let s = result.stats
        return GreedyAnswer(
            text: result.text, promptTokens: s.promptTokens, generatedTokens: s.generatedTokens,
            prefillSeconds: s.prefillSeconds, decodeSeconds: s.decodeSeconds, kv: s.kv)
    }
}
