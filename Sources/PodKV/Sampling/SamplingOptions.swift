/// How the next token is chosen from the model's logits.
///
/// The filters run in llama.cpp's default order: repetition penalty, top-k, top-p, min-p, temperature,
/// then a seeded random draw. Each filter has a value that switches it off, noted per property. The
/// defaults are llama.cpp's (`common_params_sampling`), except the seed, which is fixed so that runs
/// are reproducible unless a seed is chosen.
public struct SamplingOptions: Sendable, Equatable {
    /// Divides the logits before the draw; higher is more random. 0 means greedy (argmax, lowest id on
    /// ties), which skips every other filter except the repetition penalty. Valid: finite, >= 0. Default 0.8.
    public var temperature: Float
    /// Keep only the `topK` highest logits. 0 disables. Valid: >= 0. Default 40.
    public var topK: Int
    /// Keep the smallest set of most likely tokens whose probability sums to at least `topP`. 1 disables.
    /// Valid: (0, 1]. Default 0.95.
    public var topP: Float
    /// Drop tokens whose probability is below `minP` times the most likely token's. 0 disables.
    /// Valid: [0, 1]. Default 0.05.
    public var minP: Float
    /// Logits of tokens seen in the last `repetitionWindow` tokens of history are divided by this
    /// (if positive) or multiplied by it (if negative), as in CTRL (Keskar et al. 2019) and llama.cpp.
    /// 1 disables. Valid: finite, > 0. Default 1.
    public var repetitionPenalty: Float
    /// How many of the most recent history tokens the repetition penalty looks at. 0 disables.
    /// Valid: >= 0. Default 64.
    public var repetitionWindow: Int
    /// Seed of the sampler's random generator; the same seed and inputs give the same tokens. Default 0.
    public var seed: UInt64

    /// Creates options; every parameter defaults as documented on its property. Call `validate()` (the
    /// `Sampler` initializer does) before use.
    public init(
        temperature: Float = 0.8, topK: Int = 40, topP: Float = 0.95, minP: Float = 0.05,
        repetitionPenalty: Float = 1, repetitionWindow: Int = 64, seed: UInt64 = 0
    ) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.repetitionWindow = repetitionWindow
        self.seed = seed
    }

    /// Greedy decoding: always the most likely token (lowest id on ties), no randomness.
    public static let greedy = SamplingOptions(temperature: 0)

    /// Checks every option against its valid range.
    ///
    /// - Throws: `SamplingOptionsError.invalid` naming the first bad option, its value and the valid range.
    public func validate() throws {
        func fail(_ option: String, _ value: String, _ requirement: String) -> SamplingOptionsError {
            .invalid(option: option, value: value, requirement: requirement)
        }
        guard temperature.isFinite, temperature >= 0 else {
            throw fail("temperature", "\(temperature)", "a finite number >= 0 (0 means greedy)")
        }
        guard topK >= 0 else {
            throw fail("topK", "\(topK)", "an integer >= 0 (0 disables top-k)")
        }
        guard topP > 0, topP <= 1 else {
            throw fail("topP", "\(topP)", "in (0, 1] (1 disables top-p)")
        }
        guard minP >= 0, minP <= 1 else {
            throw fail("minP", "\(minP)", "in [0, 1] (0 disables min-p)")
        }
        guard repetitionPenalty.isFinite, repetitionPenalty > 0 else {
            throw fail("repetitionPenalty", "\(repetitionPenalty)", "a finite number > 0 (1 disables it)")
        }
        guard repetitionWindow >= 0 else {
            throw fail("repetitionWindow", "\(repetitionWindow)", "an integer >= 0 (0 disables the penalty)")
        }
    }
}

/// A sampling option outside its valid range.
public enum SamplingOptionsError: Error, Equatable, CustomStringConvertible {
    /// `option` has `value`, but must satisfy `requirement`.
    case invalid(option: String, value: String, requirement: String)

    /// A message naming the bad value and what is accepted.
    public var description: String {
        switch self {
        case .invalid(let option, let value, let requirement):
            return "invalid sampling option \(option) = \(value): must be \(requirement)"
        }
    }
}
