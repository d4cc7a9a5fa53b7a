import Foundation
import PodKV

/// Settings of a perplexity / KL run.
public struct PerplexityConfig: Sendable {
    /// Tokens of each text fed to the model (the first `context` tokens, BOS included).
    public var context: Int
    /// Tokens at the end of the context whose NLL and KL are scored.
    public var scoreLast: Int
    public var policies: [EvalPolicy]
    public var budget: EvalBudget

    public init(context: Int, scoreLast: Int, policies: [EvalPolicy], budget: EvalBudget = .none) {
        self.context = context
        self.scoreLast = scoreLast
        self.policies = policies
        self.budget = budget
    }
}

/// Scores texts under several KV policies against the full cache.
///
/// All caches (the full reference first) advance in lockstep over the same tokens: the unscored prefix
/// without logits, then the scored span chunk by chunk with logits of every row. The full cache's
/// log-probabilities of a chunk are computed once and compared with each policy's before the next
/// chunk, so the reference pass runs once per text and never more than one chunk of vocab-sized rows is
/// kept (a whole span would be 1024 x 152K floats for Qwen). Every projection is exact fp32 here (no
/// int8 decode kernel), so the full-cache policy reproduces the reference exactly.
public struct PerplexityRunner {
    public let model: LanguageModel
    public let modelName: String
    public let config: PerplexityConfig

    public init(model: LanguageModel, modelName: String, config: PerplexityConfig) {
        self.model = model
        self.modelName = modelName
        self.config = config
    }

    /// Per-token measures of one policy, accumulated over texts.
    private struct Tally {
        var nll: [Double] = []
        var kl: [Double] = []
        var agree = 0
        var kv: KVMemoryReport?
        var seconds = 0.0
    }

