/// Fast (SIMD) dequantization of rows of any supported tensor type; results equal
/// `ReferenceKernels.dequantize` exactly.
public enum Dequantize {
    /// Decodes `count` values (a multiple of `type.blockSize`) of raw blocks `src` into `dst` (`count`
    /// floats). Unsupported types are rejected earlier (`WeightMatrix.checked`); here they trap.
    public static func row(_ type: TensorType, _ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        guard let format = type.format else { preconditionFailure("no kernel for tensor type \(type)") }
        format.dequantize(src, count: count, into: dst)
    }

    /// Decodes the rows `rows` of `w` into `dst` (`rows.count x w.cols` floats, row-major).
    public static func rows(_ w: WeightMatrix, _ rows: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
        guard let format = w.type.format else { preconditionFailure("no kernel for tensor type \(w.type)") }
        for (i, r) in rows.enumerated() {
            format.dequantize(w.row(r), count: w.cols, into: dst + i * w.cols)
        }
    }
}
