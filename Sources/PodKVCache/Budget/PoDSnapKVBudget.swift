import PodKVModel

/// `pod+snapkv`: SnapKV-style selection keeps `budget` tokens per layer and KV head (values in every
/// layer, keys in the owner layer of each PoD block), and the other layers of a block hold only the keys
/// of the proximal sink + window tokens. After n = prompt + decoded tokens, with the vote at the first
/// decode row keeping at most budget - 1 rows (the decode row's own slot is the last one):
///
///     held     = min(prompt, budget - 1) + decoded            (per layer and KV head)
///     proximal = min(n, sink + window)
///     rows     = Σ_h [ L·held  (values)  +  B_h·held + (L − B_h)·proximal  (keys) ]
///
/// with B_h the blocks (owner layers) of KV head h. The two savings multiply: with uniform groups of g
/// layers, rows / full ≈ (held / n) · (1 + 1/g) / 2 — SnapKV's kept fraction times PoD's key sharing
/// (3/4 for g = 2) — plus the small (1 − 1/g)/2 · proximal / n of the unshared proximal keys.
///
/// What is fitted: the largest `budget` for the written `plan` or `group-size` (default 2, the policy's).
/// Without a written `window`, the window follows the budget as in the policy's own default
/// (budget = sink + 2 x window: half recent tokens, half selected distant ones), so both are set;
/// a written `window` is kept. `sink` (16), `observation`, `kernel`, `distant-query`, `kv-type` are kept.
enum PoDSnapKVBudget {
    static func fit(_ spec: PolicySpec, options: PolicyOptionReader, _ p: BudgetProblem) throws -> PolicySpec {
        try SelectionBudgetSearch.checkPrompt(p, policy: "pod+snapkv")
        let g = p.geometry
        let sink = try options.int("sink", default: 16, in: 0...g.contextLength)
        let givenWindow = try options.optionalInt("window", in: 1...g.contextLength)
        let blocks = try ownerLayers(options, g)
        func window(_ budget: Int) -> Int { givenWindow ?? max(1, (budget - sink) / 2) }
        func bytes(_ b: Int) -> Int { Self.bytes(budget: b, sink: sink, window: window(b), blocks: blocks, p) }
        let minimum = sink + (givenWindow ?? 1)
        guard minimum <= g.contextLength,
              let budget = SelectionBudgetSearch.largestBudget(in: minimum...g.contextLength, p, bytes: bytes)
        else {
            throw BudgetError.cannotMeet(
                policy: "pod+snapkv", budgetBytes: p.budgetBytes, minimumBytes: bytes(minimum),
                why: p.decodeTokens == 0
                    ? "without a decoded token nothing is selected: every layer holds every value, as in PoD"
                    : "\(sink) sink tokens, a window of \(window(minimum)) and \(p.decodeTokens) decoded tokens in every layer and KV head")
        }
        let fitted = spec.setting("budget", String(budget))
        return givenWindow == nil ? fitted.setting("window", String(window(budget))) : fitted
    }

    /// Owner layers (PoD blocks) per KV head, from the written `plan` or `group-size` (default 2).
    static func ownerLayers(_ options: PolicyOptionReader, _ g: KVGeometry) throws -> [Int] {
        if let path = options.string("plan") {
            let plan = try PoDPlan.load(path: path)
            guard plan.owners.count == g.kvHeadCount, plan.owners.allSatisfy({ $0.count == g.layerCount }) else {
                throw PoDPlanError.invalid("plan '\(path)' does not have the model's \(g.kvHeadCount) KV heads x \(g.layerCount) layers")
            }
            return plan.blockCounts
        }
        let size = try options.int("group-size", default: 2, in: 1...g.layerCount)
        return PoDBudget.blocks(groupSize: size, g)
    }

    /// Formula bytes after `p.tokens` tokens (`PoDSnapKVCache.memoryReport`).
    static func bytes(budget: Int, sink: Int, window: Int, blocks: [Int], _ p: BudgetProblem) -> Int {
        let L = p.geometry.layerCount
        let held = SelectionBudgetSearch.heldRows(p) { min($0, budget - 1) }
        let proximal = min(p.tokens, sink + window)
        let rows = blocks.reduce(0) { $0 + L * held + $1 * held + (L - $1) * proximal }
        return rows * p.rowBytes
    }
}