    /// Scores `texts` (name, content); texts shorter than the context are skipped with a warning.
    public func run(texts: [(name: String, text: String)], status: (String) -> Void = { _ in },
                    warn: @escaping @Sendable (String) -> Void = { _ in }) throws -> [PerplexityResult] {
        let c = config
        guard c.scoreLast >= 1, c.scoreLast < c.context else {
            throw EvalError.badInput("--score-last must be in 1...\(c.context - 1) for a context of \(c.context), got \(c.scoreLast)")
        }
        guard c.context <= model.config.contextLength else {
            throw EvalError.badInput("context \(c.context) exceeds the model's \(model.config.contextLength) tokens")
        }
        guard !c.policies.isEmpty else { throw EvalError.badInput("no policy given") }
        let geometry = KVGeometry(model.config)
        // Policies that select tokens when decoding starts (SnapKV family) never compress on prefill chunks:
        // they score the span one row at a time, as a generation would, and are fitted for that split.
        let decodeScored = try c.policies.map { try KVPolicyRegistry.descriptor(named: $0.spec.name).compressesAtDecode }
        let plans = try c.policies.enumerated().map { i, p in
            try c.budget.resolve(p, tokens: c.context, geometry: geometry, decodeTokens: decodeScored[i] ? c.scoreLast : 0)
        }
        for (i, plan) in plans.enumerated() where !plan.runs { warn("\(c.policies[i].label): skipped, \(plan.note ?? "cannot run")") }
        let runnable = plans.indices.filter { plans[$0].runs }
        let transformer = model.makeTransformer()
        transformer.decodeUsesInt8 = false
        let vocab = model.config.vocabSize
        var tallies = [Tally](repeating: Tally(), count: plans.count)
        var used = 0
        var meter = ProgressMeter(totalTrials: texts.count, totalUnits: texts.count * c.context)
        for (name, text) in texts {
            let all = model.tokenizer.encodePrompt(text, parseSpecial: false)
            guard all.count >= c.context else {
                warn("\(name): \(all.count) tokens, shorter than the context of \(c.context); skipped")
                continue
            }
            status(meter.line("ppl \(name)"))
            let tokens = Array(all.prefix(c.context))
            let full = try model.makeCache(PolicySpec(name: "full"), warn: warn)
            let caches = try runnable.map { try model.makeCache(plans[$0].spec, warn: warn) }
            // Rows first .. context-2 predict tokens first+1 ... context-1.
            let first = c.context - c.scoreLast - 1
            let prefix = Array(tokens[0..<first])
            var times = [Double](repeating: 0, count: caches.count)
            if !prefix.isEmpty {
                _ = try transformer.forward(prefix, cache: full, logits: .none)
                for (j, cache) in caches.enumerated() {
                    let t0 = DispatchTime.now()
                    _ = try transformer.forward(prefix, cache: cache, logits: .none)
                    times[j] += seconds(since: t0)
                }
            }
            var at = first
            while at < c.context - 1 {
                let n = min(model.batchSize, c.context - 1 - at)
                let chunk = Array(tokens[at..<(at + n)])
                let ref = try transformer.forward(chunk, cache: full, logits: .all)
                let refLog = (0..<n).map { r in ref.withUnsafeBufferPointer { TokenDistribution.logSoftmax(UnsafeBufferPointer(rebasing: $0[(r * vocab)..<((r + 1) * vocab)])) } }
                let refTop = refLog.map(TokenDistribution.argmax)
                for (j, cache) in caches.enumerated() {
                    let t0 = DispatchTime.now()
                    let i = runnable[j]
                    var out: [Float] = []
                    if decodeScored[i] {
                        out.reserveCapacity(n * vocab)
                        for token in chunk { out += try transformer.forward([token], cache: cache, logits: .all) }
                    } else {
                        out = try transformer.forward(chunk, cache: cache, logits: .all)
                    }
                    times[j] += seconds(since: t0)
                    for r in 0..<n {
                        let lq = out.withUnsafeBufferPointer { TokenDistribution.logSoftmax(UnsafeBufferPointer(rebasing: $0[(r * vocab)..<((r + 1) * vocab)])) }
                        tallies[i].nll.append(-Double(lq[tokens[at + r + 1]]))
                        tallies[i].kl.append(TokenDistribution.kl(refLog[r], lq))
                        if TokenDistribution.argmax(lq) == refTop[r] { tallies[i].agree += 1 }
                    }
                }
                at += n
            }
            for (j, cache) in caches.enumerated() {
                let i = runnable[j]
                tallies[i].seconds += times[j]
                let report = cache.memoryReport()
                if tallies[i].kv == nil || report.allocatedBytes > tallies[i].kv!.allocatedBytes { tallies[i].kv = report }
            }
            used += 1
            meter.finish(units: c.context)
        }
        guard used > 0 else { throw EvalError.badInput("no text has at least \(c.context) tokens") }
        return runnable.map { i in
            let plan = plans[i], t = tallies[i]
            let kl = t.kl.sorted()
            let meanNLL = t.nll.isEmpty ? 0 : t.nll.reduce(0, +) / Double(t.nll.count)
            return PerplexityResult(
                trialKey: key(c.policies[i]),
                model: modelName, policy: c.policies[i].label, policySpec: plan.spec.description, texts: used,
                context: c.context, tokensScored: t.nll.count, ppl: exp(meanNLL), nllMean: meanNLL,
                kl: kl.isEmpty ? 0 : kl.reduce(0, +) / Double(kl.count), klMedian: Self.quantile(kl, 0.5),
                klP99: Self.quantile(kl, 0.99), klMax: kl.last ?? 0,
                top1Agreement: t.nll.isEmpty ? 0 : Double(t.agree) / Double(t.nll.count),
                kvBytes: t.kv?.allocatedBytes ?? 0, kvFormulaBytes: t.kv?.formulaBytes ?? 0, kvFullBytes: t.kv?.fullCacheBytes ?? 0,
                budgetBytes: plan.budgetBytes, adapterBytes: t.kv?.parameterBytes, seconds: t.seconds, note: plan.note)
        }
    }

    /// The resumption key of a policy's result: model, policy, context, scored span, budget (texts are
    /// part of the run's identity through the output directory).
    public func key(_ policy: EvalPolicy) -> String {
        "ppl|\(modelName)|\(policy.label)|\(config.context)|\(config.scoreLast)|\(config.budget)"
    }

    /// The q-quantile of sorted values (nearest rank), 0 when empty.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((q * Double(sorted.count)).rounded(.up)) - 1
        return sorted[max(0, min(sorted.count - 1, rank))]
    }

    private func seconds(since t0: DispatchTime) -> Double { Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e9 }
}
