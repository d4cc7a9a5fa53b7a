import PodKVKernels
import PodKVModel

/// StreamingLLM (Xiao et al., "Efficient Streaming Language Models with Attention Sinks",
/// arXiv 2309.17453): every layer keeps only the first `sink` tokens (attention sinks) and the last
/// `window` tokens; everything in between is dropped. Keys keep the RoPE rotation of their original
/// position (positions never shift).
///
/// Registered twice: `streaming-llm` (sink default 16, window default 1024) and `window` (sink 0: plain
/// sliding-window attention). Parameters: `sink` >= 0, `window` >= 1, `kv-type`.
/// Memory: 2 * layers * kvHeads * min(tokens, sink + window) rows.
public final class StreamingLLMCache: KVCachePolicy {
    public let name: String
    public let geometry: KVGeometry
    public let elementType: KVElementType
    public let sinkCount: Int
    public let windowCount: Int
    public internal(set) var tokenCount = 0
    var keys: [[ProximalRows]]
    var values: [[ProximalRows]]
    let chunkKeys: [ChunkRows]
    let chunkValues: [ChunkRows]

    public init(name: String = "streaming-llm", geometry: KVGeometry, sink: Int, window: Int, elementType: KVElementType = .f16) {
        precondition(sink >= 0 && window >= 1, "validated by the registry")
        self.name = name
        self.geometry = geometry
        self.elementType = elementType
        self.sinkCount = sink
        self.windowCount = window
        let make = {
            (0..<geometry.layerCount).map { _ in
                (0..<geometry.kvHeadCount).map { _ in
                    ProximalRows(elementType: elementType, rowWidth: geometry.headDim, sinkCount: sink, windowCount: window)
                }
            }
        }
        keys = make()
        values = make()
        chunkKeys = (0..<geometry.kvHeadCount).map { _ in ChunkRows(elementType: elementType, rowWidth: geometry.headDim) }
        chunkValues = (0..<geometry.kvHeadCount).map { _ in ChunkRows(elementType: elementType, rowWidth: geometry.headDim) }
    }

    public func attend(layer: Int, rows: AttentionRows, pool: ThreadPool) {
        let g = geometry
        let kvStride = g.kvHeadCount * g.headDim
        let start = rows.startPosition
        for h in 0..<g.kvHeadCount {
            chunkKeys[h].load(rows.keys + h * g.headDim, stride: kvStride, count: rows.count, start: start)
            chunkValues[h].load(rows.values + h * g.headDim, stride: kvStride, count: rows.count, start: start)
        }
        let layerKeys = keys[layer], layerValues = values[layer]
        let ns = sinkCount, nr = windowCount
        // The query heads of one KV head together: each cached row is read once per group.
        let group = g.queriesPerKVHead
        forEachKVHead(rows: rows, geometry: g, pool: pool) { i, kv, accs, scratch in
            let p = start + i
            let q = rows.queries + i * g.headCount * g.headDim + kv * group * g.headDim
            let sinkEnd = min(ns, p + 1)
            let recentStart = max(ns, p - nr + 1)
            // Sinks and the older part of the window come from the cache, the rest from this chunk.
            let cachedSinks = 0..<min(sinkEnd, start)
            attendRangeGroup(q, heads: group, scale: g.scale, keys: layerKeys[kv], values: layerValues[kv],
                             positions: cachedSinks, into: accs, scratch: scratch)
            let chunkSinks = max(start, 0)..<max(start, sinkEnd)
            attendRangeGroup(q, heads: group, scale: g.scale, keys: chunkKeys[kv], values: chunkValues[kv],
                             positions: chunkSinks, into: accs, scratch: scratch)
            if recentStart <= p {
                let cached = recentStart..<max(recentStart, min(start, p + 1))
                attendRangeGroup(q, heads: group, scale: g.scale, keys: layerKeys[kv], values: layerValues[kv],
                                 positions: cached, into: accs, scratch: scratch)
                let fresh = max(recentStart, start)..<(p + 1)
                attendRangeGroup(q, heads: group, scale: g.scale, keys: chunkKeys[kv], values: chunkValues[kv],
                                 positions: fresh, into: accs, scratch: scratch)
            }
        }
        for i in 0..<rows.count {
            for h in 0..<g.kvHeadCount {
                layerKeys[h].append(rows.keys + i * kvStride + h * g.headDim)
                layerValues[h].append(rows.values + i * kvStride + h * g.headDim)
            }
        }
    }

    public func advance(by count: Int) { tokenCount += count }

    public func memoryReport() -> KVMemoryReport {
        let rowBytes = geometry.headDim * elementType.bytesPerValue
        let layers = (0..<geometry.layerCount).map { l in KVLayerMemory(keys: keys[l], values: values[l]) }
        let held = min(tokenCount, sinkCount + windowCount)
        let formula = 2 * geometry.layerCount * geometry.kvHeadCount * held * rowBytes
        return KVMemoryReport(
            policy: name, tokenCount: tokenCount, layers: layers, formulaBytes: formula,
            fullCacheBytes: fullCacheBytes(geometry, tokens: tokenCount, rowBytes: rowBytes))
    }

    public func reset() {
        for l in 0..<geometry.layerCount {
            for h in 0..<geometry.kvHeadCount {
                keys[l][h].removeAll()
                values[l][h].removeAll()
            }
        }
        tokenCount = 0
    }
}
