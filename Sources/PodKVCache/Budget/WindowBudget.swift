/// `window` and `streaming-llm`: every layer holds min(n, sink + window) key and value rows, so the
/// fitted window is the largest with 2·L·H·(sink + window) rows within the budget (never beyond the
/// tokens there are: a longer window holds nothing more). `sink` is kept as written (default 16 for
/// streaming-llm, 0 for window).
enum WindowBudget {
    static func fit(_ spec: PolicySpec, options: PolicyOptionReader, _ p: BudgetProblem) throws -> PolicySpec {
        let sink = spec.name == "window" ? 0 : try options.int("sink", default: 16, in: 0...p.geometry.contextLength)
        let positions = p.budgetRows / p.rowsPerPosition
        let window = min(positions - sink, max(1, p.tokens - sink), p.geometry.contextLength - sink)
        guard window >= 1 else {
            throw BudgetError.cannotMeet(
                policy: spec.name, budgetBytes: p.budgetBytes,
                minimumBytes: p.rowsPerPosition * min(p.tokens, sink + 1) * p.rowBytes,
                why: "\(sink) sink tokens plus a window of 1 in every layer")
        }
        return spec.setting("window", String(window))
    }

    /// Formula bytes of a sink + window cache after `tokens` tokens (the policy's own memory formula).
    static func bytes(sink: Int, window: Int, _ p: BudgetProblem) -> Int {
        p.rowsPerPosition * min(p.tokens, sink + window) * p.rowBytes
    }
}
