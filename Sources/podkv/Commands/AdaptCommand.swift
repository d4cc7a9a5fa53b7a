import ArgumentParser
import Foundation
import PodKV
import PodKVCache
import PodKVEval

/// `podkv adapt`: fits a PoD adapter for a model and plan (POD.md §7) and writes it with its loss curve.
struct AdaptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adapt",
        abstract: "Adapt a model to PoD's shared keys: fit a distant-query adapter on calibration text.",
        discussion: """
            Fit:   podkv adapt --model smollm2-135m --group-size 2 --data essays/ --out smollm-g2.podkv
            Use:   podkv generate --kv-policy pod --pod-group-size 2 --pod-adapter smollm-g2.podkv ...
                   podkv eval ppl ... --policies 'pod:group-size=2,window=256,adapter=smollm-g2.podkv'
            A rerun with the same settings resumes from the checkpoint directory. See docs/ADAPTATION.md.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "PoD plan file from `podkv calibrate` (or --group-size).")
    var plan: String?
    @Option(name: .long, help: "Uniform PoD layer-group size (default 2 when no --plan).")
    var groupSize: Int?
    @Option(name: .long, parsing: .upToNextOption, help: "Training text: files or directories of them (default: the built-in corpus).")
    var data: [String] = []
    @Option(name: .long, help: "Where to write the adapter.")
    var out: String
    @Option(name: .long, help: "closed-form (least squares, seconds) or distill (gradient descent; default).")
    var method: String = AdaptationMethod.distill.rawValue
    @Option(name: .long, help: "Distillation start: own, owner (default) or closed-form.")
    var start: String = AdaptationStart.owner.rawValue
    @Option(name: .long, help: "Attention-sink tokens the adapter is fitted for (default 16).")
    var sink: Int = 16
    @Option(name: .long, help: "Recent-window tokens the adapter is fitted for (default 256).")
    var window: Int = 256
    @Option(name: .long, help: "Training tokens (split into --sample-tokens windows; default 6 x 2048).")
    var tokens: Int?
    @Option(name: .long, help: "Tokens per training window (default 2048).")
    var sampleTokens: Int = 2048
    @Option(name: .long, help: "Held-out windows for the validation loss (default 1).")
    var validationSamples: Int = 1
    @Option(name: .long, help: "Query rows sampled per window (default 192).")
    var queries: Int = 192
    @Option(name: .long, help: "Gradient steps (default 300).")
    var steps: Int = 300
    @Option(name: .long, help: "Query rows per layer per step (default 24).")
    var batch: Int = 24
    @Option(name: .long, help: "Adam learning rate (default 0.003, warm-up then cosine decay).")
    var learningRate: Float = 3e-3
    @Option(name: .long, help: "Rank of the low-rank input correction (0 = none; default 8).")
    var rank: Int = 8
    @Option(name: .long, help: "Fraction (0-0.4) of each window replaced by a copy of an earlier distant span, half the rows sampled there (default 0).")
    var copyFraction: Double = 0
    @Flag(name: .long, help: "Do not mix in the owner's query.")
    var noOwnerQuery = false
    @Option(name: .long, help: "Random seed (windows' query rows, batches, initialisation).")
    var seed: UInt64 = 7
    @Option(name: .long, help: "Checkpoint directory (default: <out>.ckpt); a rerun resumes from it.")
    var checkpointDir: String?
    @Option(name: .long, help: "Steps between checkpoints (default 25).")
    var checkpointEvery: Int = 25

    func validate() throws {
        if plan != nil && groupSize != nil { throw ValidationError("give --plan or --group-size, not both") }
        guard AdaptationMethod(rawValue: method) != nil else {
            throw ValidationError("--method must be one of \(AdaptationMethod.allCases.map(\.rawValue).joined(separator: ", ")), got '\(method)'")
        }
        guard AdaptationStart(rawValue: start) != nil else {
            throw ValidationError("--start must be one of \(AdaptationStart.allCases.map(\.rawValue).joined(separator: ", ")), got '\(start)'")
        }
        if let tokens, tokens < sampleTokens {
            throw ValidationError("--tokens \(tokens) is less than one window of --sample-tokens \(sampleTokens)")
        }
    }

    func run() throws {
        let model = try modelOptions.load()
        let podPlan: PoDPlan
        if let plan {
            podPlan = try PoDPlan.load(path: plan)
        } else {
            podPlan = try PoDPlan.uniform(groupSize: groupSize ?? 2, model: model.fingerprint)
        }
        var s = AdaptationSettings()
        s.method = AdaptationMethod(rawValue: method)!
        s.start = AdaptationStart(rawValue: start)!
        s.sink = sink
        s.window = window
        s.sampleTokens = sampleTokens
        s.samples = (tokens ?? 6 * sampleTokens) / sampleTokens
        s.validationSamples = validationSamples
        s.queriesPerSample = queries
        s.steps = steps
        s.batchQueries = batch
        s.learningRate = learningRate
        s.rank = rank
        s.useOwnerQuery = !noOwnerQuery
        s.copyFraction = copyFraction
        s.seed = seed
        s.checkpointEvery = checkpointEvery
        let trainer: AdaptationTrainer
        do { trainer = try AdaptationTrainer(model: model, plan: podPlan, settings: s) } catch let e as AdaptationError {
            throw ValidationError(e.description)
        }
        let documents = try CalibrationCorpus.load(paths: data)
        Terminal.error("adapting \(model.fingerprint) for \(plan ?? "group-size \(groupSize ?? 2)") (sink \(sink), window \(window)): \(s.method.rawValue), \(s.samples) x \(sampleTokens) training tokens, \(s.validationSamples) held-out window(s)")
        let started = Date()
        let checkpoint = checkpointDir ?? out + ".ckpt"
        let result = try trainer.run(documents: documents, checkpointDirectory: checkpoint) { event in
            let elapsed = Date().timeIntervalSince(started)
            switch event {
            case .recording(let i, let n, let done, let total):
                Terminal.status(String(format: "recording window %d/%d: %d/%d tokens, %.0f s", i + 1, n, done, total, elapsed))
            case .prepared(let items, let seconds):
                Terminal.clearStatus()
                Terminal.error(String(format: "prepared %d (row, head) items in %.1f s", items, seconds))
            case .resumed(let step):
                Terminal.error("resuming from the checkpoint at step \(step) (\(checkpoint))")
            case .step(let p, let of):
                let rate = elapsed / Double(max(1, p.step))
                let eta = rate * Double(of - p.step)
                var line = String(format: "step %d/%d  train %.4f", p.step, of, p.trainLoss)
                if let v = p.validationLoss { line += String(format: "  held-out %.4f", v) }
                line += String(format: "  %.0f s, ETA %.0f s", elapsed, eta)
                if p.validationLoss != nil { Terminal.clearStatus(); Terminal.error(line) } else { Terminal.status(line) }
            case .checkpoint:
                break
            }
        }
        Terminal.clearStatus()
        try result.adapter.save(path: out)
        let stem = (out as NSString).deletingPathExtension
        try LossCurve.csv(result.curve).write(toFile: stem + ".loss.csv", atomically: true, encoding: .utf8)
        let baselines = result.baselines.filter { ["own", "owner"].contains($0.key) }.sorted { $0.key < $1.key }
            .map { ("TRAINING-FREE \($0.key.uppercased())", $0.value) }
        try LossCurve.draw(title: "PoD ADAPTATION LOSS (\(s.method.rawValue.uppercased()))", curve: result.curve, baselines: baselines)
            .write(to: stem + ".loss.png")
        let summary = result.baselines.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.4f", $0.value))" }
        Terminal.error("held-out relative loss: \(summary.joined(separator: ", "))")
        Terminal.error(String(format: "wrote %@ (%d parameter bytes), %@.loss.csv and .png; %.0f s, %d training tokens",
                              out, result.adapter.parameterBytes, stem, result.seconds, result.trainingTokens))
    }
}
