import Foundation
import PodKVKernels
import PodKVModel

/// PoD: Proximal tokens over Distant tokens (arXiv 2412.02252; specification in docs/POD.md of the
/// shared docs). Layers are grouped per KV head into contiguous blocks; the owner (lowest layer) of a
/// block keeps the keys of every token, the other layers keep keys only for proximal tokens (the first
/// `sink` tokens and a ring of the last `window`) and score distant tokens against the owner's keys.
/// Values are never shared. A query row at position t sees
///   P(t) = [0, sink) ∪ [max(sink, t - window + 1), t]  with the layer's own keys, and
///   D(t) = [sink, t - window]                         with the owner's keys,
/// under one joint softmax computed as two partial attentions merged by their log-sum-exp.
///
/// Parameters: `sink` (16, >= 0), `window` (1024, >= 1), the plan (uniform `group-size` G >= 1 or a plan
/// file), `distant-query` (`owner` default, `own` with an adapter), `skip-threshold` tau in (0, 1]
/// (off by default: when the proximal share of the partition function Z_P / (Z_P + Z_D) >= tau the
/// distant part is skipped, paper v1), `kv-type`.
/// Memory: values L*H*n rows; keys sum over heads of B_h*n + (L - B_h)*min(n, sink + window) rows.
public final class PoDCache: KVCachePolicy {
    public let name = "pod"
    public let geometry: KVGeometry
    public let elementType: KVElementType
    public let sinkCount: Int
    public let windowCount: Int
    public let plan: PoDPlan
    public let distantQuery: PoDDistantQuery
    public let skipThreshold: Float?
    public let adapter: PoDAdapter?
    public internal(set) var tokenCount = 0

    /// [layer][kvHead]: every position (owner for that head) ...
    var ownerKeys: [[PagedRows?]]
    /// ... or sinks + recent ring (non-owner).
    var proximalKeys: [[ProximalRows?]]
    /// [layer][kvHead]: every position, every layer.
    var values: [[PagedRows]]
    private let chunkKeys: [ChunkRows]
    /// Queries of the current chunk of each layer that owns a block with other layers (owner mode), (n, qDim).
    private var savedQueries: [UnsafeMutablePointer<Float>?]
    private var savedCapacity: [Int]
    private let needsSavedQueries: [Bool]
    private let rule: DistantQueryRule

    /// Counters for tests and stats: distant parts computed and skipped by the threshold.
    public private(set) var distantSkipped = 0
    public private(set) var distantComputed = 0

    public init(
        geometry: KVGeometry, plan: PoDPlan, sink: Int = 16, window: Int = 1024,
        distantQuery: PoDDistantQuery = .owner, skipThreshold: Float? = nil, adapter: PoDAdapter? = nil,
        elementType: KVElementType = .f16
    ) {
        precondition(sink >= 0 && window >= 1, "validated by the registry")
        self.geometry = geometry
        self.plan = plan
        self.sinkCount = sink
        self.windowCount = window
        self.distantQuery = distantQuery
        self.skipThreshold = skipThreshold
        self.adapter = adapter
        self.elementType = elementType
        let L = geometry.layerCount, H = geometry.kvHeadCount, d = geometry.headDim
        ownerKeys = (0..<L).map { l in
            (0..<H).map { h in plan.owners[h][l] == l ? PagedRows(elementType: elementType, rowWidth: d) : nil }
        }
        proximalKeys = (0..<L).map { l in
            (0..<H).map { h in
                plan.owners[h][l] == l ? nil
                    : ProximalRows(elementType: elementType, rowWidth: d, sinkCount: sink, windowCount: window)
            }
        }
        values = (0..<L).map { _ in (0..<H).map { _ in PagedRows(elementType: elementType, rowWidth: d) } }
        chunkKeys = (0..<H).map { _ in ChunkRows(elementType: elementType, rowWidth: d) }
        let rule = DistantQueryRule(mode: distantQuery, adapter: adapter)
        self.rule = rule
        let shared = plan.ownsSharedBlock(layerCount: L)
        needsSavedQueries = (0..<L).map { l in rule.needsOwnerQueries && shared[l] }
        savedQueries = Array(repeating: nil, count: L)
        savedCapacity = Array(repeating: 0, count: L)
    }

