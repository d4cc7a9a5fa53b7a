import Foundation

/// Chooses the next token from a row of logits, deterministically for a given seed.
///
/// The chain follows llama.cpp's default sampler order: repetition penalty -> top-k -> top-p -> min-p ->
/// temperature -> draw. Top-p and min-p both keep a best-first prefix of the candidates, measured on the
/// probabilities after top-k (before temperature), so they only need the best tokens in order: the
/// sampler selects those with a heap (O(vocabulary * log k)) instead of sorting a 151k vocabulary, and
/// without top-k it sorts only the tokens that can still pass top-p and min-p.
public struct Sampler: Sendable {
    /// The validated options in use.
    public let options: SamplingOptions
    private var generator: Xoshiro256StarStar
    // Reused between calls so that sampling allocates nothing in steady state.
    private var candidates: [TokenCandidate] = []
    private var logitsCopy: [Float] = []

    /// When top-k is off but top-p or min-p is on, this many best tokens are selected first; only if the
    /// cut-off lies beyond them is the rest of the vocabulary examined.
    private static let firstBatch = 256

    /// Creates a sampler seeded with `options.seed`.
    ///
    /// - Throws: `SamplingOptionsError` if an option is out of range.
    public init(options: SamplingOptions) throws {
        try options.validate()
        self.options = options
        self.generator = Xoshiro256StarStar(seed: options.seed)
    }

    /// Picks a token id from `logits` (shape `[vocabulary]`, modified in place by the repetition penalty).
    ///
    /// - Parameters:
    ///   - logits: the model's output for the last position; NaN counts as -infinity. Must not be empty.
    ///   - history: token ids produced so far (prompt and generated), oldest first; only the last
    ///     `repetitionWindow` matter, and ids outside the vocabulary are ignored.
    /// - Returns: an id in `0..<logits.count`. If no logit is finite, the greedy choice is returned.
    public mutating func sample(logits: UnsafeMutableBufferPointer<Float>, history: [Int]) -> Int {
        // An empty logits row is a bug in the caller (every model has a vocabulary), not a user error.
        precondition(!logits.isEmpty, "Sampler.sample: the logits row is empty")
        applyRepetitionPenalty(to: logits, history: history)
        let values = UnsafeBufferPointer(logits)
        if options.temperature == 0 { return Self.argmax(values) }
        let maxLogit = Self.argmaxValue(values)
        guard maxLogit.isFinite else { return Self.argmax(values) }

        var pool = candidates
        candidates = []
        defer { candidates = pool }
        let vocabulary = values.count
        if options.topK > 0 && options.topK < vocabulary {
            TopKSelection.select(values, k: options.topK, into: &pool)
            let normalizer = pool.reduce(0.0) { $0 + exp(Double($1.logit - maxLogit)) }
            if let kept = survivorCount(of: pool, maxLogit: maxLogit, normalizer: normalizer) {
                pool.removeSubrange(kept...)
            }
        } else if options.topP < 1 || options.minP > 0 {
            // Probabilities are over the whole vocabulary here, since top-k kept everything.
            var normalizer = 0.0
            for value in values where !value.isNaN { normalizer += exp(Double(value - maxLogit)) }
            // A peaked distribution (the usual case) is settled by the best few tokens.
            TopKSelection.select(values, k: Self.firstBatch, into: &pool)
            if let kept = survivorCount(of: pool, maxLogit: maxLogit, normalizer: normalizer) {
                pool.removeSubrange(kept...)
            } else if pool.count < vocabulary {
                // A flat distribution: gather every token that can still survive, sort those, cut again.
                TopKSelection.collect(values, atLeast: survivalFloor(maxLogit: maxLogit, normalizer: normalizer,
                    vocabulary: vocabulary), into: &pool)
                if let kept = survivorCount(of: pool, maxLogit: maxLogit, normalizer: normalizer) {
                    pool.removeSubrange(kept...)
                }
            }
        } else {
            return drawFromAll(values, maxLogit: maxLogit)
        }
        return draw(from: pool, maxLogit: maxLogit)
    }

    /// Picks a token id from `logits` (shape `[vocabulary]`); the array itself is not modified.
    /// See `sample(logits:history:)` for the rules.
    public mutating func sample(logits: [Float], history: [Int]) -> Int {
        var copy = logitsCopy
        logitsCopy = []
        defer { logitsCopy = copy }
        copy.removeAll(keepingCapacity: true)
        copy.append(contentsOf: logits)
        return copy.withUnsafeMutableBufferPointer { sample(logits: $0, history: history) }
    }

    // MARK: - Chain steps

