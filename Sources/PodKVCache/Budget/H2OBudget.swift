/// `h2o`: every layer and KV head holds min(n, budget) key and value rows at every step (tokens are
/// evicted as they arrive, prefill and decode alike), so the fitted `budget` is the largest with
/// 2·L·H·min(n, budget) rows within the budget, capped by the context length (a larger budget is
/// invalid and, past n tokens, holds nothing more). `sink` and `window` are kept as written; without a
/// written window the policy splits the budget evenly between heavy hitters and recent tokens.
enum H2OBudget {
    static func fit(_ spec: PolicySpec, options: PolicyOptionReader, _ p: BudgetProblem) throws -> PolicySpec {
        let g = p.geometry
        let sink = try options.int("sink", default: 0, in: 0...g.contextLength)
        let window = try options.optionalInt("window", in: 1...g.contextLength)
        // The policy's own minimum: sink + window are never evicted (window >= 1 when derived).
        let minimum = sink + (window ?? 1)
        guard minimum <= g.contextLength,
              let budget = SelectionBudgetSearch.largestBudget(in: minimum...g.contextLength, p, bytes: { bytes(budget: $0, p) })
        else {
            throw BudgetError.cannotMeet(
                policy: "h2o", budgetBytes: p.budgetBytes, minimumBytes: bytes(budget: minimum, p),
                why: "\(sink) sink tokens plus a window of \(window ?? 1) kept in every layer and KV head")
        }
        return spec.setting("budget", String(budget))
    }

    /// Formula bytes after `p.tokens` tokens (the policy's own `memoryReport`).
    static func bytes(budget: Int, _ p: BudgetProblem) -> Int {
        p.rowsPerPosition * min(p.tokens, budget) * p.rowBytes
    }
}
