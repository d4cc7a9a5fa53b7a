import PodKVModel

/// What to generate and when to stop.
public struct GenerationOptions: Sendable {
    /// Most tokens to generate (>= 0).
    public var maxTokens: Int
    public var sampling: SamplingOptions
    /// Stop strings: generation ends when one appears; it is not part of the text.
    public var stop: [String]
    /// End at the tokenizer's end-of-generation ids (EOS, `<|im_end|>`, ...).
    public var stopAtEndOfGeneration: Bool
    /// Polled before every decode step; returning true ends generation with `.cancelled` (a server
    /// whose client disconnected frees its compute slot this way). Nil: never cancelled.
    public var shouldStop: (@Sendable () -> Bool)? = nil

    public init(maxTokens: Int = 256, sampling: SamplingOptions = .greedy, stop: [String] = [], stopAtEndOfGeneration: Bool = true) {
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stop = stop
        self.stopAtEndOfGeneration = stopAtEndOfGeneration
    }
}

/// Why generation ended.
public enum FinishReason: String, Sendable, Codable {
    /// An end-of-generation token or a stop string.
    case stop
    /// `maxTokens` reached.
    case length
    /// The model's context is full.
    case contextFull = "context_full"
    /// `GenerationOptions.shouldStop` returned true.
    case cancelled
}

/// Timing and memory of one generation call.
public struct GenerationStats: Sendable, Codable {
    /// Tokens of the prompt given to this call.
    public var promptTokens: Int
    /// Prompt tokens actually computed (the rest were already in the session's cache).
    public var prefillTokens: Int
    public var prefillSeconds: Double
    public var generatedTokens: Int
    public var decodeSeconds: Double
    public var kv: KVMemoryReport

    public var prefillTokensPerSecond: Double { prefillSeconds > 0 ? Double(prefillTokens) / prefillSeconds : 0 }
    /// Decode speed counts the forward passes of generated tokens (the first token comes from prefill).
    public var decodeTokensPerSecond: Double {
        decodeSeconds > 0 ? Double(max(0, generatedTokens - 1)) / decodeSeconds : 0
    }
}

/// The outcome of one generation call.
public struct GenerationResult: Sendable {
    public var text: String
    public var tokenIDs: [Int]
    public var finishReason: FinishReason
    public var stats: GenerationStats
}

/// Events of a streaming generation.
public enum GenerationEvent: Sendable {
    /// Prompt tokens computed so far out of the total to compute.
    case prefill(done: Int, total: Int)
    /// A generated token and the text it completes (may be empty while a UTF-8 sequence or a possible
    /// stop string is held back).
    case token(id: Int, text: String)
    /// Generation ended.
    case finished(GenerationResult)
}
