import Foundation
import PodKV

/// Settings of a needle-in-a-haystack grid.
public struct NIAHConfig: Sendable {
    /// Prompt lengths in tokens.
    public var lengths: [Int]
    /// Needle depths in percent (0...100).
    public var depths: [Double]
    public var policies: [EvalPolicy]
    public var needle: Needle
    public var haystack: Haystack
    public var budget: EvalBudget
    public var maxAnswerTokens: Int
    public var seed: UInt64
    public var instructions: String
    public var answerPrefix: String

    public init(lengths: [Int], depths: [Double], policies: [EvalPolicy], needle: Needle? = nil, haystack: Haystack? = nil,
                budget: EvalBudget = .none, maxAnswerTokens: Int = 32, seed: UInt64 = 1,
                instructions: String = NIAHPromptBuilder.defaultInstructions, answerPrefix: String = "") {
        self.lengths = lengths
        self.depths = depths
        self.policies = policies
        self.needle = needle ?? Needle.magicNumber(seed: seed)
        self.haystack = haystack ?? .generated(seed: seed)
        self.budget = budget
        self.maxAnswerTokens = maxAnswerTokens
        self.seed = seed
        self.instructions = instructions
        self.answerPrefix = answerPrefix
    }

    /// Checks the grid before any model work.
    public func validate(contextLength: Int) throws {
        guard !lengths.isEmpty, !depths.isEmpty, !policies.isEmpty else { throw EvalError.badInput("the grid needs at least one length, depth and policy") }
        for l in lengths where l < 16 || l + maxAnswerTokens > contextLength {
            throw EvalError.badInput("length \(l) must be in 16...\(contextLength - maxAnswerTokens) (the model's context \(contextLength) minus \(maxAnswerTokens) answer tokens)")
        }
        for d in depths where !(0...100).contains(d) { throw EvalError.badInput("depth \(d) is outside 0...100 percent") }
        guard maxAnswerTokens >= 1 else { throw EvalError.badInput("the answer needs at least 1 token") }
    }
}

/// Runs a NIAH grid: for every length and depth one prompt, answered greedily under every policy;
/// each finished trial is appended to the log at once, trials already in the log are skipped.
public struct NIAHRunner {
    public let model: LanguageModel
    /// Model label in rows and keys (e.g. the store name or file name).
    public let modelName: String
    public let config: NIAHConfig

    public init(model: LanguageModel, modelName: String, config: NIAHConfig) {
        self.model = model
        self.modelName = modelName
        self.config = config
    }

    /// Runs the trials missing from `log`; returns the rows this call added.
    @discardableResult
    public func run(log: TrialLog, status: (String) -> Void = { _ in }, warn: @escaping @Sendable (String) -> Void = { _ in }) throws -> [NIAHTrial] {
        let c = config
        try c.validate(contextLength: model.config.contextLength)
        let geometry = KVGeometry(model.config)
        func key(_ p: EvalPolicy, _ l: Int, _ d: Double) -> String {
            NIAHTrial.key(model: modelName, policy: p.label, length: l, depth: d, seed: c.seed, budget: c.budget)
        }
        var todo = 0, units = 0
        for l in c.lengths { for d in c.depths { for p in c.policies where !log.completed.contains(key(p, l, d)) { todo += 1; units += l } } }
        var meter = ProgressMeter(totalTrials: todo, totalUnits: units)
        let builder = NIAHPromptBuilder(model: model, haystack: c.haystack, needle: c.needle,
                                        instructions: c.instructions, answerPrefix: c.answerPrefix)
        var added: [NIAHTrial] = []
        for length in c.lengths {
            for depth in c.depths {
                let pending = c.policies.filter { !log.completed.contains(key($0, length, depth)) }
                if pending.isEmpty { continue }
                let prompt = try builder.build(length: length, depth: depth)
                for policy in pending {
                    status(meter.line("niah \(policy.label) length \(length) depth \(Self.percent(depth))"))
                    let tokens = prompt.tokens.count + c.maxAnswerTokens
                    let plan = try c.budget.resolve(policy, tokens: tokens, geometry: geometry, decodeTokens: c.maxAnswerTokens)
                    var row = NIAHTrial(
                        trialKey: key(policy, length, depth), model: modelName, policy: policy.label,
                        policySpec: plan.spec.description, length: length, depth: depth,
                        measuredDepth: (prompt.measuredDepth * 10).rounded() / 10, needlePosition: prompt.needlePosition,
                        promptTokens: prompt.tokens.count, seed: c.seed, expected: c.needle.answer, answer: "",
                        budgetBytes: plan.budgetBytes, note: plan.note)
                    if plan.runs {
                        let a = try GreedyAnswer.run(model: model, spec: plan.spec, prompt: prompt.tokens, maxTokens: c.maxAnswerTokens, warn: warn)
                        let s = AnswerScoring.score(answer: a.text, expected: c.needle.answer)
                        row.answer = a.text
                        row.score = s.value
                        row.exact = s.exact
                        row.rougeL = s.rougeL.f1
                        row.kvBytes = a.kv.allocatedBytes
                        row.kvFormulaBytes = a.kv.formulaBytes
                        row.kvFullBytes = a.kv.fullCacheBytes
                        row.adapterBytes = a.kv.parameterBytes
                        row.generatedTokens = a.generatedTokens
                        row.prefillSeconds = a.prefillSeconds
                        row.decodeSeconds = a.decodeSeconds
                        row.prefillTokensPerSecond = a.prefillSeconds > 0 ? Double(a.promptTokens) / a.prefillSeconds : nil
                    }
                    try log.append(row, key: row.trialKey)
                    added.append(row)
                    meter.finish(units: length)
                }
            }
        }
        return added
    }

    static func percent(_ d: Double) -> String { d == d.rounded() ? "\(Int(d))%" : "\(d)%" }
}
