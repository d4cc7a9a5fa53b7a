import ArgumentParser
import Foundation
import PodKV
import PodKVEval

/// `podkv eval ppl`: perplexity over a scored span, KL from the full cache and top-1 agreement.
struct EvalPPLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppl", abstract: "Perplexity, KL(full || policy) and top-1 agreement over the last tokens of long texts.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var evalOptions: EvalRunOptions

    @Option(name: .long, help: "Text file or directory of .txt files (repeatable).")
    var file: [String] = []
    @Option(name: .long, help: "Tokens of each text fed to the model.")
    var context: Int = 2048
    @Option(name: .long, help: "Tokens at the end of the context that are scored (default: half the context).")
    var scoreLast: Int?
    @Flag(name: .long, help: "Print one JSON object per policy on stdout.")
    var json = false

    func validate() throws {
        if file.isEmpty { throw ValidationError("give at least one --file (a text file or a directory of .txt files)") }
        if context < 2 { throw ValidationError("--context must be at least 2") }
        let s = scoreLast ?? context / 2
        if s < 1 || s >= context { throw ValidationError("--score-last must be in 1...\(context - 1), got \(s)") }
    }

    func run() throws {
        var texts: [(name: String, text: String)] = []
        for f in file {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: f, isDirectory: &isDir) else { throw ValidationError("--file '\(f)' does not exist") }
            let urls = isDir.boolValue
                ? try FileManager.default.contentsOfDirectory(at: URL(fileURLWithPath: f), includingPropertiesForKeys: nil)
                    .filter { $0.pathExtension == "txt" }.sorted { $0.path < $1.path }
                : [URL(fileURLWithPath: f)]
            for u in urls {
                guard let t = try? String(contentsOf: u, encoding: .utf8) else { throw ValidationError("'\(u.path)' is not readable UTF-8 text") }
                texts.append((u.lastPathComponent, t))
            }
        }
        guard !texts.isEmpty else { throw ValidationError("no .txt files found in \(file.joined(separator: ", "))") }
        let model = try modelOptions.load()
        let all = try evalOptions.parsedPolicies
        let log = try TrialLog(url: evalOptions.outURL.appendingPathComponent(EvalReport.pplFile))
        let name = EvalRunOptions.modelName(modelOptions.model)
        let probe = PerplexityRunner(model: model, modelName: name, config: PerplexityConfig(context: context, scoreLast: scoreLast ?? context / 2, policies: all, budget: try evalOptions.budget))
        // Resume: policies whose result is already in the log are not run again.
        let pending = all.filter { !log.completed.contains(probe.key($0)) }
        var results: [PerplexityResult] = []
        if !pending.isEmpty {
            var config = probe.config
            config.policies = pending
            let runner = PerplexityRunner(model: model, modelName: name, config: config)
            results = try runner.run(texts: texts, status: Terminal.status) { Terminal.error("warning: \($0)") }
            for r in results { try log.append(r, key: r.trialKey) }
        }
        let stored = try TrialLog.rows(PerplexityResult.self, at: log.url)
        let shown = all.compactMap { p in stored.last { $0.trialKey == probe.key(p) } }
        Terminal.clearStatus()
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            for r in shown { Terminal.out(String(decoding: try enc.encode(r), as: UTF8.self) + "\n") }
        } else {
            for r in shown {
                Terminal.out(String(format: "%-40@ ppl %8.3f  KL %.4f (p99 %.3f, max %.3f)  top-1 %5.1f%%  KV %@\n",
                                    r.policy, r.ppl, r.kl, r.klP99, r.klMax, 100 * r.top1Agreement, Terminal.bytes(r.kvBytes)))
            }
        }
        try evalOptions.writeReport()
    }
}
