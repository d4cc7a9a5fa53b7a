/// One needle-in-a-haystack trial: a JSONL row of `niah.jsonl` (field names documented in docs/EVAL.md).
public struct NIAHTrial: Sendable, Codable, Equatable {
    /// Identifies the trial for resumption: model, policy label, length, depth, seed, budget.
    public var trialKey: String
    public var model: String
    /// The policy as the user wrote it (table label).
    public var policy: String
    /// The spec actually run (with budget-fitted parameters).
    public var policySpec: String
    /// Requested prompt length in tokens.
    public var length: Int
    /// Requested needle depth in percent.
    public var depth: Double
    /// Depth measured on the tokenized prompt, percent of haystack tokens before the needle.
    public var measuredDepth: Double
    /// Token index of the needle in the prompt.
    public var needlePosition: Int
    public var promptTokens: Int
    public var seed: UInt64
    public var expected: String
    public var answer: String
    /// 1 when the expected answer appears in the reply, else ROUGE-L recall (0...1); nil when skipped.
    public var score: Double?
    public var exact: Bool?
    public var rougeL: Double?
    /// Bytes of KV storage actually allocated after the reply.
    public var kvBytes: Int?
    /// Bytes the policy's formula predicts for the rows it holds.
    public var kvFormulaBytes: Int?
    /// Bytes of an f16-or-same-type full cache holding the same tokens.
    public var kvFullBytes: Int?
    /// Bytes of a PoD adapter's parameters held besides the cache, nil when none.
    public var adapterBytes: Int?
    public var budgetBytes: Int?
    public var generatedTokens: Int?
    public var prefillSeconds: Double?
    public var decodeSeconds: Double?
    public var prefillTokensPerSecond: Double?
    /// Why the trial was skipped or is a reference (budget), else nil.
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case trialKey = "trial_key", model, policy, policySpec = "policy_spec", length, depth
        case measuredDepth = "measured_depth", needlePosition = "needle_position", promptTokens = "prompt_tokens"
        case seed, expected, answer, score, exact, rougeL = "rouge_l", kvBytes = "kv_bytes"
        case kvFormulaBytes = "kv_formula_bytes", kvFullBytes = "kv_full_bytes", adapterBytes = "adapter_bytes", budgetBytes = "budget_bytes"
        case generatedTokens = "generated_tokens", prefillSeconds = "prefill_seconds", decodeSeconds = "decode_seconds"
        case prefillTokensPerSecond = "prefill_tokens_per_second", note
    }

    /// The resumption key of a trial.
    public static func key(model: String, policy: String, length: Int, depth: Double, seed: UInt64, budget: EvalBudget) -> String {
        "niah|\(model)|\(policy)|\(length)|\(depth)|\(seed)|\(budget)"
    }
}
