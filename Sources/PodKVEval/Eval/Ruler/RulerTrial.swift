/// One RULER trial: a JSONL row of `ruler.jsonl` (fields in docs/EVAL.md).
public struct RulerTrial: Sendable, Codable, Equatable {
    public var trialKey: String
    public var model: String
    public var task: String
    /// Sample index within the task (its own seed derives from the run's seed and this index).
    public var sample: Int
    public var length: Int
    public var policy: String
    public var policySpec: String
    public var promptTokens: Int
    public var seed: UInt64
    public var expected: [String]
    public var answer: String
    /// Fraction of `expected` present in the answer (0...1); nil when skipped.
    public var score: Double?
    public var kvBytes: Int?
    public var kvFormulaBytes: Int?
    public var kvFullBytes: Int?
    public var budgetBytes: Int?
    public var generatedTokens: Int?
    public var prefillSeconds: Double?
    public var decodeSeconds: Double?
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case trialKey = "trial_key", model, task, sample, length, policy, policySpec = "policy_spec"
        case promptTokens = "prompt_tokens", seed, expected, answer, score, kvBytes = "kv_bytes"
        case kvFormulaBytes = "kv_formula_bytes", kvFullBytes = "kv_full_bytes", budgetBytes = "budget_bytes"
        case generatedTokens = "generated_tokens", prefillSeconds = "prefill_seconds", decodeSeconds = "decode_seconds", note
    }
}
