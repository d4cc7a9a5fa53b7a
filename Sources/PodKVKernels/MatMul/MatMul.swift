#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Matrix-vector and matrix-matrix products of a quantized weight with fp32 activations, parallel over
/// weight rows.
///
/// - `matvec` (decode) quantizes `x` once to 8-bit blocks and runs integer dot products on the quantized
///   weight blocks (`vpdpbusd`), llama.cpp's approach; f32/f16/bf16 weights use fp32 FMA directly. The
///   8-bit activation costs about 0.4% relative error per product (see the tests' tolerance).
/// - `matmul` (prefill) is exact fp32: it dequantizes a few weight rows at a time into an L1-sized buffer
///   and reuses each loaded weight vector across several activation rows.
/// - `matvecExact` is the exact fp32 variant of `matvec`, kept for accuracy checks and benchmarks.
public enum MatMul {
    /// How the one-row products on interleaved weights quantize their activation.
    public enum ActivationPrecision: String, Sendable, CaseIterable {
        /// 8-bit blocks of 32 (llama.cpp's choice): ~0.4% relative error per product.
        case int8
        /// 15-bit blocks of 32 as two 8-bit digits: within 1e-4 of fp32, one more `vpdpbusd` per code vector.
        case fine
    }

    /// y[r] = sum_c W[r][c] * x[c] for r in 0..<w.rows.  x: w.cols floats; y: w.rows floats.
    /// With an interleaved copy (`WeightMatrix.withDecodeLayouts`) the activation is quantized as
    /// `precision` says; the row-major kernels always use 8-bit activations.
    public static func matvec(
        _ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, pool: ThreadPool,
        precision: ActivationPrecision = .fine
    ) {
        if let iw = w.interleaved {
            switch precision {
            case .int8:
                Q8Activation.withQuantized(x, count: w.cols) { act in
                    pool.parallelFor(iw.groups) { groups in iw.product(groups: groups, act, y) }
                }
            case .fine:
                Q8x2Activation.withQuantized(x, count: w.cols) { act in
                    pool.parallelFor(iw.groups) { groups in iw.product(groups: groups, act, y) }
                }
            }
            return
        }
        switch w.type {
        case .q8_0: matvecQ8(Q8_0Format.self, w, x, y, pool)
        case .q4_0: matvecQ8(Q4_0Format.self, w, x, y, pool)
        case .q4_1: matvecQ8(Q4_1Format.self, w, x, y, pool)
        case .q5_0: matvecQ8(Q5_0Format.self, w, x, y, pool)
        case .q5_1: matvecQ8(Q5_1Format.self, w, x, y, pool)
        case .q4_K: matvecQ8(Q4_KFormat.self, w, x, y, pool)
        case .q5_K: matvecQ8(Q5_KFormat.self, w, x, y, pool)
        case .q6_K: matvecQ8(Q6_KFormat.self, w, x, y, pool)
        case .f32: matvecFloat(F32Format.self, w, x, y, pool)
        case .f16: matvecFloat(F16Format.self, w, x, y, pool)
        case .bf16: matvecFloat(BF16Format.self, w, x, y, pool)
        default: preconditionFailure("no kernel for tensor type \(w.type)")
        }
    }

    /// Same contract as `matvec`, computed exactly in fp32 (each row dequantized into a scratch buffer,
    /// then an FMA dot product).
    public static func matvecExact(_ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        switch w.type {
        case .f32: return matvecFloat(F32Format.self, w, x, y, pool)
        case .f16: return matvecFloat(F16Format.self, w, x, y, pool)
        case .bf16: return matvecFloat(BF16Format.self, w, x, y, pool)
        default: break
        }
        guard let format = w.type.format else { preconditionFailure("no kernel for tensor type \(w.type)") }
        let cols = w.cols
        pool.parallelFor(w.rows) { rows in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: cols) { buf in
                let scratch = buf.baseAddress!
                for r in rows {
                    format.dequantize(w.row(r), count: cols, into: scratch)
                    y[r] = F32Format.dot(UnsafeRawPointer(scratch), x, count: cols)
                }
            }
        }
    }

    private static func matvecQ8<F: Q8DotFormat>(
        _: F.Type, _ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ pool: ThreadPool
    ) {
        // Row addresses from a hoisted stride: `w.row(r)` divides by the block size on every call.
        let data = w.data, rowBytes = w.rowBytes
        Q8Activation.withQuantized(x, count: w.cols) { act in
            pool.parallelFor(w.rows) { rows in
                for r in rows { y[r] = F.dotQ8(data + r * rowBytes, act) }
            }
        }
    }

    private static func matvecFloat<F: FloatDotFormat>(
        _: F.Type, _ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ pool: ThreadPool
    ) {
        let cols = w.cols
        pool.parallelFor(w.rows) { rows in
            for r in rows { y[r] = F.dot(w.row(r), x, count: cols) }
        }
    }

    /// Y[i][r] = sum_c W[r][c] * X[i][c].  X: n x w.cols row-major; Y: n x w.rows row-major.
    public static func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, batch n: Int, _ y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        guard n > 0 else { return }
        guard let format = w.type.format else { preconditionFailure("no kernel for tensor type \(w.type)") }
        let groups = (w.rows + TiledMatMul.weightRows - 1) / TiledMatMul.weightRows
        pool.parallelFor(groups) { groupRange in
            let lower = groupRange.lowerBound * TiledMatMul.weightRows
            let upper = min(w.rows, groupRange.upperBound * TiledMatMul.weightRows)
            TiledMatMul.run(format, w, rows: lower..<upper, x, batch: n, y)
        }
    }
}
