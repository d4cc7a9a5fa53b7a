import Foundation
import PodKV
import PodKVKernels

/// One row of the loss curve.
public struct AdaptationCurvePoint: Sendable, Codable, Equatable {
    public var step: Int
    /// Mean over adapted layers of the relative loss on this step's batch.
    public var trainLoss: Double
    /// Mean over adapted layers of the relative loss on the held-out windows (nil when not measured).
    public var validationLoss: Double?
    /// Wall seconds since the run started (including earlier runs it resumed).
    public var seconds: Double
}

/// Progress of an adaptation run, for the CLI's meter.
public enum AdaptationProgress: Sendable {
    case recording(sample: Int, of: Int, tokens: Int, total: Int)
    case prepared(items: Int, seconds: Double)
    case resumed(step: Int)
    case step(AdaptationCurvePoint, of: Int)
    case checkpoint(step: Int)
}

/// What an adaptation run produced.
public struct AdaptationResult: Sendable {
    public var adapter: PoDQueryAdapter
    public var curve: [AdaptationCurvePoint]
    /// Relative validation loss of the training-free own and owner modes and of the result.
    public var baselines: [String: Double]
    public var trainingTokens: Int
    public var seconds: Double
}

/// Fits a `PoDQueryAdapter` for a model and plan (POD.md §7): records calibration windows with the full
/// cache, builds each non-owner layer's local problem, starts from the chosen point (own, owner or the
/// closed-form fit) and, for `distill`, runs Adam on every adapted layer in parallel with checkpoints.
public final class AdaptationTrainer {
    public let model: LanguageModel
    public let plan: PoDPlan
    public let settings: AdaptationSettings

    public init(model: LanguageModel, plan: PoDPlan, settings: AdaptationSettings) throws {
        try settings.validate(contextLength: model.config.contextLength)
        try plan.validate(for: model.fingerprint)
        guard !PoDAdapterWeights.identity(plan: plan, layout: Self.layout(model, settings)).adaptedLayers.isEmpty else {
            throw AdaptationError.invalidInput("the plan shares no keys (every layer owns its keys): nothing to adapt")
        }
        self.model = model
        self.plan = plan
        self.settings = settings
    }

    static func layout(_ model: LanguageModel, _ s: AdaptationSettings) -> PoDAdapterLayout {
        PoDAdapterLayout(headCount: model.config.headCount, headDim: model.config.headDim, inputWidth: model.config.modelDim,
                         rank: s.method == .distill ? s.rank : 0)
    }

