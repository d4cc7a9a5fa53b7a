import ArgumentParser
import Foundation
import PodKV
import PodKVEval

/// Options shared by the `eval` subcommands: policies, the equal-memory budget, output directory, seed.
struct EvalRunOptions: ParsableArguments {
    @Option(name: .long, parsing: .singleValue,
            help: "Policies to compare: repeatable, or a comma list (e.g. full,streaming-llm:window=256,pod:window=256,group-size=2).")
    var policies: [String] = ["full,streaming-llm,pod"]

    @Option(name: .long, help: "Equal-budget comparison: each policy fits its parameters to hold at most this many KV bytes.")
    var budgetBytes: Int?

    @Option(name: .long, help: "Equal-budget comparison: at most this fraction of the f16 full cache at each trial's length.")
    var budgetRatio: Double?

    @Option(name: .long, help: "Output directory (JSONL results, report.md, PNG heatmaps); existing results are resumed.")
    var out: String = "eval-out"

    @Option(name: .long, help: "Seed of generated needles, haystacks and tasks.")
    var seed: UInt64 = 1

    func validate() throws {
        do {
            _ = try EvalPolicy.parseList(policies)
            _ = try EvalBudget(bytes: budgetBytes, ratio: budgetRatio)
        } catch { throw ValidationError("\(error)") }
    }

    var parsedPolicies: [EvalPolicy] { get throws { try EvalPolicy.parseList(policies) } }
    var budget: EvalBudget { get throws { try EvalBudget(bytes: budgetBytes, ratio: budgetRatio) } }
    var outURL: URL { URL(fileURLWithPath: out) }

    /// Model label in rows: the name as given, or a GGUF file's base name.
    static func modelName(_ given: String) -> String {
        given.hasSuffix(".gguf") ? URL(fileURLWithPath: given).deletingPathExtension().lastPathComponent : given
    }

    /// Comma list of integers for a flag.
    static func ints(_ text: String, flag: String) throws -> [Int] {
        try text.split(separator: ",").map {
            guard let v = Int($0.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--\(flag): '\($0)' is not an integer") }
            return v
        }
    }

    /// Rewrites report.md and prints where it is.
    func writeReport() throws {
        let paths = try EvalReport.write(dir: outURL)
        Terminal.clearStatus()
        Terminal.error("report: \(paths[0])")
        for p in paths.dropFirst() { Terminal.error("heatmap: \(p)") }
    }
}
