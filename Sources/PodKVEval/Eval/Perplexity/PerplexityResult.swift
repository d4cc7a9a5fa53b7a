/// Perplexity and divergence from the full cache of one policy over the scored tokens of every text:
/// one JSON object of `podkv eval ppl --json`, a row of `ppl.jsonl` (fields in docs/EVAL.md).
public struct PerplexityResult: Sendable, Codable, Equatable {
    public var trialKey: String
    public var model: String
    public var policy: String
    public var policySpec: String
    /// Texts scored (those with at least `context` tokens).
    public var texts: Int
    public var context: Int
    public var tokensScored: Int
    /// exp(mean NLL) over the scored tokens.
    public var ppl: Double
    public var nllMean: Double
    /// Mean KL(full || policy) per scored token, nats.
    public var kl: Double
    public var klMedian: Double
    public var klP99: Double
    public var klMax: Double
    /// Fraction of scored tokens where the policy's most likely token equals the full cache's.
    public var top1Agreement: Double
    /// Bytes actually allocated at the end of each text (the largest over texts), and the formula's and
    /// a full cache's bytes for the same tokens.
    public var kvBytes: Int
    public var kvFormulaBytes: Int
    public var kvFullBytes: Int
    public var budgetBytes: Int?
    /// Bytes of a PoD adapter's parameters held besides the cache, nil when none.
    public var adapterBytes: Int?
    public var seconds: Double
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case trialKey = "trial_key", model, policy, policySpec = "policy_spec", texts, context
        case tokensScored = "tokens_scored", ppl, nllMean = "nll_mean", kl, klMedian = "kl_median", klP99 = "kl_p99"
        case klMax = "kl_max", top1Agreement = "top1_agreement", kvBytes = "kv_bytes", kvFormulaBytes = "kv_formula_bytes"
        case kvFullBytes = "kv_full_bytes", budgetBytes = "budget_bytes", adapterBytes = "adapter_bytes", seconds, note
    }
}
