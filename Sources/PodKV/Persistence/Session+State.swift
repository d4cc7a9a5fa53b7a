import Foundation
import PodKVCache
import PodKVModel

extension Session {
    /// Captures the cache (as compressed as the policy keeps it), its tokens and the last logits.
    ///
    /// - Throws: `KVStateError.unsupportedPolicy` when the cache's policy has no serialization.
    public func snapshot() throws -> SessionState {
        guard tokens.isEmpty || lastLogits != nil else {
            throw KVStateError.io("the session holds tokens but no logits; nothing consistent to save")
        }
        return SessionState(
            model: model.fingerprint, tokens: tokens, logits: lastLogits ?? [], cache: try KVStateCodec.encode(cache))
    }

    /// Replaces this session's state with `state`; generation then continues exactly as it would have
    /// in the session that was saved (the same cache rows, tokens and logits).
    ///
    /// Refused with `KVStateError` when the state is for another model (fingerprint), another policy or
    /// other policy settings, or is inconsistent. On any error the session is left reset (empty).
    public func restore(_ state: SessionState) throws {
        if let why = state.model.mismatch(with: model.fingerprint) { throw KVStateError.modelMismatch(why) }
        let vocab = model.config.vocabSize
        guard state.logits.count == (state.tokens.isEmpty ? 0 : vocab) else {
            throw KVStateError.corrupt("\(state.logits.count) logits for \(state.tokens.count) tokens (vocabulary \(vocab))")
        }
        if let bad = state.tokens.first(where: { $0 < 0 || $0 >= vocab }) {
            throw KVStateError.corrupt("token id \(bad) is outside the vocabulary of \(vocab)")
        }
        reset()
        do {
            try KVStateCodec.decode(state.cache, into: cache)
            guard cache.tokenCount == state.tokens.count else {
                throw KVStateError.corrupt("the cache holds \(cache.tokenCount) tokens, the state lists \(state.tokens.count)")
            }
        } catch {
            reset()
            throw error
        }
        tokens = state.tokens
        lastLogits = state.tokens.isEmpty ? nil : state.logits
    }

    /// Writes the session's state to `path` atomically.
    public func saveState(path: String) throws { try snapshot().save(path: path) }

    /// Restores the session from a state file written by `saveState(path:)`.
    public func restoreState(path: String) throws { try restore(try SessionState.load(path: path)) }
}
