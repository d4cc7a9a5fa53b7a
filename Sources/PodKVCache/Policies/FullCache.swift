import PodKVKernels
import PodKVModel

/// The exact baseline: every layer keeps the keys and values of every token.
///
/// Parameters: `kv-type` (f16 default, f32). Memory: 2 * layers * kvHeads * tokens rows.
public final class FullCache: KVCachePolicy {
    public let name = "full"
    public let geometry: KVGeometry
    public let elementType: KVElementType
    public internal(set) var tokenCount = 0
    /// [layer][kvHead]
    var keys: [[PagedRows]]
    var values: [[PagedRows]]

    public init(geometry: KVGeometry, elementType: KVElementType = .f16) {
        self.geometry = geometry
        self.elementType = elementType
        let make = {
            (0..<geometry.layerCount).map { _ in
                (0..<geometry.kvHeadCount).map { _ in PagedRows(elementType: elementType, rowWidth: geometry.headDim) }
            }
        }
        keys = make()
        values = make()
    }

    public func attend(layer: Int, rows: AttentionRows, pool: ThreadPool) {
        let g = geometry
        let layerKeys = keys[layer], layerValues = values[layer]
        for i in 0..<rows.count {
            for h in 0..<g.kvHeadCount {
                layerKeys[h].append(rows.keys + i * g.kvHeadCount * g.headDim + h * g.headDim)
                layerValues[h].append(rows.values + i * g.kvHeadCount * g.headDim + h * g.headDim)
            }
        }
        // The query heads of one KV head together: each cached row is read once per group, not per head.
        forEachKVHead(rows: rows, geometry: g, pool: pool) { i, kv, accs, scratch in
            let q = rows.queries + i * g.headCount * g.headDim + kv * g.queriesPerKVHead * g.headDim
            attendRangeGroup(q, heads: g.queriesPerKVHead, scale: g.scale, keys: layerKeys[kv], values: layerValues[kv],
                             positions: 0..<(rows.startPosition + i + 1), into: accs, scratch: scratch)
        }
    }

    public func advance(by count: Int) { tokenCount += count }

    public func memoryReport() -> KVMemoryReport {
        let rowBytes = geometry.headDim * elementType.bytesPerValue
        let layers = (0..<geometry.layerCount).map { l in KVLayerMemory(keys: keys[l], values: values[l]) }
        let full = fullCacheBytes(geometry, tokens: tokenCount, rowBytes: rowBytes)
        return KVMemoryReport(policy: name, tokenCount: tokenCount, layers: layers, formulaBytes: full, fullCacheBytes: full)
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

extension KVLayerMemory {
    /// Bytes allocated and rows held by one layer's key and value storages (one per KV head).
    init(keys: [KVRows], values: [KVRows]) {
        self.init(
            keyBytes: keys.reduce(0) { $0 + $1.allocatedBytes }, valueBytes: values.reduce(0) { $0 + $1.allocatedBytes },
            keyTokens: keys.reduce(0) { $0 + $1.heldRows }, valueTokens: values.reduce(0) { $0 + $1.heldRows })
    }
}

/// Bytes of a full cache holding `tokens` tokens: 2 * layers * kvHeads * tokens rows.
func fullCacheBytes(_ g: KVGeometry, tokens: Int, rowBytes: Int) -> Int {
    2 * g.layerCount * g.kvHeadCount * tokens * rowBytes
}

/// Runs `body` for every (query row, query head) of a chunk across the pool, with a fresh accumulator,
/// a logits scratch of `attentionBlock` floats and a spare buffer of 3 * headDim floats, then writes the
/// normalised output row of that head.
func forEachQueryHead(
    rows: AttentionRows, geometry g: KVGeometry, pool: ThreadPool,
    _ body: (_ row: Int, _ head: Int, _ acc: inout SoftmaxAccumulator, _ scratch: UnsafeMutablePointer<Float>,
             _ spare: UnsafeMutablePointer<Float>) -> Void
) {
    let items = rows.count * g.headCount
    withoutActuallyEscaping(body) { body in
        pool.parallelFor(items) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: attentionBlock + 4 * g.headDim) { buf in
                let scratch = buf.baseAddress!
                let accOut = scratch + attentionBlock
                for item in range {
                    let i = item / g.headCount, head = item % g.headCount
                    var acc = SoftmaxAccumulator(out: accOut, width: g.headDim)
                    body(i, head, &acc, scratch, accOut + g.headDim)
                    acc.finish(into: rows.output + i * g.headCount * g.headDim + head * g.headDim)
                }
            }
        }
    }
}

/// Runs `body` for every (query row, KV head) of a chunk across the pool with one fresh accumulator per
/// query head of the group (`geometry.queriesPerKVHead` of them) and a logits scratch of
/// `queriesPerKVHead * attentionBlock` floats, then writes the normalised output rows of those heads.
func forEachKVHead(
    rows: AttentionRows, geometry g: KVGeometry, pool: ThreadPool,
    _ body: (_ row: Int, _ kvHead: Int, _ accs: UnsafeMutablePointer<SoftmaxAccumulator>, _ scratch: UnsafeMutablePointer<Float>) -> Void
) {
    let group = g.queriesPerKVHead
    let items = rows.count * g.kvHeadCount
    withoutActuallyEscaping(body) { body in
        pool.parallelFor(items) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: group * (attentionBlock + g.headDim)) { buf in
            withUnsafeTemporaryAllocation(of: SoftmaxAccumulator.self, capacity: group) { accBuf in
                let scratch = buf.baseAddress!, outs = scratch + group * attentionBlock
                let accs = accBuf.baseAddress!
                for item in range {
                    let i = item / g.kvHeadCount, kv = item % g.kvHeadCount
                    for h in 0..<group { (accs + h).initialize(to: SoftmaxAccumulator(out: outs + h * g.headDim, width: g.headDim)) }
                    body(i, kv, accs, scratch)
                    for h in 0..<group {
                        let head = kv * group + h
                        accs[h].finish(into: rows.output + i * g.headCount * g.headDim + head * g.headDim)
                    }
                    accs.deinitialize(count: group)
                }
            }
            }
        }
    }
}
