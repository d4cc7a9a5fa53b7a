/// `snapkv`: each layer and KV head holds every prompt token until the first decode row, then the
/// `budget` it voted for plus every decoded token, i.e. min(prompt, budget) + decoded rows after
/// n = prompt + decoded tokens. The fitted `budget` is the largest (window ... context length) whose
/// 2·L·H·that rows fit; `window` (the observation window, default 32) and `kernel` are kept as written.
/// With no decoded tokens (`decodeTokens` 0) the vote never happens and snapkv cannot go below full.
enum SnapKVBudget {
    static func fit(_ spec: PolicySpec, options: PolicyOptionReader, _ p: BudgetProblem) throws -> PolicySpec {
        try SelectionBudgetSearch.checkPrompt(p, policy: "snapkv")
        let g = p.geometry
        let window = try options.int("window", default: 32, in: 1...g.contextLength)
        guard let budget = SelectionBudgetSearch.largestBudget(in: window...g.contextLength, p, bytes: { bytes(budget: $0, p) }) else {
            throw BudgetError.cannotMeet(
                policy: "snapkv", budgetBytes: p.budgetBytes, minimumBytes: bytes(budget: window, p),
                why: p.decodeTokens == 0
                    ? "without a decoded token the prompt is never compressed"
                    : "the observation window of \(window) plus \(p.decodeTokens) decoded tokens in every layer and KV head")
        }
        return spec.setting("budget", String(budget))
    }

    /// Formula bytes after `p.tokens` tokens (`SnapKVCache.memoryReport` with one budget for all layers).
    static func bytes(budget: Int, _ p: BudgetProblem) -> Int {
        p.rowsPerPosition * SelectionBudgetSearch.heldRows(p) { min($0, budget) } * p.rowBytes
    }
}
