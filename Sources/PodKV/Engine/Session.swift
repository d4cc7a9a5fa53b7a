import Foundation
import PodKVCache
import PodKVKernels
import PodKVModel
import PodKVTokenizer

/// A conversation with a model: its KV cache (of any policy) and the tokens the cache holds.
///
/// Each call to `generate` feeds only the part of the prompt the cache does not hold yet: when the new
/// prompt starts with the session's tokens (a follow-up turn), the old prefix is reused; otherwise the
/// cache is reset and the prompt computed from scratch. Not thread-safe: one call at a time.
public final class Session: @unchecked Sendable {
    public let model: LanguageModel
    public let cache: KVCachePolicy
    private let transformer: Transformer
    /// Tokens whose keys/values the cache holds, in order. (Set internally by Persistence/ on restore.)
    public internal(set) var tokens: [Int] = []
    /// Logits after the last token in `tokens` (vocabSize), if known.
    var lastLogits: [Float]?

    public init(model: LanguageModel, cache: KVCachePolicy) {
        self.model = model
        self.cache = cache
        self.transformer = model.makeTransformer()
    }

    /// A session with a policy built from `spec`.
    public convenience init(model: LanguageModel, policy spec: PolicySpec = PolicySpec(name: "full"),
                            adapter: PoDAdapter? = nil, warn: @escaping @Sendable (String) -> Void = { _ in }) throws {
        self.init(model: model, cache: try model.makeCache(spec, adapter: adapter, warn: warn))
    }

    /// Forgets every token.
    public func reset() {
        cache.reset()
        tokens = []
        lastLogits = nil
    }

    /// Makes the cache hold exactly `prompt`, computing only what it lacks; returns the logits after its
    /// last token and the number of tokens computed.
    @discardableResult
    public func prefill(_ prompt: [Int], progress: ((Int, Int) -> Void)? = nil) throws -> (logits: [Float], computed: Int) {
        guard !prompt.isEmpty else { throw EngineError.emptyPrompt }
        guard prompt.count <= model.config.contextLength else {
            throw EngineError.promptTooLong(tokens: prompt.count, limit: model.config.contextLength)
        }
        if !(tokens.count < prompt.count && Array(prompt[0..<tokens.count]) == tokens) {
            if tokens == prompt, let logits = lastLogits { return (logits, 0) }
            reset()
        }
        let rest = Array(prompt[tokens.count...])
        let logits = try transformer.forward(rest, cache: cache, logits: .last) { done in progress?(done, rest.count) }
        tokens = prompt
        lastLogits = logits
        return (logits, rest.count)
    }

    /// Generates a continuation of `prompt` (token ids, including any chat formatting and BOS).
    ///
    /// - Parameter onEvent: called on the calling thread for progress and every generated token.
    public func generate(
        prompt: [Int], options: GenerationOptions = GenerationOptions(),
        onEvent: ((GenerationEvent) -> Void)? = nil
    ) throws -> GenerationResult {
        guard options.maxTokens >= 0 else { throw EngineError.invalidOption("max tokens must be >= 0, got \(options.maxTokens)") }
        var sampler = try Sampler(options: options.sampling)
        var stopper = try StopMatcher(stopStrings: options.stop)
        let tokenizer = model.tokenizer
        let limit = model.config.contextLength

        let t0 = DispatchTime.now()
        var (logits, computed) = try prefill(prompt) { done, total in onEvent?(.prefill(done: done, total: total)) }
        let t1 = DispatchTime.now()

        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var generated: [Int] = []
        var text = ""
        var reason = FinishReason.length
        var decodeStart = t1
        while generated.count < options.maxTokens {
            if let shouldStop = options.shouldStop, shouldStop() {
                reason = .cancelled
                break
            }
            let next = sampler.sample(logits: logits, history: tokens)
            if options.stopAtEndOfGeneration && tokenizer.isEndOfGeneration(next) {
                reason = .stop
                break
            }
            generated.append(next)
            let piece = stopper.feed(decoder.append(next))
            text += piece.text
            onEvent?(.token(id: next, text: piece.text))
            if piece.stopped {
                reason = .stop
                break
            }
            if generated.count == options.maxTokens { break }
            if tokens.count + 1 > limit {
                reason = .contextFull
                break
            }
            if generated.count == 1 { decodeStart = DispatchTime.now() }
            logits = try transformer.forward([next], cache: cache, logits: .last)
            tokens.append(next)
            lastLogits = logits
        }
        if !stopper.isStopped {
            let tail = stopper.feed(decoder.flush())
            let rest = tail.text + (tail.stopped ? "" : stopper.finish())
            if !rest.isEmpty {
                text += rest
                onEvent?(.token(id: -1, text: rest))
            }
        }
        let t2 = DispatchTime.now()
        let stats = GenerationStats(
            promptTokens: prompt.count, prefillTokens: computed,
            prefillSeconds: Double(t1.uptimeNanoseconds - t0.uptimeNanoseconds) / 1e9,
            generatedTokens: generated.count,
            decodeSeconds: generated.count > 1 ? Double(t2.uptimeNanoseconds - decodeStart.uptimeNanoseconds) / 1e9 : 0,
            kv: cache.memoryReport())
        let result = GenerationResult(text: text, tokenIDs: generated, finishReason: reason, stats: stats)
        onEvent?(.finished(result))
        return result
    }

    /// Streaming form of `generate`: events arrive as an `AsyncThrowingStream`. The work runs on a
    /// dedicated thread (it is CPU-bound and must not block Swift's cooperative pool).
    public func stream(prompt: [Int], options: GenerationOptions = GenerationOptions()) -> AsyncThrowingStream<GenerationEvent, Error> {
        AsyncThrowingStream { continuation in
            let thread = Thread { [self] in
                do {
                    _ = try self.generate(prompt: prompt, options: options) { continuation.yield($0) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Tokenizes `messages` with the model's chat format, ending with the assistant's turn prompt.
    public func chatPrompt(_ messages: [ChatMessage]) -> [Int] {
        let text = model.chatTemplate.render(messages, addGenerationPrompt: true)
        return model.tokenizer.encodePrompt(text, parseSpecial: true)
    }
}