    /// Key of the run for checkpoints: settings, model, plan and the data it reads.
    func runKey(dataSources: [String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let settingsText = (try? encoder.encode(settings)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return "\(settingsText)|\(model.fingerprint.digest)|\(plan.owners)|\(dataSources.joined(separator: ","))"
    }

    public func run(
        documents: [CorpusDocument], checkpointDirectory: String?, progress: ((AdaptationProgress) -> Void)? = nil
    ) throws -> AdaptationResult {
        let s = settings
        let started = Date()
        let c = model.config
        let g = KVGeometry(c)
        let layout = Self.layout(model, s)
        let pairs = RotaryPairs(config: c, rope: RotaryEmbedding(config: c, frequencyFactors: model.weights.ropeFrequencyFactors))
        var weights = PoDAdapterWeights.identity(plan: plan, layout: layout)
        let layers = weights.adaptedLayers

        // 1. Record the training and validation windows with the full cache.
        let windows = try CalibrationSamples.make(
            documents: documents, count: s.samples + s.validationSamples, tokens: s.sampleTokens,
            bos: model.tokenizer.addBOS ? model.tokenizer.bosID : nil) { model.tokenizer.encode($0, parseSpecial: false) }
        var rng = Xoshiro256StarStar(seed: s.seed)
        var recorded: [RecordedSample] = []
        for (index, text) in windows.enumerated() {
            var tokens = text
            let first = s.sink + s.window
            let copied = Int(s.copyFraction * Double(tokens.count))
            var positions: [Int] = []
            if copied > 0 {
                // The last `copied` tokens repeat a span that ends at least a window before them.
                let copyStart = tokens.count - copied
                let latest = copyStart - s.window - copied
                let source = s.sink + Int(rng.next() % UInt64(max(1, latest - s.sink + 1)))
                tokens.replaceSubrange(copyStart..<tokens.count, with: tokens[source..<(source + copied)])
                positions = Self.sample(Array(max(first, copyStart + 1)..<tokens.count), count: s.queriesPerSample / 2, rng: &rng)
            }
            let taken = Set(positions)
            let rest = Array(first..<tokens.count).filter { !taken.contains($0) }
            positions += Self.sample(rest, count: s.queriesPerSample - positions.count, rng: &rng)
            recorded.append(try RecordedSample.record(model: model, tokens: tokens, positions: positions) { done in
                progress?(.recording(sample: index, of: windows.count, tokens: done, total: tokens.count))
            })
        }
        let training = Array(recorded.prefix(s.samples)), validation = Array(recorded.suffix(s.validationSamples))

        // 2. The local problems of every adapted layer.
        let ownerOf: [[Int]] = (0..<c.layerCount).map { l in
            (0..<c.headCount).map { head in plan.owners[head / g.queriesPerKVHead][l] }
        }
        func problems(_ data: [RecordedSample]) -> [LayerProblem] {
            var result = [LayerProblem?](repeating: nil, count: layers.count)
            result.withUnsafeMutableBufferPointer { out in
                let slots = out
                model.pool.parallelFor(layers.count) { range in
                    for k in range {
                        let l = layers[k]
                        slots[k] = LayerProblem(
                            layer: l, heads: (0..<c.headCount).filter { weights.adapted[l][$0] }, ownerOf: ownerOf[l],
                            queriesPerKVHead: g.queriesPerKVHead, layout: layout, pairs: pairs, scale: g.scale,
                            sink: s.sink, window: s.window, samples: data,
                            useOwnerQuery: true,
                            useInput: s.method == .distill && s.rank > 0)
                    }
                }
            }
            return result.map { $0! }
        }
        let train = problems(training)
        let held = validation.isEmpty ? [] : problems(validation)
        progress?(.prepared(items: train.reduce(0) { $0 + $1.count }, seconds: Date().timeIntervalSince(started)))

        func relativeLoss(_ set: [LayerProblem], _ w: PoDAdapterWeights) -> Double? {
            guard !set.isEmpty else { return nil }
            var losses = [Double](repeating: 0, count: set.count)
            losses.withUnsafeMutableBufferPointer { out in
                let slots = out
                model.pool.parallelFor(set.count) { range in
                    for k in range {
                        let problem = set[k]
                        let all = 0..<problem.count
                        let energy = problem.targetEnergy(all)
                        slots[k] = w.layers[problem.layer].withUnsafeBufferPointer { p in
                            problem.loss(parameters: p.baseAddress!, items: all, normaliser: energy, gradient: nil)
                        } / max(energy, 1e-30)
                    }
                }
            }
            return losses.reduce(0, +) / Double(losses.count)
        }

        // 3. Starting point; the training-free losses for the record.
        var baselines: [String: Double] = [:]
        let ownerStart = PoDAdapterWeights.ownerMode(plan: plan, layout: layout)
        if let v = relativeLoss(held, weights) { baselines["own"] = v }
        if let v = relativeLoss(held, ownerStart) { baselines["owner"] = v }
        switch s.method == .closedForm ? .closedForm : s.start {
        case .own: break
        case .owner: weights = ownerStart
        case .closedForm:
            for problem in train {
                ClosedFormFit.fit(problem: problem, parameters: &weights.layers[problem.layer], seed: s.seed)
            }
        }
        if let v = relativeLoss(held, weights) { baselines["start"] = v }
        if s.method == .distill && layout.rank > 0 {
            // The low-rank term starts at zero through B = 0, but A must not be 0 too: with both zero their
            // gradients (dB = g (A x)^T, dA = B^T g x^T) vanish and the term never moves.
            weights = Self.randomDown(weights, seed: s.seed)
        }

        // 4. Distillation.
        var curve: [AdaptationCurvePoint] = []
        var optimizers = layers.map { _ in AdamOptimizer(count: layout.count) }
        var firstStep = 1
        var elapsedBefore = 0.0
        let key = runKey(dataSources: documents.map(\.source))
        let checkpoint = checkpointDirectory.map { AdaptationCheckpoint(directory: $0, key: key) }
        if s.method == .distill, let checkpoint, let saved = try checkpoint.load() {
            guard saved.layers.count == weights.layers.count, saved.optimizers.count == optimizers.count else {
                throw AdaptationError.checkpoint("checkpoint in \(checkpoint.directory) does not match this run's layers")
            }
            weights.layers = saved.layers
            optimizers = saved.optimizers
            curve = saved.curve
            firstStep = saved.step + 1
            elapsedBefore = saved.curve.last?.seconds ?? 0
            progress?(.resumed(step: saved.step))
        }
        let runStart = Date()
        if s.method == .distill && firstStep <= s.steps {
            for step in firstStep...s.steps {
                let lr = Self.learningRate(s.learningRate, step: step, of: s.steps)
                var losses = [Double](repeating: 0, count: layers.count)
                let snapshot = weights
                var updated = snapshot.layers
                var moments = optimizers
                losses.withUnsafeMutableBufferPointer { lossSlots in
                updated.withUnsafeMutableBufferPointer { paramSlots in
                moments.withUnsafeMutableBufferPointer { optSlots in
                    let ls = lossSlots, ps = paramSlots, os = optSlots
                    model.pool.parallelFor(layers.count) { range in
                        for k in range {
                            let problem = train[k]
                            let batch = Self.batch(problem: problem, rows: s.batchQueries, seed: s.seed, step: step)
                            let energy = problem.targetEnergy(batch)
                            var gradient = [Float](repeating: 0, count: layout.count)
                            let sse = snapshot.layers[problem.layer].withUnsafeBufferPointer { p in
                                gradient.withUnsafeMutableBufferPointer { gb in
                                    problem.loss(parameters: p.baseAddress!, items: batch, normaliser: energy, gradient: gb.baseAddress!)
                                }
                            }
                            ls[k] = sse / max(energy, 1e-30)
                            if !s.useOwnerQuery {
                                for i in layout.ownerScale..<layout.bias { gradient[i] = 0 }
                            }
                            os[k].step(&ps[problem.layer], gradient: gradient, learningRate: lr, t: step)
                        }
                    }
                }}}
                weights.layers = updated
                optimizers = moments
                let validationLoss = (step % s.validateEvery == 0 || step == s.steps) ? relativeLoss(held, weights) : nil
                let point = AdaptationCurvePoint(
                    step: step, trainLoss: losses.reduce(0, +) / Double(losses.count), validationLoss: validationLoss,
                    seconds: elapsedBefore + Date().timeIntervalSince(runStart))
                curve.append(point)
                progress?(.step(point, of: s.steps))
                if let checkpoint, step % s.checkpointEvery == 0 || step == s.steps {
                    try checkpoint.save(.init(key: key, step: step, layers: weights.layers, optimizers: optimizers, curve: curve))
                    progress?(.checkpoint(step: step))
                }
            }
        }
        if let v = relativeLoss(held, weights) { baselines["adapted"] = v }

        let trainingTokens = s.samples * s.sampleTokens
        let seconds = elapsedBefore + Date().timeIntervalSince(started)
        var facts: [String: String] = [
            "training_tokens": String(trainingTokens), "validation_tokens": String(s.validationSamples * s.sampleTokens),
            "steps": String(s.method == .distill ? s.steps : 0), "seconds": String(format: "%.1f", seconds),
            "data": documents.prefix(8).map { ($0.source as NSString).lastPathComponent }.joined(separator: ","),
            "start": s.start.rawValue, "copy_fraction": String(s.copyFraction), "learning_rate": String(s.learningRate), "queries_per_sample": String(s.queriesPerSample),
        ]
        for (k, v) in baselines { facts["validation_loss_\(k)"] = String(format: "%.4f", v) }
        let info = PoDQueryAdapter.Info(
            model: model.fingerprint, owners: plan.owners, sink: s.sink, window: s.window, method: s.method.rawValue,
            layout: layout, pairs: pairs, training: facts)
        return AdaptationResult(
            adapter: PoDQueryAdapter(info: info, weights: weights), curve: curve, baselines: baselines,
            trainingTokens: trainingTokens, seconds: seconds)
    }

    /// `weights` with every adapted layer's down projection A drawn uniformly in ±sqrt(3 / inputWidth)
    /// (unit variance of A x for unit inputs); B stays 0, so the adapter's function is unchanged.
    static func randomDown(_ weights: PoDAdapterWeights, seed: UInt64) -> PoDAdapterWeights {
        var w = weights
        let lay = w.layout
        let bound = (3 / Double(lay.inputWidth)).squareRoot()
        var rng = Xoshiro256StarStar(seed: seed &+ 0x5EED)
        for l in w.adaptedLayers {
            for i in lay.down..<lay.up { w.layers[l][i] = Float((2 * rng.nextUnitInterval() - 1) * bound) }
        }
        return w
    }

    /// `count` distinct random elements of `items` (all of them when fewer).
    static func sample(_ items: [Int], count: Int, rng: inout Xoshiro256StarStar) -> [Int] {
        var pool = items
        let n = min(count, pool.count)
        for i in 0..<n { pool.swapAt(i, i + Int(rng.next() % UInt64(pool.count - i))) }
        return Array(pool.prefix(n))
    }

    /// Linear warm-up over 10 steps, then cosine decay to 10% of `base`.
    static func learningRate(_ base: Float, step: Int, of steps: Int) -> Float {
        if step <= 10 { return base * Float(step) / 10 }
        let t = Double(step - 10) / Double(max(1, steps - 10))
        return base * Float(0.1 + 0.9 * 0.5 * (1 + cos(Double.pi * t)))
    }

    /// The items of `rows` random query rows of `problem` (every adapted head of each), reproducible from
    /// (seed, step, layer) so a resumed run sees the same batches.
    static func batch(problem: LayerProblem, rows: Int, seed: UInt64, step: Int) -> [Int] {
        var rng = Xoshiro256StarStar(seed: seed &* 0x9E37_79B9 &+ UInt64(step) &* 1_000_003 &+ UInt64(problem.layer))
        var picked: [Int] = []
        let n = problem.count
        for _ in 0..<min(rows * problem.headsPerRow, n) { picked.append(Int(rng.next() % UInt64(n))) }
        return picked
    }
}
