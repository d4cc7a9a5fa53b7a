import PodKVGGUF
import PodKVKernels

/// The weight matrices of a block, for choosing kernels per projection.
public enum Projection: String, Sendable, CaseIterable {
    case q, k, v, o, gate, up, down, output
}

/// Which positions of a forward pass need next-token logits.
public enum LogitSelection: Sendable {
    /// Only the last token (generation).
    case last
    /// Every token (perplexity, KL evaluation).
    case all
    /// None (filling the cache only).
    case none
}

/// Errors raised while running the model.
public enum ForwardError: Error, CustomStringConvertible, Equatable {
    case contextOverflow(requested: Int, limit: Int)
    case tokenOutOfRange(token: Int, vocabSize: Int)
    case cacheMismatch(String)

    public var description: String {
        switch self {
        case .contextOverflow(let r, let l):
            "the context would hold \(r) tokens, more than the \(l) this model or cache allows"
        case .tokenOutOfRange(let t, let v): "token id \(t) is outside the vocabulary (size \(v))"
        case .cacheMismatch(let why): "the KV cache does not fit this model: \(why)"
        }
    }
}

/// The decoder-only transformer forward pass shared by the Llama and Qwen2 architectures:
/// RMSNorm, RoPE, grouped-query attention (computed by the KV-cache policy), SwiGLU FFN.
///
/// This type orchestrates; all inner loops live in `PodKVKernels` and in the cache policy.
/// Not thread-safe: one forward pass at a time per instance (it owns its scratch buffers).
public final class Transformer: @unchecked Sendable {
    public let config: ModelConfig
    public let weights: ModelWeights
    public let pool: ThreadPool
    /// Rows processed per prefill chunk.
    public let batchSize: Int
    /// Single-row (decode) projections use the integer kernels (default); false keeps every projection
    /// exact fp32.
    public var decodeUsesInt8 = true
    /// Activation form of the integer decode kernels on interleaved weights: `.fine` (default, 15-bit,
    /// within 1e-4 of fp32) or `.int8` (llama.cpp's 8 bits). Matrices without an interleaved copy use
    /// 8-bit activations.
    public var decodePrecision: MatMul.ActivationPrecision = .fine
    /// Projections kept at fp32 accuracy in decode: 15-bit activations on the interleaved copy (within
    /// 1e-4 of fp32), exact fp32 kernels for matrices without one.
    public var exactDecodeProjections: Set<Projection> = Transformer.defaultExactProjections
    /// The output (logit) projection: with it on 8-bit activations SmolLM2's golden test had a top-1 flip
    /// in 302 positions whose reference top-2 gap was above 0.3.
    public static let defaultExactProjections: Set<Projection> = [.output]
    private let rope: RotaryEmbedding

    // Scratch, sized for `batchSize` rows.
    private var x: [Float]        // (batch, modelDim) residual stream
    private var h: [Float]        // (batch, modelDim) normalised input of a sub-layer
    private var q: [Float]        // (batch, qDim)
    private var k: [Float]        // (batch, kvDim)
    private var v: [Float]        // (batch, kvDim)
    private var att: [Float]      // (batch, qDim) attention output
    private var proj: [Float]     // (batch, modelDim) output of wo / wDown
    private var gate: [Float]     // (batch, ffnDim)
    private var up: [Float]       // (batch, ffnDim)
    private var ropeCos: [Float] = []
    private var ropeSin: [Float] = []

    public init(weights: ModelWeights, pool: ThreadPool, batchSize: Int = 64) {
        precondition(batchSize >= 1, "batchSize must be at least 1")
        self.config = weights.config
        self.weights = weights
        self.pool = pool
        self.batchSize = batchSize
        self.rope = RotaryEmbedding(config: weights.config, frequencyFactors: weights.ropeFrequencyFactors)
        let c = weights.config
        x = [Float](repeating: 0, count: batchSize * c.modelDim)
        h = x
        proj = x
        q = [Float](repeating: 0, count: batchSize * c.qDim)
        att = q
        k = [Float](repeating: 0, count: batchSize * c.kvDim)
        v = k
        gate = [Float](repeating: 0, count: batchSize * c.ffnDim)
        up = gate
    }

