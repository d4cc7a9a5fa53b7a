/// `pyramidkv`: snapkv with per-layer budgets B_l (`PyramidKVCache.budgets`, mean `budget`, decreasing
/// with depth). Layer l holds min(prompt, B_l) + decoded rows after the vote, so when the prompt is
/// shorter than the lower layers' budgets those layers hold less than their share and the mean budget
/// can grow past snapkv's. The fitted `budget` is the largest (window ... context length) whose
/// 2·H·Σ_l held_l rows fit; `window` (32), `beta` (20) and `kernel` are kept as written.
enum PyramidKVBudget {
    static func fit(_ spec: PolicySpec, options: PolicyOptionReader, _ p: BudgetProblem) throws -> PolicySpec {
        try SelectionBudgetSearch.checkPrompt(p, policy: "pyramidkv")
        let g = p.geometry
        let window = try options.int("window", default: 32, in: 1...g.contextLength)
        let beta = try options.int("beta", default: 20, in: 1...1_000_000)
        func bytes(_ b: Int) -> Int { Self.bytes(budget: b, window: window, beta: beta, p) }
        guard let budget = SelectionBudgetSearch.largestBudget(in: window...g.contextLength, p, bytes: bytes) else {
            throw BudgetError.cannotMeet(
                policy: "pyramidkv", budgetBytes: p.budgetBytes, minimumBytes: bytes(window),
                why: p.decodeTokens == 0
                    ? "without a decoded token the prompt is never compressed"
                    : "the observation window of \(window) plus \(p.decodeTokens) decoded tokens in every layer and KV head")
        }
        return spec.setting("budget", String(budget))
    }

    /// Formula bytes after `p.tokens` tokens (`SnapKVCache.memoryReport` with the pyramid's budgets).
    static func bytes(budget: Int, window: Int, beta: Int, _ p: BudgetProblem) -> Int {
        let g = p.geometry
        let perLayer = PyramidKVCache.budgets(layerCount: g.layerCount, budget: budget, window: window, beta: beta)
        let rows = perLayer.reduce(0) { sum, b in sum + SelectionBudgetSearch.heldRows(p) { min($0, b) } }
        return 2 * g.kvHeadCount * rows * p.rowBytes
    }
}
