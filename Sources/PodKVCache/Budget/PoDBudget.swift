import PodKVModel

/// PoD: values of every token stay in every layer, so PoD alone never goes below about half of the full
/// cache (POD.md §6). Rows held: L·H·n values + Σ_h [B_h·n + (L − B_h)·min(n, sink + window)] keys.
///
/// What is fitted:
/// - with a `plan` file or a written `group-size`, only the window (the largest that fits);
/// - with a written `window`, only the group size (the smallest that fits);
/// - with neither, the smallest uniform group size (from 2 up) whose largest fitting window covers at
///   least a sixteenth of the tokens (so the proximal region is not degenerate), else the group size
///   that leaves the largest window.
/// `sink`, `distant-query`, `skip-threshold` and `kv-type` are kept as written.
enum PoDBudget {
    static func fit(_ spec: PolicySpec, options: PolicyOptionReader, _ p: BudgetProblem) throws -> PolicySpec {
        let g = p.geometry
        let sink = try options.int("sink", default: 16, in: 0...g.contextLength)
        if let path = options.string("plan") {
            let plan = try PoDPlan.load(path: path)
            guard plan.owners.count == g.kvHeadCount, plan.owners.allSatisfy({ $0.count == g.layerCount }) else {
                throw PoDPlanError.invalid("plan '\(path)' does not have the model's \(g.kvHeadCount) KV heads x \(g.layerCount) layers")
            }
            let w = try largestWindow(blocks: plan.blockCounts, sink: sink, spec: spec, p)
            return spec.setting("window", String(w))
        }
        if options.string("group-size") != nil {
            let size = try options.int("group-size", default: 2, in: 1...g.layerCount)
            let w = try largestWindow(blocks: blocks(groupSize: size, g), sink: sink, spec: spec, p)
            return spec.setting("window", String(w))
        }
        if options.string("window") != nil {
            let window = try options.int("window", default: 1024, in: 1...g.contextLength)
            for size in 1...g.layerCount where bytes(blocks: blocks(groupSize: size, g), sink: sink, window: window, p) <= p.budgetBytes {
                return spec.setting("group-size", String(size))
            }
            throw BudgetError.cannotMeet(
                policy: "pod", budgetBytes: p.budgetBytes,
                minimumBytes: bytes(blocks: blocks(groupSize: g.layerCount, g), sink: sink, window: window, p),
                why: "one block of all \(g.layerCount) layers with window \(window); values are never shared")
        }
        // Neither given: walk group sizes upward, keeping the best window seen.
        let wanted = max(1, p.tokens / 16)
        var best: (size: Int, window: Int)?
        for size in 2...max(2, g.layerCount) where size <= g.layerCount {
            guard let w = try? largestWindow(blocks: blocks(groupSize: size, g), sink: sink, spec: spec, p) else { continue }
            if best == nil || w > best!.window { best = (size, w) }
            if w >= wanted { break }
        }
        guard let chosen = best else {
            throw BudgetError.cannotMeet(
                policy: "pod", budgetBytes: p.budgetBytes,
                minimumBytes: bytes(blocks: blocks(groupSize: g.layerCount, g), sink: sink, window: 1, p),
                why: "one block of all \(g.layerCount) layers with window 1; values are never shared, so PoD alone stays above ~50% of full")
        }
        return spec.setting("group-size", String(chosen.size)).setting("window", String(chosen.window))
    }

    /// Blocks per KV head of uniform groups of `size` layers.
    static func blocks(groupSize size: Int, _ g: KVGeometry) -> [Int] {
        Array(repeating: (g.layerCount + size - 1) / size, count: g.kvHeadCount)
    }

    /// Formula bytes after `p.tokens` tokens (the policy's own `PoDCache.formulaRows`).
    static func bytes(blocks: [Int], sink: Int, window: Int, _ p: BudgetProblem) -> Int {
        let g = p.geometry, n = p.tokens
        let proximal = min(n, sink + window)
        let keys = blocks.reduce(0) { $0 + $1 * n + (g.layerCount - $1) * proximal }
        return (g.layerCount * g.kvHeadCount * n + keys) * p.rowBytes
    }

    /// The largest window (capped where it stops mattering: the tokens there are and the context length)
    /// whose bytes fit the budget.
    static func largestWindow(blocks: [Int], sink: Int, spec: PolicySpec, _ p: BudgetProblem) throws -> Int {
        let g = p.geometry
        let cap = max(1, min(p.tokens - sink, g.contextLength - sink))
        guard bytes(blocks: blocks, sink: sink, window: 1, p) <= p.budgetBytes else {
            throw BudgetError.cannotMeet(
                policy: "pod", budgetBytes: p.budgetBytes, minimumBytes: bytes(blocks: blocks, sink: sink, window: 1, p),
                why: "\(blocks.first ?? 0) blocks per KV head with window 1; values are never shared, so PoD alone stays above ~50% of full")
        }
        // Bytes grow monotonically with the window: binary search the last window that fits.
        var lo = 1, hi = cap
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if bytes(blocks: blocks, sink: sink, window: mid, p) <= p.budgetBytes { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }
}
