import PodKVModel

/// Equal-budget comparison: each policy family chooses its own parameters so that the cache holds at most
/// a given number of KV bytes at a given length. One small fitter per family (`FullBudget`,
/// `WindowBudget`, `PoDBudget`, `H2OBudget`, `SnapKVBudget`, `PyramidKVBudget`, `PoDSnapKVBudget`); a policy
/// without a fitter cannot take part in a budgeted comparison.
extension KVPolicyRegistry {
    /// Tokens decoded after the prompt that `fit` assumes when the caller does not say: 32, the evaluation
    /// harness's default answer length (`--max-tokens`). Only the vote-at-decode policies (snapkv,
    /// pyramidkv, pod+snapkv) depend on it: they compress when decoding starts and then grow by one row
    /// per decoded token, so their bytes after `tokens` tokens depend on where the prompt ended.
    public static let defaultDecodeTokens = 32

    /// Returns `spec` with the parameters its family chooses so that its formula bytes (rows held x row
    /// bytes, POD.md §6) stay at or below `budgetBytes` after `tokens` tokens. Options that the family
    /// does not fit (e.g. `sink`, `kv-type`, `distant-query`) are kept as written.
    ///
    /// `decodeTokens` (0 ..< tokens) is how many of the `tokens` are decoded one row at a time after a
    /// prompt of `tokens - decodeTokens`: snapkv, pyramidkv and pod+snapkv vote at the first decode row
    /// and then hold their budget plus every decoded row, so their budget leaves room for those rows.
    /// With 0 they never vote and hold every token. The other families hold the same rows however the
    /// tokens arrive and ignore it.
    ///
    /// - Throws: `BudgetError` when the policy cannot meet the budget (e.g. `full` above it, or PoD
    ///   below the ~50% of full that shared keys cannot go under) or has no fitter.
    public static func fit(_ spec: PolicySpec, budgetBytes: Int, tokens: Int, geometry: KVGeometry,
                           decodeTokens: Int = defaultDecodeTokens) throws -> PolicySpec {
        guard budgetBytes > 0 else { throw BudgetError.invalidBudget("the budget must be positive, got \(budgetBytes) bytes") }
        guard tokens >= 1 else { throw BudgetError.invalidBudget("the token count must be at least 1, got \(tokens)") }
        guard decodeTokens >= 0 else { throw BudgetError.invalidBudget("the decoded token count must be >= 0, got \(decodeTokens)") }
        let d = try descriptor(named: spec.name)
        let options = try PolicyOptionReader(spec: spec, descriptor: d)
        let rowBytes = geometry.headDim * (try options.kvType()).bytesPerValue
        let problem = BudgetProblem(budgetBytes: budgetBytes, tokens: tokens, geometry: geometry, rowBytes: rowBytes,
                                    decodeTokens: decodeTokens)
        switch spec.name {
        case "full": return try FullBudget.fit(spec, problem)
        case "window", "streaming-llm": return try WindowBudget.fit(spec, options: options, problem)
        case "pod": return try PoDBudget.fit(spec, options: options, problem)
        case "h2o": return try H2OBudget.fit(spec, options: options, problem)
        case "snapkv": return try SnapKVBudget.fit(spec, options: options, problem)
        case "pyramidkv": return try PyramidKVBudget.fit(spec, options: options, problem)
        case "pod+snapkv": return try PoDSnapKVBudget.fit(spec, options: options, problem)
        default: throw BudgetError.noFitter(policy: spec.name)
        }
    }

    /// Bytes a full cache of `geometry` holds after `tokens` tokens with f16 storage, or with the storage
    /// type `spec` names: the reference for `--budget-ratio`.
    public static func fullCacheBytes(tokens: Int, geometry: KVGeometry, elementType: KVElementType = .f16) -> Int {
        2 * geometry.layerCount * geometry.kvHeadCount * tokens * geometry.headDim * elementType.bytesPerValue
    }
}

/// The budget to meet: at most `budgetBytes` after `tokens` tokens, rows of `rowBytes` bytes, the last
/// `decodeTokens` of them decoded one at a time.
struct BudgetProblem {
    var budgetBytes: Int
    var tokens: Int
    var geometry: KVGeometry
    var rowBytes: Int
    var decodeTokens: Int = 0

    /// Tokens of the prompt: a vote-at-decode policy votes when the first decode row arrives after them.
    var promptTokens: Int { tokens - decodeTokens }

    /// Key plus value rows of every (layer, KV head) per token position held by all of them.
    var rowsPerPosition: Int { 2 * geometry.layerCount * geometry.kvHeadCount }
    var fullBytes: Int { rowsPerPosition * tokens * rowBytes }
    /// Budget in whole rows.
    var budgetRows: Int { budgetBytes / rowBytes }
}

/// Why a policy could not be fitted to a memory budget.
public enum BudgetError: Error, CustomStringConvertible, Equatable {
    case invalidBudget(String)
    case noFitter(policy: String)
    /// The policy's smallest setting still holds `minimumBytes`.
    case cannotMeet(policy: String, budgetBytes: Int, minimumBytes: Int, why: String)

    public var description: String {
        switch self {
        case .invalidBudget(let why): "invalid KV budget: \(why)"
        case .noFitter(let p): "policy '\(p)' has no budget fitter; it cannot take part in an equal-budget comparison"
        case .cannotMeet(let p, let b, let m, let why):
            "policy '\(p)' cannot hold at most \(b) bytes: its smallest setting needs \(m) bytes (\(why))"
        }
    }
}
