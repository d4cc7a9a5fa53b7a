import PodKVCache
import PodKVModel

/// Expected KV memory saving of a PoD plan, from the same row formula the `pod` policy reports
/// (`PoDCache.formulaRows`, POD.md §6): saving = 1 - rows(PoD) / rows(full).
public enum PlanSavings {
    /// Saving at `contextLength` tokens with the given proximal region (`sink` + `window`).
    public static func saving(plan: PoDPlan, sink: Int, window: Int, contextLength n: Int) -> Double {
        let m = plan.model
        guard n > 0 else { return 0 }
        let geometry = KVGeometry(layerCount: m.layerCount, headCount: m.headCount, kvHeadCount: m.kvHeadCount,
                                  headDim: m.headDim, contextLength: n)
        let pod = PoDCache.formulaRows(geometry: geometry, plan: plan, sink: sink, window: window, tokens: n)
        let full = 2 * m.layerCount * m.kvHeadCount * n
        return 1 - Double(pod) / Double(full)
    }

    /// The context lengths a plan reports: 2K, 4K, 8K, 16K, 32K up to the model's context length, plus
    /// that length itself when it is below 32K and not in the list.
    public static func reportedContexts(modelContextLength: Int) -> [Int] {
        var contexts = [2048, 4096, 8192, 16384, 32768].filter { $0 <= modelContextLength }
        if modelContextLength < 32768, !contexts.contains(modelContextLength) { contexts.append(modelContextLength) }
        return contexts
    }

    /// `PoDPlan.Saving` entries for `reportedContexts(modelContextLength:)`.
    public static func table(plan: PoDPlan, sink: Int, window: Int, modelContextLength: Int) -> [PoDPlan.Saving] {
        reportedContexts(modelContextLength: modelContextLength).map {
            PoDPlan.Saving(contextLength: $0, saving: saving(plan: plan, sink: sink, window: window, contextLength: $0))
        }
    }
}