    /// Runs `tokens` through the model at the cache's next positions, appending them to `cache`.
    ///
    /// - Returns: logits, (selected rows, vocabSize) row-major: one row for `.last`, `tokens.count` rows
    ///   for `.all`, empty for `.none`.
    /// - Parameter progress: called after each chunk with the number of tokens done.
    public func forward(
        _ tokens: [Int], cache: KVCachePolicy, logits selection: LogitSelection = .last,
        progress: ((Int) -> Void)? = nil
    ) throws -> [Float] {
        let c = config
        guard cache.geometry == KVGeometry(c) else {
            throw ForwardError.cacheMismatch("geometry \(cache.geometry) vs model \(KVGeometry(c))")
        }
        let end = cache.tokenCount + tokens.count
        guard end <= c.contextLength else { throw ForwardError.contextOverflow(requested: end, limit: c.contextLength) }
        for t in tokens where t < 0 || t >= c.vocabSize {
            throw ForwardError.tokenOutOfRange(token: t, vocabSize: c.vocabSize)
        }
        var result: [Float] = []
        switch selection {
        case .all: result = [Float](repeating: 0, count: tokens.count * c.vocabSize)
        case .last: result = [Float](repeating: 0, count: tokens.isEmpty ? 0 : c.vocabSize)
        case .none: break
        }
        var done = 0
        while done < tokens.count {
            let n = min(batchSize, tokens.count - done)
            let isLastChunk = done + n == tokens.count
            tokens.withUnsafeBufferPointer { tb in
                forwardChunk(UnsafeBufferPointer(rebasing: tb[done..<(done + n)]), cache: cache)
            }
            switch selection {
            case .all:
                result.withUnsafeMutableBufferPointer { r in
                    computeLogits(rows: 0..<n, into: r.baseAddress! + done * c.vocabSize)
                }
            case .last where isLastChunk:
                result.withUnsafeMutableBufferPointer { r in computeLogits(rows: (n - 1)..<n, into: r.baseAddress!) }
            default: break
            }
            done += n
            progress?(done)
        }
        return result
    }

    /// One chunk of at most `batchSize` tokens through every layer; leaves the final hidden states in `x`.
    private func forwardChunk(_ tokens: UnsafeBufferPointer<Int>, cache: KVCachePolicy) {
        let c = config
        let n = tokens.count
        let start = cache.tokenCount
        rope.tables(positions: start..<(start + n), cos: &ropeCos, sin: &ropeSin)
        let pool = self.pool
        x.withUnsafeMutableBufferPointer { xb in
        h.withUnsafeMutableBufferPointer { hb in
        q.withUnsafeMutableBufferPointer { qb in
        k.withUnsafeMutableBufferPointer { kb in
        v.withUnsafeMutableBufferPointer { vb in
        att.withUnsafeMutableBufferPointer { ab in
        proj.withUnsafeMutableBufferPointer { pb in
        gate.withUnsafeMutableBufferPointer { gb in
        up.withUnsafeMutableBufferPointer { ub in
        ropeCos.withUnsafeBufferPointer { cosb in
        ropeSin.withUnsafeBufferPointer { sinb in
            let x = xb.baseAddress!, h = hb.baseAddress!, q = qb.baseAddress!, k = kb.baseAddress!
            let v = vb.baseAddress!, att = ab.baseAddress!, proj = pb.baseAddress!
            let gate = gb.baseAddress!, up = ub.baseAddress!
            let d = c.modelDim
            for (i, t) in tokens.enumerated() {
                Dequantize.row(weights.tokenEmbedding.type, weights.tokenEmbedding.row(t), count: d, into: x + i * d)
            }
            for l in 0..<c.layerCount {
                let w = weights.layers[l]
                // Attention block.
                for i in 0..<n { VectorOps.rmsNorm(x + i * d, weight: w.attnNorm, eps: c.rmsEps, count: d, into: h + i * d) }
                projectGroup([.q, .k, .v], [w.wq, w.wk, w.wv], h, batch: n, [q, k, v], pool: pool)
                if let bq = w.bq, let bk = w.bk, let bv = w.bv {
                    for i in 0..<n {
                        VectorOps.add(q + i * c.qDim, bq, count: c.qDim)
                        VectorOps.add(k + i * c.kvDim, bk, count: c.kvDim)
                        VectorOps.add(v + i * c.kvDim, bv, count: c.kvDim)
                    }
                }
                for i in 0..<n {
                    rope.apply(q + i * c.qDim, headCount: c.headCount, headDim: c.headDim, row: i,
                               cos: cosb.baseAddress!, sin: sinb.baseAddress!)
                    rope.apply(k + i * c.kvDim, headCount: c.kvHeadCount, headDim: c.headDim, row: i,
                               cos: cosb.baseAddress!, sin: sinb.baseAddress!)
                }
                cache.attend(
                    layer: l,
                    rows: AttentionRows(queries: q, keys: k, values: v, output: att, count: n, startPosition: start,
                                         inputs: h, inputWidth: d),
                    pool: pool)
                project(.o, w.wo, att, batch: n, proj, pool: pool)
                VectorOps.add(x, proj, count: n * d)
                // Feed-forward block (SwiGLU).
                for i in 0..<n { VectorOps.rmsNorm(x + i * d, weight: w.ffnNorm, eps: c.rmsEps, count: d, into: h + i * d) }
                projectGroup([.gate, .up], [w.wGate, w.wUp], h, batch: n, [gate, up], pool: pool)
                VectorOps.siluMul(gate, up, count: n * c.ffnDim)
                project(.down, w.wDown, gate, batch: n, proj, pool: pool)
                VectorOps.add(x, proj, count: n * d)
            }
        }}}}}}}}}}}
        cache.advance(by: n)
    }

