/// The full cache has nothing to choose: it meets the budget only when every token fits.
enum FullBudget {
    static func fit(_ spec: PolicySpec, _ p: BudgetProblem) throws -> PolicySpec {
        guard p.fullBytes <= p.budgetBytes else {
            throw BudgetError.cannotMeet(
                policy: "full", budgetBytes: p.budgetBytes, minimumBytes: p.fullBytes,
                why: "the full cache keeps all \(p.tokens) tokens in every layer; use it as the unbudgeted reference")
        }
        return spec
    }
}
