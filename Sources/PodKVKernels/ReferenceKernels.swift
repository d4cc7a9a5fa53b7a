/// Plain scalar twins of the fast kernels: slow, obviously correct, and what tests compare against.
public enum ReferenceKernels {
    /// Decodes `count` values of `type` from raw blocks `src` into `dst` (`count` floats), mirroring ggml's
    /// `dequantize_row_*` operation for operation.
    public static func dequantize(_ type: TensorType, _ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        guard let format = type.format else { preconditionFailure("no kernel for tensor type \(type)") }
        format.dequantizeReference(src, count: count, into: dst)
    }

    /// sum_c row[c] * x[c] over `count` values, accumulated in Double. `row`: raw blocks of `type`;
    /// `x`: `count` floats.
    public static func dot(_ type: TensorType, _ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        var w = [Float](repeating: 0, count: count)
        w.withUnsafeMutableBufferPointer { dequantize(type, row, count: count, into: $0.baseAddress!) }
        var s: Double = 0
        for c in 0..<count { s += Double(w[c]) * Double(x[c]) }
        return Float(s)
    }

    /// Y[i][r] = sum_c W[r][c] * X[i][c]. X: `n x w.cols` row-major; Y: `n x w.rows` row-major.
    public static func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, batch n: Int, _ y: UnsafeMutablePointer<Float>) {
        for r in 0..<w.rows {
            for i in 0..<n {
                y[i * w.rows + r] = dot(w.type, w.row(r), x + i * w.cols, count: w.cols)
            }
        }
    }

    /// Quantizes `count` floats into raw blocks of `type` at `dst` (`type.byteCount(elements: count)`
    /// bytes) with ggml's reference rounding. Available for f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1;
    /// K-quant test data is built from random bytes with sane scales instead.
    public static func quantize(
        _ type: TensorType, _ src: UnsafePointer<Float>, count: Int, into dst: UnsafeMutableRawPointer
    ) throws(KernelError) {
        guard type.byteCount(elements: count) != nil else {
            throw .rowNotBlockAligned(type: type, cols: count)
        }
        switch type {
        case .f32:
            for i in 0..<count { dst.storeBytes(of: src[i], toByteOffset: 4 * i, as: Float.self) }
        case .f16:
            for i in 0..<count { storeHalf(src[i], dst, 2 * i) }
        case .bf16:
            // Round to nearest even on the dropped 16 bits (finite inputs).
            for i in 0..<count {
                let bits = src[i].bitPattern
                let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
                dst.storeBytes(of: UInt16(rounded >> 16), toByteOffset: 2 * i, as: UInt16.self)
            }
        case .q8_0: Q8_0Format.quantizeReference(src, count: count, into: dst)
        case .q4_0: Q4_0Format.quantizeReference(src, count: count, into: dst)
        case .q4_1: Q4_1Format.quantizeReference(src, count: count, into: dst)
        case .q5_0: Q5_0Format.quantizeReference(src, count: count, into: dst)
        case .q5_1: Q5_1Format.quantizeReference(src, count: count, into: dst)
        default: throw .unsupportedType(type)
        }
    }
}
