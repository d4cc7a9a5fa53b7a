import PodKVKernels
import PodKVModel

/// PoD + SnapKV (POD.md §8; the combination evaluated in arXiv 2412.02252): token selection picks which
/// distant tokens survive, PoD shares the surviving distant keys across layer groups.
///
/// Token sets for a query at position t are PoD's (POD.md §2): proximal P(t) = sinks + the last `window`
/// positions, always kept by every layer; distant D(t) = the rest. **[our choice]** Selection: when the
/// first decode row arrives after a prefill (as in `SnapKVCache`), each owner layer of a PoD block votes
/// with its last `observation` prompt queries (softmax over its keys, summed over the query heads of the
/// KV head, max-pooled with `kernel`) and keeps the top `budget - sink - window` distant tokens per KV
/// head; the proximal tokens of that decode row are protected. Every other layer of the block keeps the
/// values of exactly the owner's selection, and scores those distant tokens against the owner's kept keys
/// (distant-query `owner`: with the owner's query, the default; `own`: with its own query, or the
/// adapter's), exactly as PoD does for all distant tokens. Tokens that later leave the window join the
/// distant set unselected until the next vote (a follow-up turn votes again over everything distant).
///
/// Memory per KV head: values `budget` per layer; keys `budget` in owner layers, `sink + window` in the
/// others, i.e. SnapKV's saving and PoD's key saving multiplied. Keys keep their original RoPE positions.
///
/// Parameters: `budget` (tokens per layer and KV head, >= sink + window; default sink + 2 x window),
/// `sink` (16), `window` (1024), the PoD plan (`group-size` 2 or `plan`), `distant-query`, `observation`
/// (32, >= 1), `kernel` (7, odd), `kv-type`.
public final class PoDSnapKVCache: KVCachePolicy {
    public let name = "pod+snapkv"
    public let geometry: KVGeometry
    public let elementType: KVElementType
    public let plan: PoDPlan
    public let sinkCount: Int
    public let windowCount: Int
    public let budget: Int
    public let observationCount: Int
    public let kernel: Int
    public let distantQuery: PoDDistantQuery
    public let adapter: PoDAdapter?
    public private(set) var tokenCount = 0
    /// Votes done by owner layers, summed over KV heads (for tests and stats).
    public private(set) var compressions = 0

    /// [layer][kvHead] values of the held tokens, positions ascending; one slot layout per PoD block.
    private var values: [[SelectedRows]]
    /// [layer][kvHead] keys of the held tokens in owner layers (same slots as values), nil elsewhere.
    private var ownerKeys: [[SelectedRows?]]
    /// [layer][kvHead] keys of the proximal tokens in non-owner layers, nil in owners.
    private var proximalKeys: [[ProximalRows?]]
    private let chunkKeys: [ChunkRows]
    private let observation: [ObservationWindow]
    private var pending: [Bool]
    /// [layer][kvHead] the slots an owner layer kept at its last vote, for the block's other layers.
    private var selection: [[[Int]?]]
    /// Per layer: rows per KV head right after the last vote and the token count then (memory formula).
    private var base: [(rows: Int, tokens: Int)]
    private var savedQueries: [UnsafeMutablePointer<Float>?]
    private var savedCapacity: [Int]
    private let needsSavedQueries: [Bool]
    private let rule: DistantQueryRule

