import ArgumentParser
import Foundation
import PodKV
import PodKVCache
import PodKVEval

/// `podkv calibrate`: measures inter-layer similarity of distant-region attention on calibration text
/// and writes a PoD plan (POD.md §5); `--report` prints an existing plan, `--heatmap` draws it.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Find PoD layer groups: measure inter-layer attention similarity and write a plan file.",
        discussion: """
            Calibrate:  podkv calibrate --model smollm2-135m --data essays/ --out plan.json --heatmap plan.png
            Inspect:    podkv calibrate --report plan.json [--heatmap plan.png]
            Use:        podkv generate --kv-policy pod --pod-plan plan.json ...
            See docs/CALIBRATION.md.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, parsing: .upToNextOption,
            help: "Calibration text: files or directories of them (default: the built-in corpus).")
    var data: [String] = []
    @Option(name: .long, help: "Where to write the plan (JSON).")
    var out: String?
    @Option(name: .long, help: "Samples (token windows) run through the model (default 4).")
    var samples: Int?
    @Option(name: .long, help: "Tokens per sample (default 2048).")
    var tokens: Int?
    @Option(name: .long, help: "Last query positions of each sample whose attention is scored (default 128).")
    var queries: Int?
    @Option(name: .long, help: "Attention-sink tokens, excluded from the distant region (default 16).")
    var sink: Int?
    @Option(name: .long, help: "Recent-window tokens, excluded from the distant region (default 1024).")
    var window: Int?
    @Option(name: .long, help: "Re-group with the similarity matrices of this calibrated plan (no model run; its measurement settings are kept).")
    var similarityFrom: String?
    @Option(name: .long, help: "Greedy threshold on similarity to the block owner, in [0, 1] (default 0.5).")
    var delta: Double?
    @Option(name: .long, help: "Instead of --delta: the KV saving (fraction in (0, 0.5)) to reach at --context-length.")
    var targetSaving: Double?
    @Option(name: .long, help: "Context length (tokens) at which --target-saving is measured.")
    var contextLength: Int?
    @Option(name: .long, help: "Write a layer x layer similarity heatmap (PNG) here.")
    var heatmap: String?
    @Option(name: .long, help: "Print the blocks and expected savings of this existing plan instead of calibrating.")
    var report: String?

    func validate() throws {
        if report != nil {
            if out != nil || !data.isEmpty || delta != nil || targetSaving != nil {
                throw ValidationError("--report reads an existing plan; it takes no --out, --data, --delta or --target-saving")
            }
            return
        }
        guard out != nil else { throw ValidationError("give --out plan.json (or --report plan.json to print an existing plan)") }
        if delta != nil && targetSaving != nil { throw ValidationError("give --delta or --target-saving, not both") }
        if targetSaving != nil && contextLength == nil {
            throw ValidationError("--target-saving needs --context-length: the saving depends on the context (e.g. --context-length 4096)")
        }
        if contextLength != nil && targetSaving == nil { throw ValidationError("--context-length goes with --target-saving") }
        if similarityFrom != nil && (!data.isEmpty || samples != nil || tokens != nil || queries != nil || sink != nil || window != nil) {
            throw ValidationError("--similarity-from reuses a plan's measurement: --data, --samples, --tokens, --queries, --sink and --window come from it")
        }
    }

    func run() throws {
        if let report {
            let plan = try PoDPlan.load(path: report)
            Terminal.out(PlanReport.render(plan))
            if let heatmap { try drawHeatmap(plan, to: heatmap) }
            return
        }
        let grouping: GroupingRule = targetSaving.map { .targetSaving($0, contextLength: contextLength ?? 0) } ?? .delta(delta ?? 0.5)
        let model = try modelOptions.load()
        if let similarityFrom { return try regroup(similarityFrom, model: model, grouping: grouping) }
        let settings = CalibrationSettings(
            samples: samples ?? 4, tokens: tokens ?? 2048, queries: queries ?? 128, sink: sink ?? 16, window: window ?? 1024,
            grouping: grouping)
        do { try settings.validate(modelContextLength: model.config.contextLength) } catch let e as CalibrationError {
            throw ValidationError(e.description)
        }
        let documents = try CalibrationCorpus.load(paths: data)
        let source = data.isEmpty ? "built-in corpus" : data.joined(separator: " ")
        Terminal.error("calibrating \(model.fingerprint) on \(settings.samples) x \(settings.tokens) tokens from \(documents.count) documents (\(source)), scoring the last \(settings.queries) positions")
        let calibrator = try Calibrator(model: model, settings: settings)
        let started = Date()
        let result = try calibrator.run(documents: documents, extraSettings: ["data": data.isEmpty ? "built-in" : data.joined(separator: " "),
                                                                             "model-path": model.path]) { event in
            switch event {
            case .sample(let i, let n, let done, let total):
                let elapsed = Date().timeIntervalSince(started)
                Terminal.status(String(format: "sample %d/%d: %d/%d tokens, %.0f s", i + 1, n, done, total, elapsed))
            case .measured(let q, let s):
                Terminal.clearStatus()
                Terminal.error(String(format: "measured %d query positions in %.1f s", q, s))
            }
        }
        try finish(result.choice, model: model, settings: settings)
        Terminal.error("wrote \(out!) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }

    /// Groups again from the similarity stored in an existing plan for the same model.
    private func regroup(_ path: String, model: LanguageModel, grouping: GroupingRule) throws {
        let source = try PoDPlan.load(path: path)
        try source.validate(for: model.fingerprint)
        guard let similarity = source.similarity else {
            throw ValidationError("--similarity-from: '\(path)' holds no similarity matrices (not a calibrated plan)")
        }
        func setting(_ key: String, _ d: Int) -> Int { source.settings[key].flatMap(Int.init) ?? d }
        let settings = CalibrationSettings(
            samples: setting("samples", 4), tokens: setting("tokens", 2048), queries: setting("queries", 128),
            sink: setting("sink", 16), window: setting("window", 1024), grouping: grouping)
        do { try settings.validate(modelContextLength: model.config.contextLength) } catch let e as CalibrationError {
            throw ValidationError(e.description)
        }
        var extra = source.settings.filter { ["data", "model-path", "queries-scored"].contains($0.key) }
        extra["similarity-from"] = path
        let choice = try PlanBuilder.build(similarity: similarity, model: model.fingerprint,
                                           modelContextLength: model.config.contextLength, settings: settings, extraSettings: extra)
        try finish(choice, model: model, settings: settings)
        Terminal.error("wrote \(out!)")
    }

    /// Saves the plan, checks the engine loads it, prints the report and draws the heatmap.
    private func finish(_ choice: PlanChoice, model: LanguageModel, settings: CalibrationSettings) throws {
        let plan = choice.plan
        try plan.save(path: out!)
        // Prove the engine accepts the file as written.
        _ = try model.makeCache(PolicySpec(name: "pod", options: [
            ("plan", out!), ("sink", String(settings.sink)), ("window", String(settings.window)),
        ]))
        Terminal.out(PlanReport.render(plan))
        if case .targetSaving(let s, let n) = settings.grouping {
            Terminal.out(String(
                format: "\ntarget %.1f%% at %d tokens: delta %.4f saves %.1f%%; mean similarity of sharing layers to owner %.3f (loss proxy %.3f)\n",
                s * 100, n, choice.delta, (choice.targetSaving ?? 0) * 100, choice.meanOwnerSimilarity, 1 - choice.meanOwnerSimilarity))
        }
        if let heatmap { try drawHeatmap(plan, to: heatmap) }
    }

    private func drawHeatmap(_ plan: PoDPlan, to path: String) throws {
        try SimilarityHeatmap.render(plan: plan).write(to: path)
        Terminal.error("wrote heatmap \(path)")
    }
}
