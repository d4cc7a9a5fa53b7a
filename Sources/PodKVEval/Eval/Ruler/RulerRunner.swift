import Foundation
import PodKV

/// Settings of a RULER-style run.
public struct RulerConfig: Sendable {
    public var tasks: [RulerTask]
    public var lengths: [Int]
    /// Samples per task and length.
    public var samples: Int
    public var policies: [EvalPolicy]
    public var budget: EvalBudget
    public var seed: UInt64

    public init(tasks: [RulerTask], lengths: [Int], samples: Int, policies: [EvalPolicy], budget: EvalBudget = .none, seed: UInt64 = 1) {
        self.tasks = tasks
        self.lengths = lengths
        self.samples = samples
        self.policies = policies
        self.budget = budget
        self.seed = seed
    }

    /// The seed of one sample: mixes the run seed, task, length and index (each sample differs).
    func sampleSeed(_ task: RulerTask, length: Int, index: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for b in "\(task.rawValue)|\(length)|\(index)".utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}

/// Runs every task x length x sample under every policy; resumable through its `TrialLog`.
public struct RulerRunner {
    public let model: LanguageModel
    public let modelName: String
    public let config: RulerConfig

    public init(model: LanguageModel, modelName: String, config: RulerConfig) {
        self.model = model
        self.modelName = modelName
        self.config = config
    }

    /// Runs the trials missing from `log`; returns the rows this call added.
    @discardableResult
    public func run(log: TrialLog, status: (String) -> Void = { _ in }, warn: @escaping @Sendable (String) -> Void = { _ in }) throws -> [RulerTrial] {
        let c = config
        guard !c.tasks.isEmpty, !c.lengths.isEmpty, !c.policies.isEmpty, c.samples >= 1 else {
            throw EvalError.badInput("RULER needs at least one task, length, policy and sample")
        }
        for l in c.lengths where l < 64 || l + 80 > model.config.contextLength {
            throw EvalError.badInput("length \(l) must be in 64...\(model.config.contextLength - 80) (the model's context minus answer room)")
        }
        let geometry = KVGeometry(model.config)
        func key(_ t: RulerTask, _ l: Int, _ i: Int, _ p: EvalPolicy) -> String {
            "ruler|\(modelName)|\(t.rawValue)|\(l)|\(i)|\(p.label)|\(c.seed)|\(c.budget)"
        }
        var todo = 0, units = 0
        for t in c.tasks { for l in c.lengths { for i in 0..<c.samples { for p in c.policies where !log.completed.contains(key(t, l, i, p)) { todo += 1; units += l } } } }
        var meter = ProgressMeter(totalTrials: todo, totalUnits: units)
        var added: [RulerTrial] = []
        for task in c.tasks {
            for length in c.lengths {
                for index in 0..<c.samples {
                    let pending = c.policies.filter { !log.completed.contains(key(task, length, index, $0)) }
                    if pending.isEmpty { continue }
                    let seed = c.sampleSeed(task, length: length, index: index)
                    let sample = try RulerSample.make(task, length: length, seed: seed, model: model)
                    for policy in pending {
                        status(meter.line("ruler \(task.rawValue) #\(index) \(policy.label) length \(length)"))
                        let plan = try c.budget.resolve(policy, tokens: sample.tokens.count + sample.maxTokens, geometry: geometry,
                                                        decodeTokens: sample.maxTokens)
                        var row = RulerTrial(
                            trialKey: key(task, length, index, policy), model: modelName, task: task.rawValue, sample: index,
                            length: length, policy: policy.label, policySpec: plan.spec.description,
                            promptTokens: sample.tokens.count, seed: seed, expected: sample.expected, answer: "",
                            budgetBytes: plan.budgetBytes, note: plan.note)
                        if plan.runs {
                            let a = try GreedyAnswer.run(model: model, spec: plan.spec, prompt: sample.tokens, maxTokens: sample.maxTokens, warn: warn)
                            row.answer = a.text
                            row.score = AnswerScoring.fractionContained(answer: a.text, expected: sample.expected)
                            row.kvBytes = a.kv.allocatedBytes
                            row.kvFormulaBytes = a.kv.formulaBytes
                            row.kvFullBytes = a.kv.fullCacheBytes
                            row.generatedTokens = a.generatedTokens
                            row.prefillSeconds = a.prefillSeconds
                            row.decodeSeconds = a.decodeSeconds
                        }
                        try log.append(row, key: row.trialKey)
                        added.append(row)
                        meter.finish(units: length)
                    }
                }
            }
        }
        return added
    }
}
