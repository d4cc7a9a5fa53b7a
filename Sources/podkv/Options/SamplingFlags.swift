import ArgumentParser
import PodKV

/// Sampling flags; the default is greedy decoding.
struct SamplingFlags: ParsableArguments {
    @Option(name: .long, help: "Sampling temperature; 0 = greedy (default).")
    var temperature: Float = 0
    @Option(name: .long, help: "Top-k (0 = off).")
    var topK: Int = 40
    @Option(name: .long, help: "Top-p (1 = off).")
    var topP: Float = 0.95
    @Option(name: .long, help: "Min-p (0 = off).")
    var minP: Float = 0.05
    @Option(name: .long, help: "Repetition penalty (1 = off).")
    var repeatPenalty: Float = 1
    @Option(name: .long, help: "Tokens of history the repetition penalty looks at.")
    var repeatLastN: Int = 64
    @Option(name: .long, help: "Random seed.")
    var seed: UInt64 = 0
    @Option(name: .long, help: "Most tokens to generate.")
    var maxTokens: Int = 256
    @Option(name: .long, help: "Stop string (repeatable).")
    var stop: [String] = []

    var sampling: SamplingOptions {
        SamplingOptions(temperature: temperature, topK: topK, topP: topP, minP: minP,
                        repetitionPenalty: repeatPenalty, repetitionWindow: repeatLastN, seed: seed)
    }

    func validate() throws {
        do { try sampling.validate() } catch { throw ValidationError("\(error)") }
        if maxTokens < 0 { throw ValidationError("--max-tokens must be >= 0 (got \(maxTokens))") }
        if stop.contains("") { throw ValidationError("--stop must not be empty") }
    }

    var generation: GenerationOptions { GenerationOptions(maxTokens: maxTokens, sampling: sampling, stop: stop) }
}
