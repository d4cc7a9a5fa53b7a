import ArgumentParser
import Foundation
import PodKV
import PodKVKernels

/// `podkv bench`: prefill and decode throughput in the manner of llama-bench, or kernel throughput.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure prefill (pp) and decode (tg) tokens/s; median, min and max over repetitions.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var policy: PolicyFlags
    @Option(name: .long, help: "Prompt tokens of the pp test (0 = skip).")
    var promptTokens: Int = 512
    @Option(name: .long, help: "Generated tokens of the tg test (0 = skip).")
    var genTokens: Int = 128
    @Option(name: .long, help: "Tokens already in the cache before the measured work (repeatable).")
    var depth: [Int] = [0]
    @Option(name: .long, help: "Measured runs per test (a warm-up run is added and excluded).")
    var repetitions: Int = 5
    @Flag(name: .long, help: "One JSON object per test (JSON lines) instead of a table.")
    var json = false
    @Flag(name: .long, help: "Benchmark the matrix kernels on random weights instead of a model.")
    var kernels = false

    func validate() throws {
        if promptTokens < 0 || genTokens < 0 { throw ValidationError("--prompt-tokens and --gen-tokens must be >= 0") }
        if promptTokens == 0 && genTokens == 0 && !kernels { throw ValidationError("nothing to measure: both --prompt-tokens and --gen-tokens are 0") }
        if depth.contains(where: { $0 < 0 }) { throw ValidationError("--depth must be >= 0") }
        if repetitions < 1 || repetitions > 1000 { throw ValidationError("--repetitions must be in 1...1000 (got \(repetitions))") }
    }

    func run() throws {
        if kernels { return try runKernels() }
        let spec = try policy.spec()
        let model = try modelOptions.load()
        let bench = try ModelBenchmark(model: model, policy: spec, repetitions: repetitions, label: modelOptions.model)
        var tests: [ModelBenchmark.Test] = []
        for d in depth {
            if promptTokens > 0 { tests.append(.init(kind: .pp, tokens: promptTokens, depth: d)) }
            if genTokens > 0 { tests.append(.init(kind: .tg, tokens: genTokens, depth: d)) }
        }
        if !json {
            Terminal.out("| model | kv policy | threads | test | t/s median | min | max | KV bytes | peak RSS |\n")
            Terminal.out("|---|---|---|---|---|---|---|---|---|\n")
        }
        let enc = JSONEncoder()
        enc.keyEncodingStrategy = .convertToSnakeCase
        enc.outputFormatting = [.sortedKeys]
        for t in tests {
            let r = try bench.run(t) { Terminal.status($0) }
            Terminal.clearStatus()
            if json {
                Terminal.out(String(decoding: try enc.encode(r), as: UTF8.self) + "\n")
            } else {
                Terminal.out("| \(r.model) | \(r.kvPolicy) | \(r.threads) | \(r.test) | \(String(format: "%.1f", r.tokensPerSMedian)) | \(String(format: "%.1f", r.tokensPerSMin)) | \(String(format: "%.1f", r.tokensPerSMax)) | \(Terminal.bytes(r.kvBytes)) | \(Terminal.bytes(r.peakRSSBytes)) |\n")
            }
        }
    }

    private func runKernels() throws {
        let threads = modelOptions.threads ?? ProcessInfo.processInfo.activeProcessorCount
        let threadCounts = Array(Set([1, threads])).sorted()
        _ = try KernelBenchmark.standardSuite(threadCounts: threadCounts) { r in Terminal.out("\(r)\n") }
        // The same products with weights streamed from memory (what a model's decode step sees).
        for t in threadCounts {
            for (type, rows, cols) in [(TensorType.q4_1, 1536, 576), (.q4_1, 576, 1536), (.q8_0, 49152, 576),
                                       (.q5_0, 4864, 896), (.q5_0, 896, 4864), (.q8_0, 151936, 896)] {
                for r in try StreamingBenchmark.run(type: type, rows: rows, cols: cols, threads: t) { Terminal.out("\(r)\n") }
            }
        }
    }
}
