/// What every supported tensor type provides: a plain scalar dequantizer (the reference tests trust) and a
/// SIMD dequantizer that must agree with it bit for bit.
///
/// Each type lives in its own file under `Quant/` and is registered once in `TensorType.format`.
protocol BlockFormat {
    /// The GGUF type this format decodes.
    static var type: TensorType { get }
    /// Decodes `count` values (a multiple of the block size) from raw blocks `src` into `dst`; scalar code
    /// written to mirror the ggml reference (`dequantize_row_*`) operation for operation.
    static func dequantizeReference(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>)
    /// Same result as `dequantizeReference`, vectorized.
    static func dequantize(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>)
}

/// A block-quantized format with an integer dot product against a `Q8Activation` (the decode path).
protocol Q8DotFormat: BlockFormat {
    /// sum_c w[c] * x[c] for one row of `act.count` values, computed as block scale * int8 dot products.
    static func dotQ8(_ row: UnsafeRawPointer, _ act: Q8Activation) -> Float
    /// `dotQ8` of one row against `acts[0..<4]`, written to `out[k * outStride]`; formats that can reuse a
    /// decoded weight block across activations override the default (four separate dot products).
    static func dotQ8x4(_ row: UnsafeRawPointer, _ acts: UnsafePointer<Q8Activation>, _ out: UnsafeMutablePointer<Float>, outStride: Int)
}

extension Q8DotFormat {
    @inline(__always)
    static func dotQ8x4(_ row: UnsafeRawPointer, _ acts: UnsafePointer<Q8Activation>, _ out: UnsafeMutablePointer<Float>, outStride: Int) {
        for k in 0..<4 { out[k * outStride] = dotQ8(row, acts[k]) }
    }
}

/// A plain floating-point format (f32/f16/bf16) with a direct fp32 dot product.
protocol FloatDotFormat: BlockFormat {
    /// sum_c w[c] * x[c] over `count` values of one row.
    static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float
}

extension TensorType {
    /// The kernels for this type, or nil when PodKV has none (see `isSupported`).
    var format: (any BlockFormat.Type)? {
        switch self {
        case .f32: F32Format.self
        case .f16: F16Format.self
        case .bf16: BF16Format.self
        case .q8_0: Q8_0Format.self
        case .q4_0: Q4_0Format.self
        case .q4_1: Q4_1Format.self
        case .q5_0: Q5_0Format.self
        case .q5_1: Q5_1Format.self
        case .q4_K: Q4_KFormat.self
        case .q5_K: Q5_KFormat.self
        case .q6_K: Q6_KFormat.self
        default: nil
        }
    }
}

extension BlockFormat {
    /// Portable dot product against a `Q8Activation` through the reference dequantizer; used off x86 and as
    /// the scalar twin of every `dotQ8` kernel in tests.
    static func dotQ8Scalar(_ row: UnsafeRawPointer, _ act: Q8Activation) -> Float {
        let blockValues = type.blockSize
        var w = [Float](repeating: 0, count: blockValues)
        var total: Float = 0
        for b in 0..<(act.count / blockValues) {
            w.withUnsafeMutableBufferPointer { buf in
                dequantizeReference(row + b * type.blockBytes, count: blockValues, into: buf.baseAddress!)
            }
            for i in 0..<blockValues {
                let c = b * blockValues + i
                total += w[i] * (Float(act.qs[c]) * act.scale[c / 32])
            }
        }
        return total
    }
}
