import Foundation
import PodKV

/// One generation to run: the prompt's token ids, the policy and the options, already validated.
struct CompletionJob: Sendable {
    var prompt: [Int]
    var policy: PolicySpec
    var options: GenerationOptions
}

/// What a finished generation reports back to the HTTP layer.
struct CompletionOutcome: Sendable {
    var text: String
    var finishReason: FinishReason
    var promptTokens: Int
    /// Prompt tokens restored from the prompt cache.
    var cachedTokens: Int
    var completionTokens: Int
    var kv: KVMemoryReport
    var policy: String
    var prefillSeconds: Double
    var decodeSeconds: Double
}

/// The server's engine: the loaded model, the compute threads, the prompt cache, the slot files and the
/// metrics. HTTP handlers validate requests and hand jobs to it; every forward pass runs on a
/// `ComputeQueue` thread.
public final class CompletionEngine: @unchecked Sendable {
    public let model: LanguageModel
    public let configuration: ServerConfiguration
    let queue: ComputeQueue
    let promptCache: PromptCache
    let metrics = ServerMetrics()
    let slots: SlotStore
    /// Tokens per request at most: the model's context or `--max-context` if smaller.
    public let contextLimit: Int

    public init(model: LanguageModel, configuration: ServerConfiguration) throws {
        try configuration.validate()
        self.model = model
        self.configuration = configuration
        contextLimit = min(model.config.contextLength, configuration.maxContext ?? .max)
        queue = ComputeQueue(workerCount: configuration.parallel, maxQueue: configuration.maxQueue)
        promptCache = PromptCache(capacityBytes: configuration.promptCacheBytes)
        slots = SlotStore(directory: configuration.slotDirectory)
        // Fail at start-up, not on the first request, when the default policy is invalid for this model.
        _ = try model.makeCache(configuration.defaultPolicy)
    }

    /// The request's policy (or the server default), checked by building it once: unknown names,
    /// unknown options and invalid values become a 400 naming the problem.
    func policy(_ field: KVPolicyField?) throws -> PolicySpec {
        let spec = field?.spec ?? configuration.defaultPolicy
        do { _ = try model.makeCache(spec) } catch {
            throw APIError.invalid("kv_policy '\(spec)': \(error)", param: "kv_policy")
        }
        return spec
    }

    /// Identifies states that can restore into each other: policy name plus its persisted settings.
    /// Nil for a policy without state serialization (its requests skip the prompt cache).
    static func policyKey(_ cache: KVCachePolicy) -> String? {
        guard let p = cache as? KVStatePersistable else { return nil }
        return p.name + "|" + p.persistedSettings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// Builds a session for `spec` and resumes the longest cached prefix of `prompt`, if any.
    /// Returns the session, its prompt-cache key and the number of prompt tokens restored.
    func makeSession(spec: PolicySpec, prompt: [Int]) throws -> (Session, String?, Int) {
        let session = try Session(model: model, policy: spec)
        guard configuration.promptCacheBytes > 0, let key = Self.policyKey(session.cache) else { return (session, nil, 0) }
        guard let state = promptCache.lookup(policyKey: key, prompt: prompt) else { return (session, key, 0) }
        do {
            try session.restore(state)
            return (session, key, state.tokens.count)
        } catch {
            // A state that does not restore (should not happen for a matching key) is just a miss.
            session.reset()
            return (session, key, 0)
        }
    }

    /// Keeps the session's current state in the prompt cache (no-op for unsupported policies).
    func remember(_ session: Session, key: String?) {
        guard let key, !session.tokens.isEmpty, let state = try? session.snapshot() else { return }
        promptCache.insert(policyKey: key, policyName: session.cache.name, state: state)
    }

    /// Runs one generation on the calling (compute) thread, streaming text pieces to `onText`.
    ///
    /// The prompt state is stored in the prompt cache right after prefill (a later request with the
    /// same prefix, e.g. the next chat turn, resumes from it), and the final state after generation.
    func complete(_ job: CompletionJob, cancel: CancellationFlag, onText: @escaping (String) -> Void) throws -> CompletionOutcome {
        let id = metrics.makeRequestID()
        defer { metrics.releaseHeld(id: id) }
        let (session, key, _) = try makeSession(spec: job.policy, prompt: job.prompt)
        let policyName = session.cache.name

        let t0 = DispatchTime.now()
        let (_, computed) = try session.prefill(job.prompt)
        let prefillSeconds = Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e9
        metrics.updateHeld(id: id, policy: policyName, bytes: session.cache.memoryReport().allocatedBytes)
        if computed > 0 { remember(session, key: key) }

        var options = job.options
        options.shouldStop = { cancel.isCancelled }
        var steps = 0
        let result = try session.generate(prompt: job.prompt, options: options) { event in
            guard case .token(_, let text) = event else { return }
            steps += 1
            // Memory grows with every token; sample it now and then for the gauge and its peak.
            if steps % 32 == 0 {
                self.metrics.updateHeld(id: id, policy: policyName, bytes: session.cache.memoryReport().allocatedBytes)
            }
            if !text.isEmpty { onText(text) }
        }
        let kv = result.stats.kv
        metrics.updateHeld(id: id, policy: policyName, bytes: kv.allocatedBytes)
        if result.finishReason != .cancelled, session.tokens.count > job.prompt.count { remember(session, key: key) }
        metrics.record(
            policy: policyName, promptTokens: job.prompt.count, computed: computed, prefillSeconds: prefillSeconds,
            generated: result.tokenIDs.count, decodeSteps: max(0, result.tokenIDs.count - 1),
            decodeSeconds: result.stats.decodeSeconds, saving: kv.saving)
        return CompletionOutcome(
            text: result.text, finishReason: result.finishReason, promptTokens: job.prompt.count,
            cachedTokens: job.prompt.count - computed, completionTokens: result.tokenIDs.count, kv: kv,
            policy: job.policy.description, prefillSeconds: prefillSeconds, decodeSeconds: result.stats.decodeSeconds)
    }

    /// Queue depth, running requests and prompt-cache figures in the Prometheus text format.
    func metricsText() -> String {
        metrics.render(queueDepth: queue.queueDepth, running: queue.running, parallel: queue.workerCount, cache: promptCache.stats)
    }
}
