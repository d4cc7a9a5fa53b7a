import Dispatch
import PodKVGGUF
import PodKVKernels

/// The weights of one transformer block. Matrices are views into the memory-mapped GGUF file;
/// small vectors (norms, biases) are dequantized to fp32 once at load.
public struct LayerWeights: @unchecked Sendable {
    public var attnNorm: [Float]          // (modelDim)
    public var wq: WeightMatrix           // (qDim rows, modelDim cols)
    public var wk: WeightMatrix           // (kvDim, modelDim)
    public var wv: WeightMatrix           // (kvDim, modelDim)
    public var wo: WeightMatrix           // (modelDim, qDim)
    public var bq: [Float]?               // (qDim), Qwen2 only
    public var bk: [Float]?               // (kvDim)
    public var bv: [Float]?               // (kvDim)
    public var ffnNorm: [Float]           // (modelDim)
    public var wGate: WeightMatrix        // (ffnDim, modelDim)
    public var wUp: WeightMatrix          // (ffnDim, modelDim)
    public var wDown: WeightMatrix        // (modelDim, ffnDim)

    /// The seven projection matrices.
    public var matrices: [WeightMatrix] { [wq, wk, wv, wo, wGate, wUp, wDown] }

    /// This layer with `transform` applied to each of its projection matrices.
    func mapMatrices(_ transform: (WeightMatrix) -> WeightMatrix) -> LayerWeights {
        var w = self
        w.wq = transform(wq); w.wk = transform(wk); w.wv = transform(wv); w.wo = transform(wo)
        w.wGate = transform(wGate); w.wUp = transform(wUp); w.wDown = transform(wDown)
        return w
    }
}

/// All weights of a model, bound to the GGUF file that holds them (the file stays mapped while this lives).
public final class ModelWeights: @unchecked Sendable {
    public let config: ModelConfig
    public let tokenEmbedding: WeightMatrix   // (vocabSize rows, modelDim cols)
    public let outputNorm: [Float]            // (modelDim)
    public let output: WeightMatrix           // (vocabSize, modelDim); the embedding when tied (own decode copy)
    public let layers: [LayerWeights]
    /// Per-frequency RoPE divisors (Llama-3 `rope_freqs.weight`), (ropeDim / 2), or nil.
    public let ropeFrequencyFactors: [Float]?
    /// Whether the output projection reuses the token embedding.
    public let tiedOutput: Bool
    private let file: GGUFFile?

    /// Bytes held by interleaved decode copies of the weights (see `WeightMatrix.withDecodeLayouts`).
    public let decodeLayoutBytes: Int

    /// Binds every tensor the architecture needs, checking presence, shape and type.
    /// - Parameter decodeLayouts: also build the 16-row interleaved copies the one-row (decode) kernels
    ///   use (about the size of the quantized layer and output matrices, built in parallel at load);
    ///   false keeps only the memory-mapped file and the slower row-major decode kernels.
    public init(gguf file: GGUFFile, config: ModelConfig, decodeLayouts: Bool = true) throws {
        self.config = config
        self.file = file
        let c = config

        func info(_ name: String) throws -> GGUFTensorInfo {
            guard let t = file.tensor(named: name) else { throw ModelLoadError.missingTensor(name) }
            return t
        }
        func matrix(_ name: String, rows: Int, cols: Int) throws -> WeightMatrix {
            let t = try info(name)
            guard t.dimensions == [cols, rows] else {
                throw ModelLoadError.shapeMismatch(tensor: name, expected: [cols, rows], found: t.dimensions)
            }
            return WeightMatrix(type: t.type, rows: rows, cols: cols, data: file.data(of: t))
        }
        func vector(_ name: String, count: Int) throws -> [Float] {
            let t = try info(name)
            guard t.elementCount == count, t.dimensions.count == 1 else {
                throw ModelLoadError.shapeMismatch(tensor: name, expected: [count], found: t.dimensions)
            }
            var out = [Float](repeating: 0, count: count)
            out.withUnsafeMutableBufferPointer { Dequantize.row(t.type, file.data(of: t), count: count, into: $0.baseAddress!) }
            return out
        }

        tokenEmbedding = try matrix("token_embd.weight", rows: c.vocabSize, cols: c.modelDim)
        outputNorm = try vector("output_norm.weight", count: c.modelDim)
        var outputMatrix: WeightMatrix
        if file.tensor(named: "output.weight") != nil {
            outputMatrix = try matrix("output.weight", rows: c.vocabSize, cols: c.modelDim)
            tiedOutput = false
        } else {
            outputMatrix = tokenEmbedding
            tiedOutput = true
        }
        if file.tensor(named: "rope_freqs.weight") != nil {
            ropeFrequencyFactors = try vector("rope_freqs.weight", count: c.ropeDim / 2)
        } else {
            ropeFrequencyFactors = nil
        }
        var layers: [LayerWeights] = []
        layers.reserveCapacity(c.layerCount)
        for l in 0..<c.layerCount {
            let b = "blk.\(l)."
            layers.append(LayerWeights(
                attnNorm: try vector(b + "attn_norm.weight", count: c.modelDim),
                wq: try matrix(b + "attn_q.weight", rows: c.qDim, cols: c.modelDim),
                wk: try matrix(b + "attn_k.weight", rows: c.kvDim, cols: c.modelDim),
                wv: try matrix(b + "attn_v.weight", rows: c.kvDim, cols: c.modelDim),
                wo: try matrix(b + "attn_output.weight", rows: c.modelDim, cols: c.qDim),
                bq: c.hasQKVBias ? try vector(b + "attn_q.bias", count: c.qDim) : nil,
                bk: c.hasQKVBias ? try vector(b + "attn_k.bias", count: c.kvDim) : nil,
                bv: c.hasQKVBias ? try vector(b + "attn_v.bias", count: c.kvDim) : nil,
                ffnNorm: try vector(b + "ffn_norm.weight", count: c.modelDim),
                wGate: try matrix(b + "ffn_gate.weight", rows: c.ffnDim, cols: c.modelDim),
                wUp: try matrix(b + "ffn_up.weight", rows: c.ffnDim, cols: c.modelDim),
                wDown: try matrix(b + "ffn_down.weight", rows: c.modelDim, cols: c.ffnDim)))
        }
        if decodeLayouts {
            Self.buildDecodeLayouts(&layers)
            outputMatrix = outputMatrix.withDecodeLayouts()
        }
        output = outputMatrix
        self.layers = layers
        decodeLayoutBytes = layers.reduce(outputMatrix.decodeLayoutBytes) { total, w in
            total + w.matrices.reduce(0) { $0 + $1.decodeLayoutBytes }
        }
    }

    /// Regroups every layer's matrices for the decode kernels, layers in parallel.
    private static func buildDecodeLayouts(_ layers: inout [LayerWeights]) {
        let count = layers.count
        layers.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let base = buffer.baseAddress!
            DispatchQueue.concurrentPerform(iterations: count) { l in
                base[l] = base[l].mapMatrices { $0.withDecodeLayouts() }
            }
        }
    }
}