    /// A cache keeping `budget` tokens per layer and KV head (sink + window + selected distant), with the
    /// distant keys of each block of `plan` held by its owner only. Settings are validated by the registry.
    public init(
        geometry: KVGeometry, plan: PoDPlan, budget: Int, sink: Int = 16, window: Int = 1024, observation: Int = 32,
        kernel: Int = 7, distantQuery: PoDDistantQuery = .owner, adapter: PoDAdapter? = nil, elementType: KVElementType = .f16
    ) {
        precondition(sink >= 0 && window >= 1 && budget >= sink + window && observation >= 1 && kernel % 2 == 1,
                     "validated by the registry")
        self.geometry = geometry
        self.plan = plan
        self.budget = budget
        self.sinkCount = sink
        self.windowCount = window
        self.observationCount = observation
        self.kernel = kernel
        self.distantQuery = distantQuery
        self.adapter = adapter
        self.elementType = elementType
        let L = geometry.layerCount, H = geometry.kvHeadCount, d = geometry.headDim
        values = (0..<L).map { _ in (0..<H).map { _ in SelectedRows(elementType: elementType, rowWidth: d) } }
        ownerKeys = (0..<L).map { l in
            (0..<H).map { h in plan.owners[h][l] == l ? SelectedRows(elementType: elementType, rowWidth: d) : nil }
        }
        proximalKeys = (0..<L).map { l in
            (0..<H).map { h in
                plan.owners[h][l] == l ? nil : ProximalRows(elementType: elementType, rowWidth: d, sinkCount: sink, windowCount: window)
            }
        }
        chunkKeys = (0..<H).map { _ in ChunkRows(elementType: elementType, rowWidth: d) }
        self.observation = (0..<L).map { _ in ObservationWindow(capacity: observation, rowWidth: geometry.headCount * d) }
        pending = Array(repeating: false, count: L)
        selection = Array(repeating: Array(repeating: nil, count: H), count: L)
        base = Array(repeating: (0, 0), count: L)
        let rule = DistantQueryRule(mode: distantQuery, adapter: adapter)
        self.rule = rule
        let shared = plan.ownsSharedBlock(layerCount: L)
        needsSavedQueries = (0..<L).map { l in rule.needsOwnerQueries && shared[l] }
        savedQueries = Array(repeating: nil, count: L)
        savedCapacity = Array(repeating: 0, count: L)
    }

    deinit { for p in savedQueries { p?.deallocate() } }

    public func attend(layer l: Int, rows: AttentionRows, pool: ThreadPool) {
        let g = geometry
        let n = rows.count, start = rows.startPosition
        let kvStride = g.kvHeadCount * g.headDim, qStride = g.headCount * g.headDim
        let ns = sinkCount, nr = windowCount
        if n == 1 && pending[l] {
            compress(layer: l, at: start, pool: pool)
            pending[l] = false
        } else if n > 1 {
            if !pending[l] { observation[l].clear() }
            observation[l].record(rows.queries, count: n, startPosition: start)
            pending[l] = true
        }
        for i in 0..<n {
            for h in 0..<g.kvHeadCount {
                values[l][h].append(rows.values + i * kvStride + h * g.headDim, position: start + i)
                ownerKeys[l][h]?.append(rows.keys + i * kvStride + h * g.headDim, position: start + i)
            }
        }
        for h in 0..<g.kvHeadCount where proximalKeys[l][h] != nil {
            chunkKeys[h].load(rows.keys + h * g.headDim, stride: kvStride, count: n, start: start)
        }
        if needsSavedQueries[l] { saveQueries(layer: l, rows.queries, count: n * qStride) }

        let layerValues = values[l]
        let before = layerValues[0].count - n
        let owners = plan.owners
        let saved = savedQueries
        forEachQueryHead(rows: rows, geometry: g, pool: pool) { i, head, acc, scratch, spare in
            let kv = head / g.queriesPerKVHead
            let p = start + i
            // Held positions are ascending and the chunk was appended last: row i sees slots 0 ..< visible.
            let visible = before + i + 1
            let q = rows.queries + i * qStride + head * g.headDim
            guard let own = self.proximalKeys[l][kv] else {
                attendRange(q, scale: g.scale, keys: self.ownerKeys[l][kv]!, values: layerValues[kv], positions: 0..<visible,
                            into: &acc, scratch: scratch)
                return
            }
            // Proximal part with the layer's own keys (ring for earlier chunks, staging for this one). The
            // sinks are slots 0 ..< sinkEnd; the recent positions recentStart ... p are all held and are the
            // last `recent` visible slots, so a key position maps to slot position - p + visible - 1.
            let chunk = self.chunkKeys[kv]
            let sinkEnd = min(ns, p + 1)
            let recentStart = max(ns, p - nr + 1)
            let recent = p + 1 - recentStart
            let shift = visible - 1 - p
            attendKeysByPosition(q, scale: g.scale, ring: own, chunk: chunk, chunkStart: start, positions: 0..<sinkEnd,
                                 values: layerValues[kv], slotShift: 0, into: &acc, scratch: scratch)
            attendKeysByPosition(q, scale: g.scale, ring: own, chunk: chunk, chunkStart: start,
                                 positions: span(recentStart, p + 1), values: layerValues[kv], slotShift: shift,
                                 into: &acc, scratch: scratch)
            // Distant part: the held tokens between, the owner's keys (same slots), this layer's values.
            let distant = span(sinkEnd, visible - max(0, recent))
            guard !distant.isEmpty else { return }
            let a = owners[kv][l]
            let (dq, bias) = self.rule.resolve(
                layer: l, head: head, row: i, rows: rows, geometry: g, ownerQueries: saved[a], spare: spare + g.headDim)
            var far = SoftmaxAccumulator(out: spare, width: g.headDim)
            attendRange(dq, scale: g.scale, keys: self.ownerKeys[a][kv]!, values: layerValues[kv], positions: distant,
                        into: &far, scratch: scratch)
            far.shiftLogits(by: bias)
            acc.merge(far)
        }
        for i in 0..<n {
            for h in 0..<g.kvHeadCount {
                proximalKeys[l][h]?.append(rows.keys + i * kvStride + h * g.headDim)
            }
        }
    }

