import PodKVModel

/// PyramidKV (Cai et al., "PyramidKV: Dynamic KV Cache Compression based on Pyramidal Information
/// Funneling", arXiv 2406.02069): SnapKV selection (see `SnapKVCache`) with per-layer budgets that decrease
/// linearly with depth, because lower layers spread attention widely and upper layers focus on few tokens.
///
/// Budget schedule (the paper's arithmetic sequence, as in its reference code): with mean budget B,
/// observation window W and selected part S = B - W per layer, the top layer selects S / beta tokens,
/// the bottom layer 2S - S / beta, layers in between linearly; every layer also keeps its window. The
/// rounding remainder goes to the lowest layers so that the total equals snapkv's at the same `budget`
/// exactly: sum of budgets = layerCount * B.
///
/// Parameters: `budget` (mean tokens per layer and KV head, >= window, default 1024), `window` (32),
/// `beta` (>= 1, default 20; 1 = uniform budgets, i.e. snapkv), `kernel` (7), `kv-type`.
public enum PyramidKVCache {
    /// Per-layer budgets (layerCount) for mean `budget`, window `window`, steepness `beta`; each >= window,
    /// non-increasing with depth, summing to layerCount * budget.
    public static func budgets(layerCount L: Int, budget: Int, window: Int, beta: Int) -> [Int] {
        precondition(L >= 1 && budget >= window && beta >= 1)
        let selected = budget - window
        guard L > 1 else { return [budget] }
        let top = Double(selected) / Double(beta)
        let bottom = 2 * Double(selected) - top
        var parts = (0..<L).map { l in Int((bottom + (top - bottom) * Double(l) / Double(L - 1)).rounded(.down)) }
        var remainder = L * selected - parts.reduce(0, +)
        var l = 0
        while remainder > 0 {
            parts[l] += 1
            remainder -= 1
            l = (l + 1) % L
        }
        return parts.map { $0 + window }
    }

    static let descriptor = PolicyDescriptor(
        name: "pyramidkv", summary: "snapkv with per-layer budgets decreasing linearly with depth (same total)",
        reference: "Cai et al., arXiv 2406.02069",
        options: [
            .budget("1024", "mean tokens kept per layer and KV head after the prompt (>= window)"),
            PolicyOption("window", "32", "observation window: last prompt queries that vote, always kept (>= 1)"),
            PolicyOption("beta", "20", "top layer selects (budget - window) / beta tokens, bottom 2x minus that (>= 1)"),
            .poolKernel, .kvType,
        ],
        compressesAtDecode: true
    ) { opts, geometry, _ in
        let window = try opts.int("window", default: 32, in: 1...geometry.contextLength)
        let budget = try opts.explicitBudget(minimum: window, why: "the observation window is always kept", geometry: geometry)
            ?? max(window, min(1024, geometry.contextLength))
        let beta = try opts.int("beta", default: 20, in: 1...1_000_000)
        let budgets = budgets(layerCount: geometry.layerCount, budget: budget, window: window, beta: beta)
        return SnapKVCache(
            name: "pyramidkv", geometry: geometry, budgets: budgets, window: window, kernel: try opts.poolKernel(),
            elementType: try opts.kvType())
    }
}
