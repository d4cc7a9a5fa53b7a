import PodKVCache
import PodKVModel

/// A plan chosen from similarity matrices, with the numbers that justify it.
public struct PlanChoice: Sendable {
    public var plan: PoDPlan
    /// The delta the greedy rule ran with (given, or found for a target saving).
    public var delta: Double
    /// Mean similarity of non-owner layers to their owners (1 = nothing shared); 1 - this is the loss proxy.
    public var meanOwnerSimilarity: Double
    /// Saving at the target's context length (target rule only).
    public var targetSaving: Double?
}

/// Turns calibrated similarity matrices into a `PoDPlan` (POD.md §5) with its expected savings.
public enum PlanBuilder {
    /// Builds the plan for `settings.grouping`.
    /// - Parameters:
    ///   - similarity: `[kvHead][layer][layer]` 1 - JSD, matching `model`'s head and layer counts.
    ///   - model: fingerprint of the calibrated model (the plan is refused by any other model).
    ///   - modelContextLength: the model's trained context, the largest reported saving context.
    ///   - extraSettings: more plan-file settings (e.g. data paths), merged over `settings.planSettings`.
    public static func build(
        similarity: [[[Double]]], model: ModelFingerprint, modelContextLength: Int, settings: CalibrationSettings,
        extraSettings: [String: String] = [:]
    ) throws -> PlanChoice {
        guard similarity.count == model.kvHeadCount,
              similarity.allSatisfy({ $0.count == model.layerCount && $0.allSatisfy { $0.count == model.layerCount } })
        else {
            throw CalibrationError.invalidInput(
                "similarity matrices do not match the model's \(model.kvHeadCount) KV heads x \(model.layerCount) layers")
        }
        var chosenDelta: Double
        var target: Double?
        switch settings.grouping {
        case .delta(let d):
            chosenDelta = d
        case .targetSaving(let s, let n):
            let found = try deltaForTarget(similarity: similarity, model: model, saving: s, contextLength: n,
                                           sink: settings.sink, window: settings.window)
            chosenDelta = found.delta
            target = found.saving
        }
        let owners = try GreedyGrouping.owners(similarity: similarity, delta: chosenDelta)
        var plan = PoDPlan(model: model, owners: owners, similarity: similarity)
        plan.settings = settings.planSettings.merging(extraSettings) { _, new in new }
        plan.settings["chosen-delta"] = String(chosenDelta)
        let quality = GreedyGrouping.meanOwnerSimilarity(owners: owners, similarity: similarity)
        plan.settings["mean-owner-similarity"] = String(quality)
        plan.savings = PlanSavings.table(plan: plan, sink: settings.sink, window: settings.window,
                                         modelContextLength: modelContextLength)
        try plan.validate(for: model)
        return PlanChoice(plan: plan, delta: chosenDelta, meanOwnerSimilarity: quality, targetSaving: target)
    }

    /// The largest delta whose greedy plan saves at least `saving` at `contextLength`.
    ///
    /// The greedy plan only changes where delta crosses a similarity value, so the candidates are the
    /// distinct matrix entries (and 0). Searching from the top finds the plan that meets the target while
    /// sharing keys only between the most similar layers.
    public static func deltaForTarget(
        similarity: [[[Double]]], model: ModelFingerprint, saving target: Double, contextLength: Int, sink: Int, window: Int
    ) throws -> (delta: Double, saving: Double) {
        var candidates = Set<Double>([0, 1])
        for m in similarity { for row in m { for v in row where v.isFinite && v >= 0 && v <= 1 { candidates.insert(v) } } }
        var best = 0.0
        for delta in candidates.sorted(by: >) {
            let owners = try GreedyGrouping.owners(similarity: similarity, delta: delta)
            let s = PlanSavings.saving(plan: PoDPlan(model: model, owners: owners), sink: sink, window: window,
                                       contextLength: contextLength)
            if s >= target { return (delta, s) }
            best = max(best, s)
        }
        throw CalibrationError.unreachableTarget(
            "the most any plan saves at \(contextLength) tokens with sink \(sink) + window \(window) is \(percent(best)) (one block per head); asked for \(percent(target))")
    }

    static func percent(_ x: Double) -> String {
        let v = (x * 1000).rounded() / 10
        return "\(v)%"
    }
}
