import PodKVKernels
import PodKVModel

/// A KV-cache policy for calibration: exact full-cache causal attention (fp32 keys and values, every
/// layer, every token), which also records, for the query positions being scored, each layer's
/// attention over the distant region D(t) = [sink, t - window] (POD.md §5).
///
/// The model runs through it exactly as through the `full` policy, so the hidden states of later layers
/// are the uncompressed model's. Distributions are per KV head, averaged over the query heads of its
/// group, and renormalised over D(t). A chunk's records are complete once every layer has seen it, so
/// they are handed to `onRecord` from `advance(by:)`, one `DistantAttention` per scored position, in
/// position order. Positions whose D(t) is empty (t < sink + window) are not recorded.
public final class AttentionRecorder: KVCachePolicy {
    public let name = "attention-recorder"
    public let geometry: KVGeometry
    /// Attention-sink tokens at the start, excluded from the distant region.
    public let sinkCount: Int
    /// Recent tokens (including t itself) excluded from the distant region.
    public let windowCount: Int
    /// Query positions whose distant attention is recorded.
    public var scoredPositions: Range<Int>
    /// Receives the record of every scored position once its chunk went through all layers.
    public var onRecord: ((DistantAttention) -> Void)?
    public private(set) var tokenCount = 0

    /// [layer] (tokens, kvHeadCount * headDim), as handed over by the model (RoPE applied).
    private let keys: [RowBuffer]
    private let values: [RowBuffer]
    /// Scored rows of the chunk in flight: position, D(t), and (layerCount, kvHeadCount, |D|) probabilities.
    private var pending: [(position: Int, distant: Range<Int>, probabilities: UnsafeMutablePointer<Float>)] = []
    private var pendingChunkStart = -1

    /// - Parameters:
    ///   - sink: tokens at the start that are proximal (>= 0).
    ///   - window: recent tokens that are proximal, t itself included (>= 1).
    ///   - scoredPositions: query positions to record (may be empty: then it is a plain fp32 full cache).
    public init(geometry: KVGeometry, sink: Int, window: Int, scoredPositions: Range<Int> = 0..<0) throws {
        guard sink >= 0 else { throw CalibrationError.invalidOption("sink must be >= 0, got \(sink)") }
        guard window >= 1 else { throw CalibrationError.invalidOption("window must be >= 1, got \(window)") }
        self.geometry = geometry
        self.sinkCount = sink
        self.windowCount = window
        self.scoredPositions = scoredPositions
        let kvDim = geometry.kvHeadCount * geometry.headDim
        keys = (0..<geometry.layerCount).map { _ in RowBuffer(width: kvDim) }
        values = (0..<geometry.layerCount).map { _ in RowBuffer(width: kvDim) }
    }

    deinit { dropPending() }

    /// D(t) = [sink, t - window], empty while t < sink + window.
    public func distantRange(position t: Int) -> Range<Int> { sinkCount..<max(sinkCount, t - windowCount + 1) }