    /// y = x W^T for `n` rows. A single row (decode) goes through the integer matrix-vector kernels: the
    /// activation row is quantized once (15 bits on interleaved weights by default, 8 bits as llama.cpp
    /// otherwise) and dotted with the quantized weight blocks, several times faster than dequantizing to
    /// fp32 (tested against the golden logits). Prefill chunks use the exact fp32 tiled kernel.
    @inline(__always)
    private func project(_ which: Projection, _ w: WeightMatrix, _ x: UnsafePointer<Float>, batch n: Int, _ y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        if n == 1 && decodeUsesInt8 && !exactDecodeProjections.contains(which) {
            MatMul.matvec(w, x, y, pool: pool, precision: decodePrecision)
        } else if n == 1 && decodeUsesInt8 && w.interleaved != nil {
            MatMul.matvec(w, x, y, pool: pool, precision: .fine)
        } else {
            MatMul.matmul(w, x, batch: n, y, pool: pool)
        }
    }

    /// `project` for matrices that share their input (q/k/v, gate/up). On the int8 decode path the row is
    /// quantized once and every matrix's rows run as one pool job (one dispatch instead of two or three).
    @inline(__always)
    private func projectGroup(
        _ which: [Projection], _ ws: [WeightMatrix], _ x: UnsafePointer<Float>, batch n: Int,
        _ ys: [UnsafeMutablePointer<Float>], pool: ThreadPool
    ) {
        if n == 1 && decodeUsesInt8 && exactDecodeProjections.isDisjoint(with: which)
            && ws.allSatisfy({ MatMul.hasInt8Kernel($0.type) }) {
            MatMul.groupQ8(ws, x, batch: 1, ys, pool: pool, precision: decodePrecision)
        } else {
            for (p, (w, y)) in zip(which, zip(ws, ys)) { project(p, w, x, batch: n, y, pool: pool) }
        }
    }

    /// Final norm and output projection for rows `rows` of the last chunk; writes (rows.count, vocabSize).
    private func computeLogits(rows: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let c = config
        let d = c.modelDim
        x.withUnsafeBufferPointer { xb in
            h.withUnsafeMutableBufferPointer { hb in
                for (j, i) in rows.enumerated() {
                    VectorOps.rmsNorm(xb.baseAddress! + i * d, weight: weights.outputNorm, eps: c.rmsEps, count: d,
                                      into: hb.baseAddress! + j * d)
                }
                project(.output, weights.output, hb.baseAddress!, batch: rows.count, out, pool: pool)
            }
        }
    }
}
