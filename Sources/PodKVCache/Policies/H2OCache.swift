import PodKVKernels
import PodKVModel

/// H2O, the Heavy-Hitter Oracle (Zhang et al., "H2O: Heavy-Hitter Oracle for Efficient Generative
/// Inference of Large Language Models", arXiv 2306.14048): every layer and KV head keeps at most `budget`
/// tokens, the most recent `window` ones plus the "heavy hitters", the tokens with the largest attention
/// accumulated so far. Tokens are evicted one at a time as they arrive, during prefill and decode alike
/// (the paper's greedy Algorithm 1), so a prompt is processed exactly as if it were decoded token by token.
///
/// Accumulated attention of a token is the sum of its softmax probabilities over every query row that
/// has seen it and over the query heads that read its KV head (grouped-query attention shares the
/// eviction of a KV head between its query heads).
///
/// Order of one step at position t, per (layer, KV head): if `budget` tokens are held, the token with the
/// lowest accumulated score among the evictable ones (not a sink, older than the recent window
/// [t - window + 1, t]) is evicted (ties: the older one); token t takes its slot; row t attends to what is
/// held; its probabilities are added to the scores. The victim is chosen with scores through row t - 1,
/// so no query reads more than `budget` keys (the paper lets row t read the victim once more).
/// Keys keep their original RoPE positions.
///
/// Parameters: `budget` (tokens per layer and KV head, >= sink + window; default sink + 2 x window, the
/// paper's even split between heavy hitters and recent tokens), `window` (recent tokens always kept,
/// >= 1; default (budget - sink) / 2 when a budget is given, else 512), `sink` (first tokens always
/// kept, >= 0, default 0: the paper has none, sinks emerge as heavy hitters), `kv-type`.
/// Memory: 2 * layers * kvHeads * min(tokens, budget) rows (+ one fp32 score per held token, metadata).
public final class H2OCache: KVCachePolicy {
    public let name = "h2o"
    public let geometry: KVGeometry
    public let elementType: KVElementType
    public let budget: Int
    public let sinkCount: Int
    public let windowCount: Int
    public private(set) var tokenCount = 0
    /// Tokens evicted so far, summed over layers and KV heads (for tests and stats).
    public private(set) var evictions = 0
    /// [layer][kvHead], slot order shared by keys, values and scores.
    private var keys: [[SelectedRows]]
    private var values: [[SelectedRows]]
    /// [layer][kvHead] (budget) accumulated attention per slot.
    private let scores: [[UnsafeMutablePointer<Float>]]

