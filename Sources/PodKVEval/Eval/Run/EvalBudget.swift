import PodKV

/// The equal-budget setting of a run: no budget, a byte count, or a fraction of the f16 full cache at the
/// trial's length.
public enum EvalBudget: Sendable, Equatable, CustomStringConvertible {
    case none
    case bytes(Int)
    case ratio(Double)

    /// Builds the budget from the two CLI flags (at most one may be given).
    public init(bytes: Int?, ratio: Double?) throws {
        switch (bytes, ratio) {
        case (nil, nil): self = .none
        case (let b?, nil):
            guard b > 0 else { throw EvalError.badInput("--budget-bytes must be positive, got \(b)") }
            self = .bytes(b)
        case (nil, let r?):
            guard r > 0, r.isFinite else { throw EvalError.badInput("--budget-ratio must be a positive number, got \(r)") }
            self = .ratio(r)
        default: throw EvalError.badInput("give either --budget-bytes or --budget-ratio, not both")
        }
    }

    public var description: String {
        switch self {
        case .none: "none"
        case .bytes(let b): "\(b) bytes"
        case .ratio(let r): "\(r) x full"
        }
    }

    /// Budget in bytes for a cache holding `tokens` tokens, or nil without a budget.
    public func bytes(tokens: Int, geometry: KVGeometry) -> Int? {
        switch self {
        case .none: nil
        case .bytes(let b): b
        case .ratio(let r): Int((r * Double(KVPolicyRegistry.fullCacheBytes(tokens: tokens, geometry: geometry))).rounded(.down))
        }
    }

    /// What to run for `policy` at `tokens` tokens, `decodeTokens` of which arrive one row at a time (the
    /// policies that compress when decoding starts are fitted for that split).
    public func resolve(_ policy: EvalPolicy, tokens: Int, geometry: KVGeometry,
                        decodeTokens: Int = KVPolicyRegistry.defaultDecodeTokens) throws -> BudgetedPolicy {
        guard let budget = bytes(tokens: tokens, geometry: geometry) else {
            return BudgetedPolicy(spec: policy.spec, budgetBytes: nil, note: nil, runs: true)
        }
        do {
            let fitted = try KVPolicyRegistry.fit(policy.spec, budgetBytes: budget, tokens: tokens, geometry: geometry,
                                                  decodeTokens: decodeTokens)
            return BudgetedPolicy(spec: fitted, budgetBytes: budget, note: nil, runs: true)
        } catch let e as BudgetError {
            // The full cache is the unbudgeted reference; other policies that cannot meet the budget are skipped.
            if policy.spec.name == "full" {
                return BudgetedPolicy(spec: policy.spec, budgetBytes: budget, note: "reference, over budget", runs: true)
            }
            return BudgetedPolicy(spec: policy.spec, budgetBytes: budget, note: e.description, runs: false)
        }
    }
}

/// A policy resolved against a budget.
public struct BudgetedPolicy: Sendable {
    /// The spec to run (with fitted parameters under a budget).
    public var spec: PolicySpec
    public var budgetBytes: Int?
    /// Why the policy is a reference or skipped.
    public var note: String?
    /// False when the policy cannot meet the budget and is not run.
    public var runs: Bool
}
