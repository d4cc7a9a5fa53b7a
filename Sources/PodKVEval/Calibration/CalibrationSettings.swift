/// How the layer groups are chosen from the similarity matrices.
public enum GroupingRule: Sendable, Equatable {
    /// Greedy threshold on similarity to the block owner, in [0, 1] (paper: 0.5).
    case delta(Double)
    /// The largest delta whose plan saves at least `saving` (in (0, 0.5)) of the KV memory at
    /// `contextLength` tokens: the plan closest to the full cache that meets the target.
    case targetSaving(Double, contextLength: Int)
}

/// Options of a calibration run (`podkv calibrate`), with the defaults of POD.md and issue 3.
public struct CalibrationSettings: Sendable, Equatable {
    /// Texts (token windows) run through the model.
    public var samples = 4
    /// Tokens per sample (BOS included when the model uses one).
    public var tokens = 2048
    /// Last query positions of each sample whose distant attention is scored.
    public var queries = 128
    /// Attention-sink tokens, excluded from the distant region (POD.md §2 default 16).
    public var sink = 16
    /// Recent-window tokens, excluded from the distant region (POD.md §2 default 1024).
    public var window = 1024
    public var grouping: GroupingRule = .delta(0.5)

    public init(samples: Int = 4, tokens: Int = 2048, queries: Int = 128, sink: Int = 16, window: Int = 1024,
                grouping: GroupingRule = .delta(0.5)) {
        self.samples = samples
        self.tokens = tokens
        self.queries = queries
        self.sink = sink
        self.window = window
        self.grouping = grouping
    }

    /// Checks ranges and that every scored position has a non-empty distant region
    /// (the first scored position, tokens - queries, must be >= sink + window).
    public func validate(modelContextLength: Int) throws {
        func bad(_ why: String) -> CalibrationError { .invalidOption(why) }
        guard samples >= 1 else { throw bad("samples must be >= 1, got \(samples)") }
        guard sink >= 0 else { throw bad("sink must be >= 0, got \(sink)") }
        guard window >= 1 else { throw bad("window must be >= 1, got \(window)") }
        guard queries >= 1 else { throw bad("queries must be >= 1, got \(queries)") }
        guard tokens >= 2, tokens <= modelContextLength else {
            throw bad("tokens must be in 2...\(modelContextLength) (the model's context length), got \(tokens)")
        }
        guard tokens - queries >= sink + window else {
            throw bad("""
                the first scored position (tokens \(tokens) - queries \(queries) = \(tokens - queries)) must be at least \
                sink + window = \(sink + window), or it has no distant tokens; raise --tokens or lower --queries/--window
                """)
        }
        switch grouping {
        case .delta(let d): try GreedyGrouping.checkDelta(d)
        case .targetSaving(let s, let n):
            guard s.isFinite, s > 0, s < 0.5 else {
                throw bad("target saving must be in (0, 0.5): PoD shares keys only, so it saves below half, got \(s)")
            }
            guard n >= 1, n <= modelContextLength else {
                throw bad("context length for the target saving must be in 1...\(modelContextLength), got \(n)")
            }
        }
    }

    /// The settings as plan-file strings (informative: how the plan was made).
    public var planSettings: [String: String] {
        var s = [
            "rule": "greedy", "samples": String(samples), "tokens": String(tokens), "queries": String(queries),
            "sink": String(sink), "window": String(window), "similarity": "1 - JSD (bits), distant region, mean of query heads",
        ]
        switch grouping {
        case .delta(let d): s["delta"] = String(d)
        case .targetSaving(let t, let n):
            s["target-saving"] = String(t)
            s["context-length"] = String(n)
        }
        return s
    }
}
