import ArgumentParser
import PodKVKernels
import Foundation
import PodKV

/// `--model`, `--threads`, `--batch-size`: which model and how much CPU.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "Known model name (pulled on first use) or path to a GGUF file.")
    var model: String = "smollm2-135m"

    @Option(name: .long, help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: "Prompt tokens per prefill chunk.")
    var batchSize: Int = 64

    @Option(name: .long, help: "Decode activation precision on interleaved weights: fine (15-bit, default) or int8 (llama.cpp's).")
    var decodePrecision: MatMul.ActivationPrecision = .fine

    @Flag(name: .long, help: "Skip the interleaved weight copies of the fast decode kernels (less memory, slower decode).")
    var noDecodeLayouts = false

    func validate() throws {
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1 (got \(t))") }
        if batchSize < 1 || batchSize > 4096 { throw ValidationError("--batch-size must be in 1...4096 (got \(batchSize))") }
    }

    /// Resolves the model (pulling a known one if needed, with progress on stderr) and loads it.
    func load() throws -> LanguageModel {
        let store = ModelStore()
        let url = try store.resolve(model) { line in Terminal.status(line) }
        Terminal.clearStatus()
        return try LanguageModel(
            path: url.path, threads: threads, batchSize: batchSize, decodeLayouts: !noDecodeLayouts,
            decodePrecision: decodePrecision)
    }
}

extension MatMul.ActivationPrecision: ExpressibleByArgument {}
