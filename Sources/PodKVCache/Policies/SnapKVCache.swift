import PodKVKernels
import PodKVModel

/// SnapKV (Li et al., "SnapKV: LLM Knows What You are Looking for Before Generation", arXiv 2404.14469):
/// after the prompt, each layer and KV head keeps the last `window` tokens (the observation window) plus
/// the `budget - window` prompt tokens that the observation window's queries attend to most.
///
/// When it compresses. A cache cannot know which chunk ends the prompt, so **[our choice]** the prompt is
/// held in full while multi-row chunks arrive (prefill attention is exact, as in the paper), and the
/// layer compresses when the first single-row (decode) call reaches it after a prefill. A chunked prompt
/// is therefore voted on by its true last `window` queries, however the engine splits it. A follow-up
/// turn (another multi-row chunk after decoding) is appended in full and compressed again at the next
/// decode call, with the new prompt's queries as the observation window; everything held is a candidate.
/// Consequence: output depends on where decoding starts, so "cached equals uncached" holds only for
/// runs with the same prefill/decode split (the tests compare against a brute-force reference of the
/// same selection instead).
///
/// Vote (paper §4.2, per KV head): for each observation query row and each query head reading this KV
/// head, softmax of q . k / sqrt(d) over every key it may see; the probabilities of the candidates (all
/// held tokens but the last `window`) are summed over rows and heads, max-pooled with a centred `kernel`
/// (a kept token brings its neighbours), and the top `budget - window` are kept (ties: the older one).
/// Kept rows are compacted into a new, smaller allocation and the old one is freed. Keys keep their
/// original RoPE positions. Decode rows are appended after compression.
///
/// Parameters: `budget` (tokens per layer and KV head after compression, window ... context length,
/// default 1024), `window` (observation window, also always kept, >= 1, default 32), `kernel` (odd,
/// default 7), `kv-type`. `pyramidkv` is this policy with per-layer budgets (PyramidKVCache.swift).
/// Memory: 2 * kvHeads * sum over layers of held rows; after compression min(held, budget_l) + decoded.
public final class SnapKVCache: KVCachePolicy {
    public let name: String
    public let geometry: KVGeometry
    public let elementType: KVElementType
    /// (layerCount) tokens kept per KV head after compression.
    public let budgets: [Int]
    public let windowCount: Int
    public let kernel: Int
    public private(set) var tokenCount = 0
    /// Compressions done, summed over layers and KV heads (for tests and stats).
    public private(set) var compressions = 0
    /// [layer][kvHead] held rows, positions ascending.
    private var keys: [[SelectedRows]]
    private var values: [[SelectedRows]]
    private let observation: [ObservationWindow]
    /// Per layer: a prefill arrived since the last decode row, so the next decode row compresses.
    private var pending: [Bool]
    /// Per layer, for the memory formula: rows per KV head right after the last compression, and the
    /// token count then (rows held now = rows then + tokens since).
    private var base: [(rows: Int, tokens: Int)]

    /// A cache voting with the last `window` prompt queries, keeping `budgets[layer]` tokens per KV head of
    /// each layer (every budget >= window; `kernel` odd). Settings are validated by the registry.
    public init(name: String = "snapkv", geometry: KVGeometry, budgets: [Int], window: Int = 32, kernel: Int = 7,
                elementType: KVElementType = .f16) {
        precondition(budgets.count == geometry.layerCount && budgets.allSatisfy { $0 >= window } && window >= 1
                     && kernel % 2 == 1, "validated by the registry")
        self.name = name
        self.geometry = geometry
        self.elementType = elementType
        self.budgets = budgets
        self.windowCount = window
        self.kernel = kernel
        let make = {
            (0..<geometry.layerCount).map { _ in
                (0..<geometry.kvHeadCount).map { _ in SelectedRows(elementType: elementType, rowWidth: geometry.headDim) }
            }
        }
        keys = make()
        values = make()
        observation = (0..<geometry.layerCount).map { _ in
            ObservationWindow(capacity: window, rowWidth: geometry.headCount * geometry.headDim)
        }
        pending = Array(repeating: false, count: geometry.layerCount)
        base = Array(repeating: (0, 0), count: geometry.layerCount)
    }

