import Foundation
import PodKVCache
import PodKVGGUF
import PodKVKernels
import PodKVModel
import PodKVTokenizer

/// A GGUF model loaded for inference: hyperparameters, memory-mapped weights, tokenizer, chat format and
/// a worker pool. Immutable and shareable; each `Session` brings its own scratch buffers and KV cache.
public final class LanguageModel: @unchecked Sendable {
    public let path: String
    public let file: GGUFFile
    public let config: ModelConfig
    public let weights: ModelWeights
    public let tokenizer: any Tokenizer
    /// Chat format detected from `tokenizer.chat_template` (ChatML when unknown; see `chatFormatWarning`).
    public let chatTemplate: ChatTemplate
    /// Set when the template was missing or not recognised and ChatML is used instead.
    public let chatFormatWarning: String?
    public let fingerprint: ModelFingerprint
    public let pool: ThreadPool
    /// Rows per prefill chunk.
    public let batchSize: Int
    /// Activation precision of the decode kernels on interleaved weights in the transformers this model
    /// makes (see `Transformer.decodePrecision`).
    public let decodePrecision: MatMul.ActivationPrecision

    /// Loads the GGUF file at `path`.
    /// - Parameters:
    ///   - threads: worker threads (default: all cores).
    ///   - batchSize: prompt tokens per prefill chunk (>= 1).
    ///   - decodeLayouts: build the interleaved weight copies of the fast decode kernels (default; costs
    ///     about the quantized weights' size again in memory); false decodes from the mapped file alone.
    ///   - decodePrecision: activation precision of the decode kernels on those copies.
    public init(
        path: String, threads: Int? = nil, batchSize: Int = 64, decodeLayouts: Bool = true,
        decodePrecision: MatMul.ActivationPrecision = .fine
    ) throws {
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        guard threadCount >= 1 else { throw EngineError.invalidOption("threads must be at least 1, got \(threadCount)") }
        guard batchSize >= 1 else { throw EngineError.invalidOption("batch size must be at least 1, got \(batchSize)") }
        self.path = path
        self.decodePrecision = decodePrecision
        file = try GGUFFile(path: path)
        config = try ModelConfig(gguf: file)
        weights = try ModelWeights(gguf: file, config: config, decodeLayouts: decodeLayouts)
        tokenizer = try loadTokenizer(from: file)
        guard tokenizer.vocabularySize <= config.vocabSize else {
            throw EngineError.invalidModel("tokenizer has \(tokenizer.vocabularySize) tokens but the embedding only \(config.vocabSize) rows")
        }
        chatTemplate = ChatTemplate(template: file.string("tokenizer.chat_template"))
        chatFormatWarning = chatTemplate.isFallback
            ? "the model's chat template is missing or not recognised; using ChatML (pass --chat-format to choose)" : nil
        fingerprint = ModelFingerprint(config: config, file: file)
        pool = ThreadPool(threadCount: threadCount)
        self.batchSize = batchSize
    }

    /// Builds a KV cache of the policy `spec` describes for this model.
    public func makeCache(
        _ spec: PolicySpec = PolicySpec(name: "full"), adapter: PoDAdapter? = nil,
        warn: @escaping @Sendable (String) -> Void = { _ in }
    ) throws -> KVCachePolicy {
        try KVPolicyRegistry.make(
            spec, geometry: KVGeometry(config),
            context: PolicyContext(model: fingerprint, adapter: adapter, warn: warn))
    }

    /// A fresh forward-pass runner (own scratch buffers) over this model's weights.
    public func makeTransformer() -> Transformer {
        let t = Transformer(weights: weights, pool: pool, batchSize: batchSize)
        t.decodePrecision = decodePrecision
        return t
    }
}

/// Errors raised by the engine layer itself.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    case invalidOption(String)
    case invalidModel(String)
    case emptyPrompt
    case promptTooLong(tokens: Int, limit: Int)

    public var description: String {
        switch self {
        case .invalidOption(let why): why
        case .invalidModel(let why): "unusable model: \(why)"
        case .emptyPrompt: "the prompt is empty"
        case .promptTooLong(let t, let l): "the prompt has \(t) tokens; with the requested output it exceeds the context limit of \(l) tokens"
        }
    }
}