    /// A cache keeping at most `budget` tokens per layer and KV head: `sink` first tokens, the last `window`,
    /// heavy hitters for the rest. Settings are validated by the registry (`budget >= sink + window`).
    public init(geometry: KVGeometry, budget: Int, sink: Int = 0, window: Int, elementType: KVElementType = .f16) {
        precondition(sink >= 0 && window >= 1 && budget >= sink + window, "validated by the registry")
        self.geometry = geometry
        self.elementType = elementType
        self.budget = budget
        self.sinkCount = sink
        self.windowCount = window
        let make = {
            (0..<geometry.layerCount).map { _ in
                (0..<geometry.kvHeadCount).map { _ in SelectedRows(elementType: elementType, rowWidth: geometry.headDim) }
            }
        }
        keys = make()
        values = make()
        scores = (0..<geometry.layerCount).map { _ in
            (0..<geometry.kvHeadCount).map { _ in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: budget)
                p.initialize(repeating: 0, count: budget)
                return p
            }
        }
    }

    deinit { for layer in scores { for p in layer { p.deallocate() } } }

    public func attend(layer l: Int, rows: AttentionRows, pool: ThreadPool) {
        let g = geometry
        let d = g.headDim, qpk = g.queriesPerKVHead
        let kvStride = g.kvHeadCount * d, qStride = g.headCount * d
        let evicted = UnsafeMutablePointer<Int>.allocate(capacity: g.kvHeadCount)
        evicted.initialize(repeating: 0, count: g.kvHeadCount)
        defer { evicted.deallocate() }
        // KV heads are independent (each has its own kept set), rows within a head are sequential.
        pool.parallelFor(g.kvHeadCount) { heads in
            let logits = UnsafeMutablePointer<Float>.allocate(capacity: budget)
            defer { logits.deallocate() }
            for h in heads {
                let ks = keys[l][h], vs = values[l][h], sc = scores[l][h]
                for i in 0..<rows.count {
                    let p = rows.startPosition + i
                    let k = rows.keys + i * kvStride + h * d, v = rows.values + i * kvStride + h * d
                    if ks.count < budget {
                        ks.append(k, position: p)
                        vs.append(v, position: p)
                        sc[ks.count - 1] = 0
                    } else {
                        let victim = evictionSlot(ks.positions, scores: sc, recentStart: p - windowCount + 1)
                        ks.overwrite(slot: victim, with: k, position: p)
                        vs.overwrite(slot: victim, with: v, position: p)
                        sc[victim] = 0
                        evicted[h] += 1
                    }
                    for head in (h * qpk)..<((h + 1) * qpk) {
                        SelectionScoring.attendAccumulating(
                            rows.queries + i * qStride + head * d, scale: g.scale, keys: ks, values: vs, count: ks.count,
                            logits: logits, out: rows.output + i * qStride + head * d, width: d, scores: sc)
                    }
                }
            }
        }
        for h in 0..<g.kvHeadCount { evictions += evicted[h] }
    }

    /// The slot to evict: lowest accumulated score among tokens that are neither sinks nor in the recent
    /// window (ties: the older token). One exists because budget >= sink + window.
    private func evictionSlot(_ positions: [Int], scores: UnsafeMutablePointer<Float>, recentStart: Int) -> Int {
        var victim = -1
        for s in positions.indices {
            let pos = positions[s]
            if pos < sinkCount || pos >= recentStart { continue }
            if victim < 0 || scores[s] < scores[victim] || (scores[s] == scores[victim] && pos < positions[victim]) {
                victim = s
            }
        }
        precondition(victim >= 0, "budget >= sink + window leaves an evictable token")
        return victim
    }

    public func advance(by count: Int) { tokenCount += count }

    /// Positions held by `layer`, `kvHead`, ascending (which tokens survived).
    public func keptPositions(layer: Int, kvHead: Int) -> [Int] { keys[layer][kvHead].positions.sorted() }

    public func memoryReport() -> KVMemoryReport {
        let rowBytes = geometry.headDim * elementType.bytesPerValue
        let layers = (0..<geometry.layerCount).map { l in
            KVLayerMemory(
                keyBytes: keys[l].reduce(0) { $0 + $1.allocatedBytes },
                valueBytes: values[l].reduce(0) { $0 + $1.allocatedBytes },
                keyTokens: keys[l].reduce(0) { $0 + $1.heldRows },
                valueTokens: values[l].reduce(0) { $0 + $1.heldRows })
        }
        let formula = 2 * geometry.layerCount * geometry.kvHeadCount * min(tokenCount, budget) * rowBytes
        return KVMemoryReport(
            policy: name, tokenCount: tokenCount, layers: layers, formulaBytes: formula,
            fullCacheBytes: fullCacheBytes(geometry, tokens: tokenCount, rowBytes: rowBytes))
    }

    public func reset() {
        for l in 0..<geometry.layerCount {
            for h in 0..<geometry.kvHeadCount {
                keys[l][h].removeAll()
                values[l][h].removeAll()
                scores[l][h].update(repeating: 0, count: budget)
            }
        }
        tokenCount = 0
        evictions = 0
    }
}

extension H2OCache {
    static let descriptor = PolicyDescriptor(
        name: "h2o", summary: "recent window + heavy hitters (largest accumulated attention), evicting as tokens arrive",
        reference: "Zhang et al., arXiv 2306.14048",
        options: [
            .budget("sink+2*window", "tokens kept per layer and KV head (>= sink + window)"),
            PolicyOption("window", "512 or (budget-sink)/2", "recent tokens always kept (>= 1)"),
            PolicyOption("sink", "0", "first tokens always kept (>= 0)"),
            .kvType,
        ]
    ) { opts, geometry, _ in
        let sink = try opts.int("sink", default: 0, in: 0...geometry.contextLength)
        let givenWindow = try opts.optionalInt("window", in: 1...geometry.contextLength)
        let given = try opts.explicitBudget(
            minimum: sink + (givenWindow ?? 1), why: "sink + window tokens are never evicted", geometry: geometry)
        let window = givenWindow ?? given.map { max(1, ($0 - sink) / 2) } ?? 512
        let budget = given ?? sink + 2 * window
        guard budget <= geometry.contextLength else {
            throw PolicyError.invalidCombination(
                policy: "h2o", why: "the default budget sink + 2 x window = \(budget) exceeds the model's context length \(geometry.contextLength)")
        }
        return H2OCache(geometry: geometry, budget: budget, sink: sink, window: window, elementType: try opts.kvType())
    }
}
