import Foundation
import PodKV

/// Progress of a calibration run, for a status line.
public enum CalibrationProgress: Sendable {
    /// Sample `index` (0-based) of `count`: `done` of `total` tokens through the model.
    case sample(index: Int, count: Int, done: Int, total: Int)
    /// All samples measured: `queries` query positions scored in `seconds`.
    case measured(queries: Int, seconds: Double)
}

/// The outcome of `Calibrator.run`: the plan and how it was reached.
public struct CalibrationResult: Sendable {
    public var choice: PlanChoice
    public var plan: PoDPlan { choice.plan }
    /// Query positions scored over all samples.
    public var queryCount: Int
    /// Wall time of the model runs and similarity scoring.
    public var seconds: Double
}

/// PoD calibration (POD.md §5): runs the model with an exact full cache over calibration samples,
/// measures inter-layer similarity of distant-region attention per KV head, and plans the layer groups.
public final class Calibrator {
    public let model: LanguageModel
    public let settings: CalibrationSettings

    /// Checks `settings` against the model's context length.
    public init(model: LanguageModel, settings: CalibrationSettings) throws {
        try settings.validate(modelContextLength: model.config.contextLength)
        self.model = model
        self.settings = settings
    }

    /// Cuts `settings.samples` samples of `settings.tokens` tokens from `documents` with the model's tokenizer.
    public func samples(from documents: [CorpusDocument]) throws -> [[Int]] {
        let tokenizer = model.tokenizer
        return try CalibrationSamples.make(
            documents: documents, count: settings.samples, tokens: settings.tokens,
            bos: tokenizer.addBOS ? tokenizer.bosID : nil) { tokenizer.encode($0, parseSpecial: false) }
    }

    /// Mean similarity `[kvHead][layer][layer]` over the last `settings.queries` positions of every sample,
    /// and the number of query positions scored.
    public func measure(samples: [[Int]], progress: ((CalibrationProgress) -> Void)? = nil) throws -> (similarity: [[[Double]]], queries: Int) {
        let g = KVGeometry(model.config)
        let recorder = try AttentionRecorder(geometry: g, sink: settings.sink, window: settings.window)
        var similarity = LayerSimilarity(layerCount: g.layerCount, kvHeadCount: g.kvHeadCount)
        var failure: Error?
        let pool = model.pool
        recorder.onRecord = { record in
            do { try similarity.add(record, pool: pool) } catch { failure = error }
        }
        let transformer = model.makeTransformer()
        // The recorder holds exact fp32 attention; keep every projection exact too (no int8 decode rows).
        transformer.decodeUsesInt8 = false
        for (index, sample) in samples.enumerated() {
            guard sample.count > settings.queries else {
                throw CalibrationError.invalidInput("sample \(index) has \(sample.count) tokens, not more than the \(settings.queries) scored")
            }
            recorder.reset()
            recorder.scoredPositions = (sample.count - settings.queries)..<sample.count
            progress?(.sample(index: index, count: samples.count, done: 0, total: sample.count))
            _ = try transformer.forward(sample, cache: recorder, logits: .none) { done in
                progress?(.sample(index: index, count: samples.count, done: done, total: sample.count))
            }
            if let failure { throw failure }
        }
        recorder.reset()
        return (try similarity.matrices(), similarity.queryCount)
    }

    /// The whole calibration: samples from `documents`, similarity, plan (with `extraSettings` recorded).
    public func run(
        documents: [CorpusDocument], extraSettings: [String: String] = [:], progress: ((CalibrationProgress) -> Void)? = nil
    ) throws -> CalibrationResult {
        let start = Date()
        let samples = try samples(from: documents)
        let (similarity, queries) = try measure(samples: samples, progress: progress)
        let seconds = Date().timeIntervalSince(start)
        progress?(.measured(queries: queries, seconds: seconds))
        let choice = try PlanBuilder.build(
            similarity: similarity, model: model.fingerprint, modelContextLength: model.config.contextLength,
            settings: settings, extraSettings: extraSettings.merging(["queries-scored": String(queries)]) { a, _ in a })
        return CalibrationResult(choice: choice, queryCount: queries, seconds: seconds)
    }
}
