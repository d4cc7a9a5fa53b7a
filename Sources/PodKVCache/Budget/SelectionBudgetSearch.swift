/// What the token-selection fitters (`H2OBudget`, `SnapKVBudget`, `PyramidKVBudget`, `PoDSnapKVBudget`)
/// share: the rows a vote-at-decode cache holds after the budget problem's tokens, and the search for the
/// largest `budget` whose bytes fit.
enum SelectionBudgetSearch {
    /// Rows one (layer, KV head) of a vote-at-decode cache holds after `p.tokens` tokens when its vote
    /// keeps `kept(held)` of the `held` rows it has when the first decode row arrives: every token until
    /// the vote, the kept rows plus every decoded token after it. Mirrors the `base` bookkeeping of
    /// `SnapKVCache` / `PoDSnapKVCache.memoryReport` (the prompt's rows are `promptTokens`).
    static func heldRows(_ p: BudgetProblem, kept: (Int) -> Int) -> Int {
        guard p.decodeTokens > 0 else { return p.tokens }
        return kept(p.promptTokens) + p.decodeTokens
    }

    /// The largest budget in `range` whose `bytes` are at most `p.budgetBytes`, scanning down from the top
    /// so that the answer is exact even where the bytes are not monotone in the budget (pyramidkv's rounded
    /// per-layer split); by construction one more token of budget no longer fits (unless at the top of
    /// `range`). Nil when even `range.lowerBound` does not fit. At most a context length of steps, each a
    /// closed formula.
    static func largestBudget(in range: ClosedRange<Int>, _ p: BudgetProblem, bytes: (Int) -> Int) -> Int? {
        var b = range.upperBound
        while b >= range.lowerBound {
            if bytes(b) <= p.budgetBytes { return b }
            b -= 1
        }
        return nil
    }

    /// Checks that the vote-at-decode families have a prompt to vote on.
    static func checkPrompt(_ p: BudgetProblem, policy: String) throws {
        guard p.decodeTokens < p.tokens else {
            throw BudgetError.invalidBudget(
                "\(policy): \(p.decodeTokens) decoded tokens leave no prompt in \(p.tokens) tokens (decoded tokens must be fewer)")
        }
    }
}
