import Foundation
import PodKVCache
import PodKVModel

/// llama-bench style throughput measurement of a model under a KV policy.
///
/// A `pp` test times the prefill of `promptTokens` random tokens; a `tg` test times the generation of
/// `genTokens` tokens one at a time (each forward pass fed the previous sampled token). Both start from a
/// cache that already holds `depth` tokens (filled before the clock starts). One warm-up run is excluded;
/// the median, minimum and maximum over `repetitions` runs are reported.
public struct ModelBenchmark {
    /// What to measure.
    public struct Test: Sendable, Equatable {
        public enum Kind: String, Sendable { case pp, tg }
        public var kind: Kind
        public var tokens: Int
        public var depth: Int
        public init(kind: Kind, tokens: Int, depth: Int) {
            self.kind = kind
            self.tokens = tokens
            self.depth = depth
        }
        /// llama-bench's name: `pp512`, `tg128`, `tg128 @ d4096`.
        public var name: String { "\(kind.rawValue)\(tokens)" + (depth > 0 ? " @ d\(depth)" : "") }
    }

    /// One measured test.
    public struct Result: Sendable, Codable {
        public var model: String
        public var test: String
        public var depth: Int
        public var threads: Int
        public var kvPolicy: String
        public var repetitions: Int
        public var tokensPerSMedian: Double
        public var tokensPerSMin: Double
        public var tokensPerSMax: Double
        /// Every repetition's tokens/s, in run order.
        public var samples: [Double]
        /// KV bytes allocated at the end of a run (depth + tokens).
        public var kvBytes: Int
        public var kvFullCacheBytes: Int
        /// Peak resident set size of the process so far (VmHWM).
        public var peakRSSBytes: Int
        /// Activation precision of the decode kernels on interleaved weights (`fine` or `int8`).
        public var decodePrecision: String
        /// Bytes of the interleaved weight copies the decode kernels read (0 with `--no-decode-layouts`).
        public var decodeLayoutBytes: Int
    }

    public let model: LanguageModel
    public let policy: PolicySpec
    public let repetitions: Int
    /// Name shown in results (e.g. the store name the user typed).
    public let label: String

    public init(model: LanguageModel, policy: PolicySpec, repetitions: Int, label: String? = nil) throws {
        guard repetitions >= 1 else { throw EngineError.invalidOption("repetitions must be at least 1, got \(repetitions)") }
        self.model = model
        self.policy = policy
        self.repetitions = repetitions
        self.label = label ?? model.config.name
    }

    /// Runs `test` warm-up + `repetitions` times; `progress` gets a line per run.
    public func run(_ test: Test, progress: ((String) -> Void)? = nil) throws -> Result {
        guard test.tokens >= 1, test.depth >= 0 else { throw EngineError.invalidOption("test \(test.name): tokens must be >= 1 and depth >= 0") }
        let needed = test.depth + test.tokens + (test.kind == .pp ? 0 : 1)
        guard needed <= model.config.contextLength else {
            throw EngineError.promptTooLong(tokens: needed, limit: model.config.contextLength)
        }
        var rng = SystemRandomNumberGenerator()
        let vocab = model.tokenizer.vocabularySize
        let transformer = model.makeTransformer()
        var samples: [Double] = []
        var lastReport: KVMemoryReport?
        for rep in 0...repetitions {
            let cache = try model.makeCache(policy)
            if test.depth > 0 {
                _ = try transformer.forward((0..<test.depth).map { _ in Int.random(in: 0..<vocab, using: &rng) }, cache: cache, logits: .none)
            }
            let start = DispatchTime.now()
            switch test.kind {
            case .pp:
                _ = try transformer.forward((0..<test.tokens).map { _ in Int.random(in: 0..<vocab, using: &rng) }, cache: cache, logits: .last)
            case .tg:
                var token = Int.random(in: 0..<vocab, using: &rng)
                for _ in 0..<test.tokens {
                    let logits = try transformer.forward([token], cache: cache, logits: .last)
                    token = Self.argmax(logits, limit: vocab)
                }
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            lastReport = cache.memoryReport()
            if rep > 0 { samples.append(Double(test.tokens) / seconds) }
            progress?("\(test.name) run \(rep == 0 ? "warm-up" : "\(rep)/\(repetitions)"): \(String(format: "%.1f", Double(test.tokens) / seconds)) tok/s")
        }
        let sorted = samples.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        return Result(
            model: label, test: test.name, depth: test.depth, threads: model.pool.threadCount,
            kvPolicy: policy.description, repetitions: repetitions, tokensPerSMedian: median,
            tokensPerSMin: sorted.first!, tokensPerSMax: sorted.last!, samples: samples,
            kvBytes: lastReport?.allocatedBytes ?? 0, kvFullCacheBytes: lastReport?.fullCacheBytes ?? 0,
            peakRSSBytes: Self.peakRSS(), decodePrecision: transformer.decodePrecision.rawValue,
            decodeLayoutBytes: model.weights.decodeLayoutBytes)
    }

    static func argmax(_ logits: [Float], limit: Int) -> Int {
        var best = 0
        for i in 1..<min(limit, logits.count) where logits[i] > logits[best] { best = i }
        return best
    }

    /// Peak resident set size (VmHWM from /proc/self/status), 0 where unavailable.
    public static func peakRSS() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
            return kb * 1024
        }
        return 0
    }
}