    public func attend(layer l: Int, rows: AttentionRows, pool: ThreadPool) {
        let g = geometry
        let n = rows.count
        let kvStride = g.kvHeadCount * g.headDim, qStride = g.headCount * g.headDim
        if n == 1 && pending[l] {
            compress(layer: l, pool: pool)
            let before = base[l].rows + rows.startPosition - base[l].tokens
            base[l] = (min(before, budgets[l]), rows.startPosition)
            pending[l] = false
        } else if n > 1 {
            if !pending[l] { observation[l].clear() }
            observation[l].record(rows.queries, count: n, startPosition: rows.startPosition)
            pending[l] = true
        }
        let layerKeys = keys[l], layerValues = values[l]
        for i in 0..<n {
            for h in 0..<g.kvHeadCount {
                layerKeys[h].append(rows.keys + i * kvStride + h * g.headDim, position: rows.startPosition + i)
                layerValues[h].append(rows.values + i * kvStride + h * g.headDim, position: rows.startPosition + i)
            }
        }
        // Held positions are ascending and the chunk is appended last, so row i sees the first
        // (held before the chunk) + i + 1 slots.
        let before = layerKeys[0].count - n
        forEachQueryHead(rows: rows, geometry: g, pool: pool) { i, head, acc, scratch, _ in
            let kv = head / g.queriesPerKVHead
            attendRange(rows.queries + i * qStride + head * g.headDim, scale: g.scale, keys: layerKeys[kv],
                        values: layerValues[kv], positions: 0..<(before + i + 1), into: &acc, scratch: scratch)
        }
    }

    /// Keeps, per KV head of layer `l`, the last `window` held tokens and the top-voted `budget - window`
    /// of the rest; no-op for heads holding at most `budget` tokens.
    private func compress(layer l: Int, pool: ThreadPool) {
        let g = geometry
        let budget = budgets[l], window = windowCount, kernel = kernel
        let obs = observation[l]
        let done = UnsafeMutablePointer<Int>.allocate(capacity: g.kvHeadCount)
        done.initialize(repeating: 0, count: g.kvHeadCount)
        defer { done.deallocate() }
        pool.parallelFor(g.kvHeadCount) { heads in
            for h in heads {
                let ks = keys[l][h], vs = values[l][h]
                let held = ks.count
                guard held > budget else { continue }
                let candidates = held - window
                let kept = SelectionVote.snapKV(
                    observation: obs, kvHead: h, geometry: g, keys: ks, candidates: 0..<candidates,
                    keep: budget - window, kernel: kernel)
                let slots = kept + Array(candidates..<held)
                ks.compact(keeping: slots)
                vs.compact(keeping: slots)
                done[h] = 1
            }
        }
        for h in 0..<g.kvHeadCount { compressions += done[h] }
    }

    public func advance(by count: Int) { tokenCount += count }

    /// Positions held by `layer`, `kvHead`, ascending (which tokens survived).
    public func keptPositions(layer: Int, kvHead: Int) -> [Int] { keys[layer][kvHead].positions }

    public func memoryReport() -> KVMemoryReport {
        let rowBytes = geometry.headDim * elementType.bytesPerValue
        // Formula per layer and KV head: every token until the first compression, then at most the budget
        // at each compression plus the tokens that came after it.
        let formulaRows = (0..<geometry.layerCount).reduce(0) { $0 + 2 * geometry.kvHeadCount * (base[$1].rows + tokenCount - base[$1].tokens) }
        let layers = (0..<geometry.layerCount).map { l in
            KVLayerMemory(
                keyBytes: keys[l].reduce(0) { $0 + $1.allocatedBytes },
                valueBytes: values[l].reduce(0) { $0 + $1.allocatedBytes },
                keyTokens: keys[l].reduce(0) { $0 + $1.heldRows },
                valueTokens: values[l].reduce(0) { $0 + $1.heldRows })
        }
        return KVMemoryReport(
            policy: name, tokenCount: tokenCount, layers: layers, formulaBytes: formulaRows * rowBytes,
            fullCacheBytes: fullCacheBytes(geometry, tokens: tokenCount, rowBytes: rowBytes))
    }

    public func reset() {
        for l in 0..<geometry.layerCount {
            for h in 0..<geometry.kvHeadCount {
                keys[l][h].removeAll()
                values[l][h].removeAll()
            }
            observation[l].clear()
            pending[l] = false
            base[l] = (0, 0)
        }
        tokenCount = 0
        compressions = 0
    }
}

extension SnapKVCache {
    static let descriptor = PolicyDescriptor(
        name: "snapkv", summary: "after the prompt, keep the tokens its last queries vote for, plus that window",
        reference: "Li et al., arXiv 2404.14469",
        options: [
            .budget("1024", "tokens kept per layer and KV head after the prompt (>= window)"),
            PolicyOption("window", "32", "observation window: last prompt queries that vote, always kept (>= 1)"),
            .poolKernel, .kvType,
        ],
        compressesAtDecode: true
    ) { opts, geometry, _ in
        let window = try opts.int("window", default: 32, in: 1...geometry.contextLength)
        let budget = try opts.explicitBudget(minimum: window, why: "the observation window is always kept", geometry: geometry)
            ?? max(window, min(1024, geometry.contextLength))
        return SnapKVCache(
            geometry: geometry, budgets: Array(repeating: budget, count: geometry.layerCount), window: window,
            kernel: try opts.poolKernel(), elementType: try opts.kvType())
    }
}
