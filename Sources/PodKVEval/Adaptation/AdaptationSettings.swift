/// How `podkv adapt` fits an adapter (POD.md §7).
public enum AdaptationMethod: String, Sendable, Codable, CaseIterable {
    /// Least-squares complex scales of the own query plus a logit offset (seconds; no gradient steps).
    case closedForm = "closed-form"
    /// Layer-local distillation by gradient descent (Adam) of own/owner query scales, offset and a low-rank
    /// input correction, on the layer's attention output against the full cache.
    case distill
}

/// Where distillation starts.
public enum AdaptationStart: String, Sendable, Codable, CaseIterable {
    /// The layer's own query (training-free own mode).
    case own
    /// The owner's query (training-free owner mode, the better start on small models).
    case owner
    /// The closed-form fit.
    case closedForm = "closed-form"
}

/// Every knob of an adaptation run; part of the checkpoint key, so a resumed run has the same settings.
public struct AdaptationSettings: Sendable, Codable, Equatable {
    public var method: AdaptationMethod = .distill
    public var start: AdaptationStart = .owner
    /// PoD proximal tokens the adapter is fitted for.
    public var sink = 16
    public var window = 256
    /// Training text: `samples` windows of `sampleTokens` tokens, plus `validationSamples` held-out windows.
    public var samples = 6
    public var sampleTokens = 2048
    public var validationSamples = 1
    /// Query rows sampled per window (all layers record the same rows).
    public var queriesPerSample = 192
    /// Low-rank size of the input correction (0: none).
    public var rank = 8
    /// Whether the owner's query may be mixed in (needs the cache to keep owner queries).
    public var useOwnerQuery = true
    /// Fraction of each training window (its end) replaced by a copy of an earlier, distant span, with half
    /// the query rows sampled there: rows that must find their continuation far back (induction-style
    /// retrieval), which plain text rarely asks of distant attention. 0 = plain text.
    public var copyFraction = 0.0
    public var steps = 300
    /// Query rows per layer per step (every adapted head of each row is an item).
    public var batchQueries = 24
    public var learningRate: Float = 3e-3
    public var seed: UInt64 = 7
    public var checkpointEvery = 25
    public var validateEvery = 25

    public init() {}

    /// Throws a message naming the first nonsense value.
    public func validate(contextLength: Int) throws {
        func check(_ ok: Bool, _ why: String) throws { if !ok { throw AdaptationError.invalidOption(why) } }
        try check(sink >= 0, "sink must be >= 0, got \(sink)")
        try check(window >= 1, "window must be >= 1, got \(window)")
        try check(samples >= 1, "need at least one training sample, got \(samples)")
        try check(validationSamples >= 0, "validation samples must be >= 0, got \(validationSamples)")
        try check(sampleTokens > sink + window + 1,
                  "sample length \(sampleTokens) leaves no distant tokens with sink \(sink) + window \(window)")
        try check(sampleTokens <= contextLength, "sample length \(sampleTokens) exceeds the model's context length \(contextLength)")
        try check(queriesPerSample >= 1, "queries per sample must be >= 1, got \(queriesPerSample)")
        try check(rank >= 0 && rank <= 256, "rank must be in 0...256, got \(rank)")
        try check(steps >= 0, "steps must be >= 0, got \(steps)")
        try check(copyFraction >= 0 && copyFraction <= 0.4, "copy fraction must be in [0, 0.4], got \(copyFraction)")
        try check(copyFraction == 0 || Int(copyFraction * Double(sampleTokens)) * 2 + window + sink < sampleTokens,
                  "copy fraction \(copyFraction) leaves no distant source span in a \(sampleTokens)-token window")
        try check(batchQueries >= 1, "batch must be >= 1 query row, got \(batchQueries)")
        try check(learningRate > 0 && learningRate.isFinite && learningRate < 1, "learning rate must be in (0, 1), got \(learningRate)")
        try check(checkpointEvery >= 1 && validateEvery >= 1, "checkpoint/validation intervals must be >= 1")
    }
}

/// Why adaptation cannot run.
public enum AdaptationError: Error, CustomStringConvertible {
    case invalidOption(String)
    case invalidInput(String)
    case checkpoint(String)

    public var description: String {
        switch self {
        case .invalidOption(let why): "invalid adaptation option: \(why)"
        case .invalidInput(let why): "cannot adapt: \(why)"
        case .checkpoint(let why): "adaptation checkpoint: \(why)"
        }
    }
}
