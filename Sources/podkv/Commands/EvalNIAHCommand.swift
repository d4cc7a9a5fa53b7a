import ArgumentParser
import Foundation
import PodKV
import PodKVEval

/// `podkv eval niah`: needle-in-a-haystack grid over lengths x depths for several policies.
struct EvalNIAHCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "niah", abstract: "Needle in a haystack over --lengths x --depths for each policy.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var evalOptions: EvalRunOptions

    @Option(name: .long, help: "Prompt lengths in tokens, comma list.")
    var lengths: String = "1024,2048,4096"
    @Option(name: .long, help: "Needle depths in percent, comma list.")
    var depths: String = "0,25,50,75,100"
    @Option(name: .long, help: "Directory (or file) of .txt haystack text; default: the built-in generated haystack.")
    var haystack: String?
    @Option(name: .long, help: "Needle sentence (with --question and --answer; default: a magic number from --seed).")
    var needle: String?
    @Option(name: .long, help: "Question asked after the haystack.")
    var question: String?
    @Option(name: .long, help: "Expected answer (scored by containment and ROUGE-L).")
    var answer: String?
    @Option(name: .long, help: "Text appended after the assistant turn opens (e.g. \"The special magic number is\").")
    var answerPrefix: String = ""
    @Option(name: .long, help: "Most answer tokens.")
    var maxTokens: Int = 32

    func validate() throws {
        let given = [needle, question, answer].compactMap { $0 }.count
        if given != 0 && given != 3 { throw ValidationError("give --needle, --question and --answer together (or none for the default)") }
        if let a = answer, let n = needle, !n.contains(a) { throw ValidationError("--answer '\(a)' does not appear in --needle") }
        if maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1") }
        _ = try EvalRunOptions.ints(lengths, flag: "lengths")
        for d in depths.split(separator: ",") where Double(d.trimmingCharacters(in: .whitespaces)) == nil {
            throw ValidationError("--depths: '\(d)' is not a number")
        }
    }

    func run() throws {
        let model = try modelOptions.load()
        let custom = needle.map { Needle(text: $0, question: question!, answer: answer!) }
        let config = NIAHConfig(
            lengths: try EvalRunOptions.ints(lengths, flag: "lengths"),
            depths: depths.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces))! },
            policies: try evalOptions.parsedPolicies, needle: custom,
            haystack: haystack.map { .files(URL(fileURLWithPath: $0)) }, budget: try evalOptions.budget,
            maxAnswerTokens: maxTokens, seed: evalOptions.seed, answerPrefix: answerPrefix)
        do { try config.validate(contextLength: model.config.contextLength) } catch { throw ValidationError("\(error)") }
        let log = try TrialLog(url: evalOptions.outURL.appendingPathComponent(EvalReport.niahFile))
        let runner = NIAHRunner(model: model, modelName: EvalRunOptions.modelName(modelOptions.model), config: config)
        let added = try runner.run(log: log, status: Terminal.status) { Terminal.error("warning: \($0)") }
        Terminal.clearStatus()
        Terminal.error("niah: \(added.count) new trials (\(log.completed.count) in \(log.url.path))")
        try evalOptions.writeReport()
    }
}