    public func attend(layer l: Int, rows: AttentionRows, pool: ThreadPool) {
        let g = geometry
        let n = rows.count
        let kvStride = g.kvHeadCount * g.headDim
        let qStride = g.headCount * g.headDim
        let start = rows.startPosition
        let ns = sinkCount, nr = windowCount

        // Values of every token, and keys of owner heads, are stored before attending (causal within the
        // chunk); non-owner heads read this chunk's keys from the staging rows.
        for i in 0..<n {
            for h in 0..<g.kvHeadCount {
                values[l][h].append(rows.values + i * kvStride + h * g.headDim)
                ownerKeys[l][h]?.append(rows.keys + i * kvStride + h * g.headDim)
            }
        }
        for h in 0..<g.kvHeadCount where proximalKeys[l][h] != nil {
            chunkKeys[h].load(rows.keys + h * g.headDim, stride: kvStride, count: n, start: start)
        }
        if needsSavedQueries[l] { saveQueries(layer: l, rows.queries, count: n * qStride) }

        let layerValues = values[l]
        let owners = plan.owners
        let saved = savedQueries
        // Per (row, head): 0 no distant part, 1 distant part merged, 2 skipped by the threshold.
        let outcome = UnsafeMutablePointer<UInt8>.allocate(capacity: n * g.headCount)
        outcome.initialize(repeating: 0, count: n * g.headCount)
        defer { outcome.deallocate() }
        do {
            // The query heads of one KV head together: every key and value row is read once per group.
            let group = g.queriesPerKVHead, d = g.headDim
            forEachKVHead(rows: rows, geometry: g, pool: pool) { i, kv, accs, scratch in
                let p = start + i
                let q = rows.queries + i * qStride + kv * group * d
                let a = owners[kv][l]
                guard let own = self.proximalKeys[l][kv] else {
                    // Owner layer (or block of one): plain attention over all its keys.
                    attendRangeGroup(q, heads: group, scale: g.scale, keys: self.ownerKeys[l][kv]!, values: layerValues[kv],
                                     positions: 0..<(p + 1), into: accs, scratch: scratch)
                    return
                }
                // Proximal part, own keys: sinks and older window rows from the ring, fresh rows from the chunk.
                let chunk = self.chunkKeys[kv]
                let sinkEnd = min(ns, p + 1)
                let recentStart = max(ns, p - nr + 1)
                attendRangeGroup(q, heads: group, scale: g.scale, keys: own, values: layerValues[kv],
                                 positions: 0..<min(sinkEnd, start), into: accs, scratch: scratch)
                attendRangeGroup(q, heads: group, scale: g.scale, keys: chunk, values: layerValues[kv],
                                 positions: span(start, sinkEnd), into: accs, scratch: scratch)
                attendRangeGroup(q, heads: group, scale: g.scale, keys: own, values: layerValues[kv],
                                 positions: span(recentStart, min(start, p + 1)), into: accs, scratch: scratch)
                attendRangeGroup(q, heads: group, scale: g.scale, keys: chunk, values: layerValues[kv],
                                 positions: span(max(recentStart, start), p + 1), into: accs, scratch: scratch)

                // Distant part, the owner's keys, the layer's own values; each head's distant query (own,
                // owner's or adapted) side by side so the group reads the owner's keys once.
                let distant = span(ns, p - nr + 1)
                guard !distant.isEmpty else { return }
                withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * group * d + group) { buf in
                withUnsafeTemporaryAllocation(of: SoftmaxAccumulator.self, capacity: group) { farBuf in
                    let queries = buf.baseAddress!, farOut = queries + group * d, spare = farOut + group * d
                    let bias = spare + group * d
                    let far = farBuf.baseAddress!
                    for h in 0..<group {
                        let (dq, b) = self.rule.resolve(
                            layer: l, head: kv * group + h, row: i, rows: rows, geometry: g, ownerQueries: saved[a],
                            spare: spare + h * d)
                        (queries + h * d).update(from: dq, count: d)
                        bias[h] = b
                        (far + h).initialize(to: SoftmaxAccumulator(out: farOut + h * d, width: d))
                    }
                    attendRangeGroup(queries, heads: group, scale: g.scale, keys: self.ownerKeys[a][kv]!,
                                     values: layerValues[kv], positions: distant, into: far, scratch: scratch)
                    for h in 0..<group {
                        let head = kv * group + h
                        far[h].shiftLogits(by: bias[h])
                        if let tau = self.skipThreshold {
                            // Gate g = Z_P / (Z_P + Z_D) = 1 / (1 + exp(lse_D - lse_P)).
                            let gate = 1 / (1 + expf(far[h].logSumExp - accs[h].logSumExp))
                            if gate >= tau {
                                outcome[i * g.headCount + head] = 2
                                continue
                            }
                        }
                        outcome[i * g.headCount + head] = 1
                        accs[h].merge(far[h])
                    }
                    far.deinitialize(count: group)
                }
                }
            }
        }
        for j in 0..<(n * g.headCount) {
            if outcome[j] == 1 { distantComputed += 1 } else if outcome[j] == 2 { distantSkipped += 1 }
        }
        for i in 0..<n {
            for h in 0..<g.kvHeadCount {
                proximalKeys[l][h]?.append(rows.keys + i * kvStride + h * g.headDim)
            }
        }
    }

    public func advance(by count: Int) { tokenCount += count }

    deinit { for p in savedQueries { p?.deallocate() } }

    /// Copies the chunk's queries of owner layer `l` so that the non-owner layers above can score with them.
    private func saveQueries(layer l: Int, _ q: UnsafePointer<Float>, count: Int) {
        if count > savedCapacity[l] {
            savedQueries[l]?.deallocate()
            savedQueries[l] = .allocate(capacity: count)
            savedCapacity[l] = count
        }
        savedQueries[l]!.update(from: q, count: count)
    }

    public func memoryReport() -> KVMemoryReport {
        let g = geometry
        let rowBytes = g.headDim * elementType.bytesPerValue
        let layers = (0..<g.layerCount).map { l in
            let keys: [KVRows] = (0..<g.kvHeadCount).map { h -> KVRows in
                if let owner = ownerKeys[l][h] { return owner }
                return proximalKeys[l][h]!
            }
            return KVLayerMemory(keys: keys, values: values[l])
        }
        return KVMemoryReport(
            policy: name, tokenCount: tokenCount, layers: layers,
            formulaBytes: PoDCache.formulaRows(geometry: g, plan: plan, sink: sinkCount, window: windowCount, tokens: tokenCount) * rowBytes,
            fullCacheBytes: fullCacheBytes(g, tokens: tokenCount, rowBytes: rowBytes), parameterBytes: adapter?.parameterBytes)
    }

    /// Rows held by PoD for `tokens` tokens (POD.md §6): values L*H*n; keys sum_h B_h*n + (L - B_h)*min(n, n_p).
    public static func formulaRows(geometry g: KVGeometry, plan: PoDPlan, sink: Int, window: Int, tokens n: Int) -> Int {
        let proximal = min(n, sink + window)
        var keys = 0
        for b in plan.blockCounts { keys += b * n + (g.layerCount - b) * proximal }
        return g.layerCount * g.kvHeadCount * n + keys
    }

    public func reset() {
        for l in 0..<geometry.layerCount {
            for h in 0..<geometry.kvHeadCount {
                ownerKeys[l][h]?.removeAll()
                proximalKeys[l][h]?.removeAll()
                values[l][h].removeAll()
            }
        }
        tokenCount = 0
    }
}