    /// CTRL-style penalty on every distinct token of the window: positive logits are divided by the
    /// penalty and negative ones multiplied, so a penalty > 1 always makes the token less likely.
    private func applyRepetitionPenalty(to logits: UnsafeMutableBufferPointer<Float>, history: [Int]) {
        let penalty = options.repetitionPenalty
        guard penalty != 1, options.repetitionWindow > 0, !history.isEmpty else { return }
        var seen = Set<Int>()
        for id in history.suffix(options.repetitionWindow) where id >= 0 && id < logits.count {
            guard seen.insert(id).inserted else { continue }
            let value = logits[id]
            logits[id] = value > 0 ? value / penalty : value * penalty
        }
    }

    /// How many leading candidates (best first) survive top-p then min-p, or nil if the cut-off lies
    /// beyond `candidates` (all of them survive, or more tokens must be examined).
    ///
    /// Both filters keep a prefix, and min-p's threshold is relative to the best token, which top-p always
    /// keeps, so applying them one after the other equals keeping the shorter of the two prefixes.
    private func survivorCount(of candidates: [TokenCandidate], maxLogit: Float, normalizer: Double) -> Int? {
        let topP = Double(options.topP)
        let minP = Double(options.minP)
        var cumulative = 0.0
        for (index, candidate) in candidates.enumerated() {
            // Weight relative to the best token: min-p compares it directly, top-p normalizes it.
            let weight = exp(Double(candidate.logit - maxLogit))
            if minP > 0 && weight < minP { return max(index, 1) }
            cumulative += weight / normalizer
            if topP < 1 && cumulative >= topP { return index + 1 }
        }
        return nil
    }

    /// A logit below which no token can survive top-p and min-p over the whole vocabulary.
    ///
    /// Min-p drops weights (probability relative to the best) below `minP`. For top-p: the tokens with
    /// probability below (1 - topP) / vocabulary hold less than 1 - topP in total, so the others hold more
    /// than topP and the top-p prefix ends among them. The floor is lowered slightly so that float rounding
    /// can only let extra tokens in; `survivorCount` then applies the exact rules.
    private func survivalFloor(maxLogit: Float, normalizer: Double, vocabulary: Int) -> Float {
        let topPFloor = options.topP < 1 ? Double(1 - options.topP) * normalizer / Double(vocabulary) : 0
        let weight = max(Double(options.minP), topPFloor)
        guard weight > 0 else { return -.infinity }
        return maxLogit + Float(log(weight)) - 1e-3
    }

    /// Draws from `candidates` with probabilities softmax(logit / temperature).
    private mutating func draw(from candidates: [TokenCandidate], maxLogit: Float) -> Int {
        let inverseTemperature = 1 / Double(options.temperature)
        var total = 0.0
        for candidate in candidates { total += exp(Double(candidate.logit - maxLogit) * inverseTemperature) }
        var remaining = generator.nextUnitInterval() * total
        var lastLikely = Int(candidates[0].id)
        for candidate in candidates {
            let weight = exp(Double(candidate.logit - maxLogit) * inverseTemperature)
            guard weight > 0 else { continue }
            lastLikely = Int(candidate.id)
            remaining -= weight
            if remaining < 0 { return lastLikely }
        }
        // Rounding can leave a sliver of `remaining`; it belongs to the last token that has any weight.
        return lastLikely
    }

    /// Draws from the whole vocabulary (no filter active), in two passes over the logits and no sort.
    private mutating func drawFromAll(_ logits: UnsafeBufferPointer<Float>, maxLogit: Float) -> Int {
        let inverseTemperature = 1 / Double(options.temperature)
        var total = 0.0
        for value in logits where !value.isNaN { total += exp(Double(value - maxLogit) * inverseTemperature) }
        var remaining = generator.nextUnitInterval() * total
        var lastLikely = 0
        for (index, value) in logits.enumerated() where !value.isNaN {
            let weight = exp(Double(value - maxLogit) * inverseTemperature)
            guard weight > 0 else { continue }
            lastLikely = index
            remaining -= weight
            if remaining < 0 { return index }
        }
        return lastLikely
    }

    // MARK: - Argmax

    /// The index of the largest logit, the lowest index on ties, ignoring NaN (0 if all are NaN).
    static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        var found = false
        for (index, value) in logits.enumerated() where !value.isNaN {
            if !found || value > bestValue {
                best = index
                bestValue = value
                found = true
            }
        }
        return best
    }

    /// The largest non-NaN logit (-infinity if there is none).
    private static func argmaxValue(_ logits: UnsafeBufferPointer<Float>) -> Float {
        var best = -Float.infinity
        for value in logits where value > best { best = value }
        return best
    }
}
