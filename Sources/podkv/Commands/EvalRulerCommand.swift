import ArgumentParser
import Foundation
import PodKV
import PodKVEval

/// `podkv eval ruler`: generated long-context tasks, accuracy per task and policy.
struct EvalRulerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ruler", abstract: "RULER-style synthetic tasks (retrieval, multi-key/value, variable tracking, common words).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var evalOptions: EvalRunOptions

    @Option(name: .long, help: "Tasks, comma list or all: \(RulerTask.allCases.map(\.rawValue).joined(separator: ", ")).")
    var tasks: String = "all"
    @Option(name: .long, help: "Prompt lengths in tokens, comma list.")
    var length: String = "2048"
    @Option(name: .long, help: "Samples per task and length.")
    var samples: Int = 3

    func validate() throws {
        do { _ = try RulerTask.parseList(tasks) } catch { throw ValidationError("\(error)") }
        _ = try EvalRunOptions.ints(length, flag: "length")
        if samples < 1 { throw ValidationError("--samples must be at least 1") }
    }

    func run() throws {
        let model = try modelOptions.load()
        let config = RulerConfig(
            tasks: try RulerTask.parseList(tasks), lengths: try EvalRunOptions.ints(length, flag: "length"), samples: samples,
            policies: try evalOptions.parsedPolicies, budget: try evalOptions.budget, seed: evalOptions.seed)
        let log = try TrialLog(url: evalOptions.outURL.appendingPathComponent(EvalReport.rulerFile))
        let runner = RulerRunner(model: model, modelName: EvalRunOptions.modelName(modelOptions.model), config: config)
        let added = try runner.run(log: log, status: Terminal.status) { Terminal.error("warning: \($0)") }
        Terminal.clearStatus()
        Terminal.error("ruler: \(added.count) new trials (\(log.completed.count) in \(log.url.path))")
        try evalOptions.writeReport()
    }
}