    /// Owner layers vote and keep sinks + the selected distant tokens + the window of the decode row at
    /// `position`; other layers apply their owner's selection to their values (the owner, a lower layer,
    /// voted earlier in this same call).
    private func compress(layer l: Int, at position: Int, pool: ThreadPool) {
        let g = geometry
        let held = values[l][0].count
        let keep = budget - sinkCount - windowCount
        let protectedRows = sinkCount + keep + windowCount - 1
        base[l] = (min(base[l].rows + position - base[l].tokens, protectedRows), position)
        // Heads run in parallel and write only their own entry of `chosenSlots` (never `self.selection`).
        let chosenSlots = UnsafeMutablePointer<[Int]?>.allocate(capacity: g.kvHeadCount)
        chosenSlots.initialize(repeating: nil, count: g.kvHeadCount)
        defer { chosenSlots.deinitialize(count: g.kvHeadCount).deallocate() }
        let previous = selection
        pool.parallelFor(g.kvHeadCount) { heads in
            for h in heads {
                let a = plan.owners[h][l]
                guard a == l else {
                    if let kept = previous[a][h] { values[l][h].compact(keeping: kept) }
                    continue
                }
                let leading = min(sinkCount, held)
                let trailing = min(windowCount - 1, held - leading)
                let candidates = leading..<(held - trailing)
                guard candidates.count > keep else { continue }
                let chosen = SelectionVote.snapKV(
                    observation: observation[l], kvHead: h, geometry: g, keys: ownerKeys[l][h]!, candidates: candidates,
                    keep: keep, kernel: kernel)
                let kept = Array(0..<leading) + chosen + Array((held - trailing)..<held)
                ownerKeys[l][h]!.compact(keeping: kept)
                values[l][h].compact(keeping: kept)
                chosenSlots[h] = kept
            }
        }
        for h in 0..<g.kvHeadCount where plan.owners[h][l] == l {
            selection[l][h] = chosenSlots[h]
            if chosenSlots[h] != nil { compressions += 1 }
        }
    }

    /// Copies the chunk's queries of owner layer `l` so that the non-owner layers above can score with them.
    private func saveQueries(layer l: Int, _ q: UnsafePointer<Float>, count: Int) {
        if count > savedCapacity[l] {
            savedQueries[l]?.deallocate()
            savedQueries[l] = .allocate(capacity: count)
            savedCapacity[l] = count
        }
        savedQueries[l]!.update(from: q, count: count)
    }

    public func advance(by count: Int) { tokenCount += count }

    /// Positions whose values `layer`, `kvHead` holds, ascending (the proximal tokens plus the selection).
    public func keptPositions(layer: Int, kvHead: Int) -> [Int] { values[layer][kvHead].positions }