    public func attend(layer: Int, rows: AttentionRows, pool: ThreadPool) {
        let g = geometry
        let n = rows.count
        let start = rows.startPosition
        let qDim = g.headCount * g.headDim
        if pendingChunkStart != start { openChunk(start: start, count: n) }
        keys[layer].append(rows.keys, count: n)
        values[layer].append(rows.values, count: n)

        let layerKeys = keys[layer], layerValues = values[layer]
        let group = g.queriesPerKVHead
        let hd = g.headDim
        let scale = g.scale
        // Which chunk row records into which pending buffer (nil: not scored).
        var slot = [UnsafeMutablePointer<Float>?](repeating: nil, count: n)
        for p in pending where p.position >= start && p.position < start + n {
            slot[p.position - start] = p.probabilities + layer * g.kvHeadCount * p.distant.count
        }
        let maxPositions = start + n
        let distantOf = { (t: Int) in self.distantRange(position: t) }
        slot.withUnsafeBufferPointer { slots in
            pool.parallelFor(n * g.kvHeadCount) { items in
                // Logits of every visible position, then a copy for the distant renormalisation.
                let logits = UnsafeMutablePointer<Float>.allocate(capacity: 2 * maxPositions)
                defer { logits.deallocate() }
                let distantLogits = logits + maxPositions
                for item in items {
                    let i = item / g.kvHeadCount, h = item % g.kvHeadCount
                    let t = start + i
                    let visible = t + 1
                    let record = slots[i].map { $0 + h * distantOf(t).count }
                    let distant = distantOf(t)
                    if let record { record.initialize(repeating: 0, count: distant.count) }
                    for member in 0..<group {
                        let head = h * group + member
                        let q = rows.queries + i * qDim + head * hd
                        for j in 0..<visible {
                            logits[j] = VectorOps.dot(q, layerKeys.row(j) + h * hd, count: hd) * scale
                        }
                        if let record, !distant.isEmpty {
                            // Renormalised over D(t) from the raw logits (its own max), so a distant region
                            // holding almost none of the mass still gets an exact distribution.
                            distantLogits.update(from: logits + distant.lowerBound, count: distant.count)
                            VectorOps.softmax(distantLogits, count: distant.count)
                            VectorOps.axpy(record, 1 / Float(group), distantLogits, count: distant.count)
                        }
                        VectorOps.softmax(logits, count: visible)
                        let out = rows.output + i * qDim + head * hd
                        out.initialize(repeating: 0, count: hd)
                        for j in 0..<visible {
                            VectorOps.axpy(out, logits[j], layerValues.row(j) + h * hd, count: hd)
                        }
                    }
                }
            }
        }
    }

    public func advance(by count: Int) {
        tokenCount += count
        let g = geometry
        for p in pending {
            let size = g.layerCount * g.kvHeadCount * p.distant.count
            let values = Array(UnsafeBufferPointer(start: p.probabilities, count: size))
            if let onRecord, let record = try? DistantAttention(
                position: p.position, distant: p.distant, layerCount: g.layerCount, kvHeadCount: g.kvHeadCount,
                probabilities: values) {
                onRecord(record)
            }
        }
        dropPending()
    }

    public func memoryReport() -> KVMemoryReport {
        let rowBytes = geometry.headDim * MemoryLayout<Float>.stride
        let layers = (0..<geometry.layerCount).map { l in
            KVLayerMemory(
                keyBytes: keys[l].allocatedBytes, valueBytes: values[l].allocatedBytes,
                keyTokens: keys[l].rowCount * geometry.kvHeadCount, valueTokens: values[l].rowCount * geometry.kvHeadCount)
        }
        let full = 2 * geometry.layerCount * geometry.kvHeadCount * tokenCount * rowBytes
        return KVMemoryReport(policy: name, tokenCount: tokenCount, layers: layers, formulaBytes: full, fullCacheBytes: full)
    }

    public func reset() {
        for l in 0..<geometry.layerCount {
            keys[l].removeAll()
            values[l].removeAll()
        }
        dropPending()
        tokenCount = 0
    }

    /// Allocates the record buffers of the scored positions in the chunk starting at `start`.
    private func openChunk(start: Int, count: Int) {
        dropPending()
        pendingChunkStart = start
        let lower = max(start, scoredPositions.lowerBound), upper = min(start + count, scoredPositions.upperBound)
        guard lower < upper else { return }
        for t in lower..<upper {
            let distant = distantRange(position: t)
            guard !distant.isEmpty else { continue }
            let size = geometry.layerCount * geometry.kvHeadCount * distant.count
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: size)
            buffer.initialize(repeating: 0, count: size)
            pending.append((t, distant, buffer))
        }
    }

    private func dropPending() {
        for p in pending { p.probabilities.deallocate() }
        pending.removeAll()
        pendingChunkStart = -1
    }
}
