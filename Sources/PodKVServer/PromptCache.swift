import Foundation
import PodKV

/// In-memory LRU of session KV states keyed by policy and token sequence, bounded in bytes.
///
/// A request looks up the longest cached state whose tokens are a prefix of its prompt (same policy and
/// settings) and restores it, so only the new suffix is computed: a follow-up chat turn does not
/// recompute the conversation so far. States are stored as the policy holds them (a PoD or
/// streaming-llm state is compressed), which is what makes prefix reuse work for compressed caches: a
/// ring buffer cannot be truncated to a shorter prefix, but it can be resumed from an exact one.
final class PromptCache: @unchecked Sendable {
    /// Most bytes of states held; inserting past it evicts the least recently used.
    let capacityBytes: Int
    private let lock = NSLock()
    private var entries: [Entry] = []
    private var clock: UInt64 = 0
    private var heldBytes = 0
    private var hitCount = 0
    private var missCount = 0

    private struct Entry {
        var policyKey: String
        var policyName: String
        var state: SessionState
        var lastUse: UInt64
    }

    init(capacityBytes: Int) { self.capacityBytes = capacityBytes }

    /// The state with the most tokens that are a prefix of `prompt` (or all of it) for `policyKey`.
    func lookup(policyKey: String, prompt: [Int]) -> SessionState? {
        lock.withLock {
            var best: Int?
            for (i, e) in entries.enumerated() where e.policyKey == policyKey {
                let t = e.state.tokens
                guard !t.isEmpty, t.count <= prompt.count, t.count > (best.map { entries[$0].state.tokens.count } ?? 0) else { continue }
                if prompt.starts(with: t) { best = i }
            }
            guard let i = best else {
                missCount += 1
                return nil
            }
            hitCount += 1
            clock += 1
            entries[i].lastUse = clock
            return entries[i].state
        }
    }

    /// Keeps `state` (replacing a state of the same tokens and policy), evicting old states to fit.
    /// A state larger than the whole capacity is not kept.
    func insert(policyKey: String, policyName: String, state: SessionState) {
        let size = state.byteCount
        guard size <= capacityBytes, !state.tokens.isEmpty else { return }
        lock.withLock {
            if let i = entries.firstIndex(where: { $0.policyKey == policyKey && $0.state.tokens == state.tokens }) {
                heldBytes -= entries[i].state.byteCount
                entries.remove(at: i)
            }
            while heldBytes + size > capacityBytes, let lru = entries.indices.min(by: { entries[$0].lastUse < entries[$1].lastUse }) {
                heldBytes -= entries[lru].state.byteCount
                entries.remove(at: lru)
            }
            clock += 1
            entries.append(Entry(policyKey: policyKey, policyName: policyName, state: state, lastUse: clock))
            heldBytes += size
        }
    }

    /// Counters for `/metrics`.
    struct Stats {
        var entries: Int
        var bytes: Int
        var hits: Int
        var misses: Int
        var bytesByPolicy: [String: Int]
    }

    var stats: Stats {
        lock.withLock {
            var byPolicy: [String: Int] = [:]
            for e in entries { byPolicy[e.policyName, default: 0] += e.state.byteCount }
            return Stats(entries: entries.count, bytes: heldBytes, hits: hitCount, misses: missCount, bytesByPolicy: byPolicy)
        }
    }
}
