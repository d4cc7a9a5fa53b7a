import PodKV
import PodKVKernels
import PodKVModel

/// What one forward pass of a calibration text leaves for adaptation: every layer's keys and values
/// (fp32, RoPE-rotated, all positions) and, at the sampled query positions, every layer's queries and
/// normalised inputs. Hidden states come from the full cache: each layer is adapted on exact inputs.
public final class RecordedSample: @unchecked Sendable {
    public let tokenCount: Int
    /// Sampled query positions, ascending.
    public let positions: [Int]
    /// [layer] (tokenCount, kvHeadCount * headDim).
    let keys: [RowBuffer]
    let values: [RowBuffer]
    /// [layer] (positions.count, headCount * headDim) rotated queries.
    let queries: [UnsafeMutablePointer<Float>]
    /// [layer] (positions.count, inputWidth) normalised layer inputs.
    let inputs: [UnsafeMutablePointer<Float>]
    let queryWidth: Int
    let inputWidth: Int

    init(tokenCount: Int, positions: [Int], layerCount: Int, kvWidth: Int, queryWidth: Int, inputWidth: Int) {
        self.tokenCount = tokenCount
        self.positions = positions
        self.queryWidth = queryWidth
        self.inputWidth = inputWidth
        keys = (0..<layerCount).map { _ in RowBuffer(width: kvWidth) }
        values = (0..<layerCount).map { _ in RowBuffer(width: kvWidth) }
        queries = (0..<layerCount).map { _ in .allocate(capacity: max(1, positions.count * queryWidth)) }
        inputs = (0..<layerCount).map { _ in .allocate(capacity: max(1, positions.count * inputWidth)) }
    }

    deinit {
        for p in queries { p.deallocate() }
        for p in inputs { p.deallocate() }
    }

    /// Query of `head` for sampled row `index` of `layer`.
    @inline(__always)
    func query(layer: Int, index: Int, head: Int, headDim: Int) -> UnsafePointer<Float> {
        UnsafePointer(queries[layer] + index * queryWidth + head * headDim)
    }

    @inline(__always)
    func input(layer: Int, index: Int) -> UnsafePointer<Float> { UnsafePointer(inputs[layer] + index * inputWidth) }

    /// Approximate bytes held.
    public var bytes: Int {
        keys.reduce(0) { $0 + $1.allocatedBytes } * 2 + queries.count * positions.count * (queryWidth + inputWidth) * 4
    }
}

/// A cache policy that runs exact fp32 full attention and copies what adaptation needs into a
/// `RecordedSample` (one text per `record` call).
final class AdaptationRecorder: KVCachePolicy {
    let name = "adaptation-recorder"
    let geometry: KVGeometry
    private(set) var tokenCount = 0
    private let full: FullCache
    private let sample: RecordedSample
    private let slot: [Int: Int]

    init(geometry: KVGeometry, sample: RecordedSample) {
        self.geometry = geometry
        self.sample = sample
        full = FullCache(geometry: geometry, elementType: .f32)
        slot = Dictionary(uniqueKeysWithValues: sample.positions.enumerated().map { ($0.element, $0.offset) })
    }

    func attend(layer l: Int, rows: AttentionRows, pool: ThreadPool) {
        let g = geometry
        let qDim = g.headCount * g.headDim
        sample.keys[l].append(rows.keys, count: rows.count)
        sample.values[l].append(rows.values, count: rows.count)
        for i in 0..<rows.count {
            guard let s = slot[rows.startPosition + i] else { continue }
            (sample.queries[l] + s * qDim).update(from: rows.queries + i * qDim, count: qDim)
            if let x = rows.inputs {
                (sample.inputs[l] + s * sample.inputWidth).update(from: x + i * rows.inputWidth, count: sample.inputWidth)
            }
        }
        full.attend(layer: l, rows: rows, pool: pool)
    }

    func advance(by count: Int) {
        tokenCount += count
        full.advance(by: count)
    }

    func memoryReport() -> KVMemoryReport { full.memoryReport() }

    func reset() {
        full.reset()
        tokenCount = 0
    }
}

extension RecordedSample {
    /// Runs `tokens` through `model` with exact projections and records keys, values, and the queries and
    /// inputs at `positions`.
    static func record(model: LanguageModel, tokens: [Int], positions: [Int], progress: ((Int) -> Void)? = nil) throws -> RecordedSample {
        let c = model.config
        let g = KVGeometry(c)
        let sample = RecordedSample(
            tokenCount: tokens.count, positions: positions.sorted(), layerCount: c.layerCount,
            kvWidth: g.kvHeadCount * g.headDim, queryWidth: g.headCount * g.headDim, inputWidth: c.modelDim)
        let recorder = AdaptationRecorder(geometry: g, sample: sample)
        let transformer = model.makeTransformer()
        transformer.decodeUsesInt8 = false
        _ = try transformer.forward(tokens, cache: recorder, logits: .none) { progress?($0) }
        return sample
    }
}