    public func memoryReport() -> KVMemoryReport {
        let g = geometry
        let rowBytes = g.headDim * elementType.bytesPerValue
        let proximal = min(tokenCount, sinkCount + windowCount)
        var formulaRows = 0
        let layers = (0..<g.layerCount).map { l in
            var m = KVLayerMemory(keyBytes: 0, valueBytes: 0, keyTokens: 0, valueTokens: 0)
            let held = base[l].rows + tokenCount - base[l].tokens
            for h in 0..<g.kvHeadCount {
                let keys: KVRows = ownerKeys[l][h] ?? proximalKeys[l][h]!
                m.keyBytes += keys.allocatedBytes
                m.keyTokens += keys.heldRows
                m.valueBytes += values[l][h].allocatedBytes
                m.valueTokens += values[l][h].heldRows
                formulaRows += held + (ownerKeys[l][h] != nil ? held : proximal)
            }
            return m
        }
        return KVMemoryReport(
            policy: name, tokenCount: tokenCount, layers: layers, formulaBytes: formulaRows * rowBytes,
            fullCacheBytes: fullCacheBytes(g, tokens: tokenCount, rowBytes: rowBytes), parameterBytes: adapter?.parameterBytes)
    }

    public func reset() {
        for l in 0..<geometry.layerCount {
            for h in 0..<geometry.kvHeadCount {
                values[l][h].removeAll()
                ownerKeys[l][h]?.removeAll()
                proximalKeys[l][h]?.removeAll()
                selection[l][h] = nil
            }
            observation[l].clear()
            pending[l] = false
            base[l] = (0, 0)
        }
        tokenCount = 0
        compressions = 0
    }
}

/// Attends `q` to the keys of `positions` (from the ring for positions before `chunkStart`, from the
/// chunk's staging rows after) with the values of slots position + slotShift.
@inline(__always)
private func attendKeysByPosition(
    _ q: UnsafePointer<Float>, scale: Float, ring: ProximalRows, chunk: ChunkRows, chunkStart: Int, positions: Range<Int>,
    values: SelectedRows, slotShift: Int, into acc: inout SoftmaxAccumulator, scratch: UnsafeMutablePointer<Float>
) {
    var from = positions.lowerBound
    while from < positions.upperBound {
        let m = min(attentionBlock, positions.upperBound - from)
        for j in 0..<m {
            let pos = from + j
            scratch[j] = (pos < chunkStart ? ring.dot(q, pos) : chunk.dot(q, pos)) * scale
        }
        let first = from + slotShift
        acc.add(logits: scratch, count: m, values: values, positions: { first + $0 })
        from += m
    }
}

extension PoDSnapKVCache {
    static let descriptor = PolicyDescriptor(
        name: "pod+snapkv", summary: "snapkv selects distant tokens, PoD shares their keys across layer groups",
        reference: "arXiv 2412.02252 (PoD + SnapKV), arXiv 2404.14469",
        options: [
            .budget("sink+2*window", "tokens kept per layer and KV head: sink + window + selected distant (>= sink + window)"),
            .sink(16), .window(1024),
            PolicyOption("group-size", "2", "uniform contiguous layer groups of this size (>= 1)"),
            .podPlan, .podDistantQuery, .podAdapter,
            PolicyOption("observation", "32", "SnapKV observation window: last prompt queries that vote (>= 1)"),
            .poolKernel, .kvType,
        ],
        compressesAtDecode: true
    ) { opts, geometry, context in
        let (sink, window) = try opts.sinkWindow(sink: 16, window: 1024, geometry: geometry)
        let pod = try PoDPolicySetup(policy: "pod+snapkv", options: opts, geometry: geometry, context: context, sink: sink, window: window)
        let budget = try opts.explicitBudget(minimum: sink + window, why: "sink + window tokens are always kept", geometry: geometry)
            ?? max(sink + window, min(sink + 2 * window, geometry.contextLength))
        return PoDSnapKVCache(
            geometry: geometry, plan: pod.plan, budget: budget, sink: sink, window: window,
            observation: try opts.int("observation", default: 32, in: 1...geometry.contextLength),
            kernel: try opts.poolKernel(), distantQuery: pod.mode, adapter: pod.adapter, elementType: try opts.kvType())
    }
}
