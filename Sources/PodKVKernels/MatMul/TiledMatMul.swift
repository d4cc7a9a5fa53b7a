#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// The exact fp32 batched product used by `MatMul.matmul`, for one thread's range of weight rows.
///
/// Tiling (sizes for this CPU: 48 KB L1d, 2 MB L2 per core):
/// - columns in segments of `segment` values, so `weightRows` dequantized rows (4 x 1024 x 4 B = 16 KB)
///   stay in L1 while every activation row of the batch tile streams past them;
/// - the batch in tiles of `batchTile` rows (32 x 1024 x 4 B = 128 KB of X per segment, L2-resident), so
///   each weight segment is dequantized once per 32 activation rows;
/// - a 4 x 2 register block: per 16 columns, 4 weight + 2 activation loads feed 8 FMAs.
enum TiledMatMul {
    static let weightRows = 4
    static let segment = 1024
    static let batchTile = 32

    /// Computes Y[i][r] for `r` in `rows`, `i` in 0..<n (shapes as in `MatMul.matmul`).
    static func run(
        _ format: any BlockFormat.Type, _ w: WeightMatrix, rows: Range<Int>,
        _ x: UnsafePointer<Float>, batch n: Int, _ y: UnsafeMutablePointer<Float>
    ) {
        let cols = w.cols
        // Segment length must be a whole number of blocks (256 for K-quants).
        let seg = max(segment / w.type.blockSize, 1) * w.type.blockSize
        withUnsafeTemporaryAllocation(of: Float.self, capacity: weightRows * seg) { buffer in
            let buf = buffer.baseAddress!
            var i0 = 0
            while i0 < n {
                let i1 = min(n, i0 + batchTile)
                var r0 = rows.lowerBound
                while r0 < rows.upperBound {
                    let rn = min(weightRows, rows.upperBound - r0)
                    var c0 = 0
                    while c0 < cols {
                        let len = min(seg, cols - c0)
                        let byteOffset = c0 / w.type.blockSize * w.type.blockBytes
                        for k in 0..<rn {
                            format.dequantize(w.row(r0 + k) + byteOffset, count: len, into: buf + k * len)
                        }
                        accumulate(buf, rowCount: rn, len: len, x + c0, xStride: cols, batch: i0..<i1,
                                   y + r0, yStride: w.rows, first: c0 == 0)
                        c0 += len
                    }
                    r0 += rn
                }
                i0 = i1
            }
        }
    }

    /// Y[i][k] (+)= sum_{c < len} wbuf[k][c] * X[i][c] for k < rowCount, i in batch; assigns when `first`.
    /// wbuf: rowCount x len; X rows `xStride` apart; Y rows `yStride` apart.
    @inline(__always)
    private static func accumulate(
        _ wbuf: UnsafePointer<Float>, rowCount: Int, len: Int, _ x: UnsafePointer<Float>, xStride: Int,
        batch: Range<Int>, _ y: UnsafeMutablePointer<Float>, yStride: Int, first: Bool
    ) {
        @inline(__always) func put(_ i: Int, _ k: Int, _ v: Float) {
            if first { y[i * yStride + k] = v } else { y[i * yStride + k] += v }
        }
        #if arch(x86_64)
        if rowCount == 4 && len % 16 == 0 {
            let w0 = wbuf, w1 = wbuf + len, w2 = wbuf + 2 * len, w3 = wbuf + 3 * len
            var i = batch.lowerBound
            while i + 2 <= batch.upperBound {
                let xa = x + i * xStride, xb = xa + xStride
                var a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps()
                var b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps(), b2 = _mm512_setzero_ps(), b3 = _mm512_setzero_ps()
                var c = 0
                while c < len {
                    let va = loadF16x(xa + c), vb = loadF16x(xb + c)
                    let v0 = loadF16x(w0 + c), v1 = loadF16x(w1 + c), v2 = loadF16x(w2 + c), v3 = loadF16x(w3 + c)
                    a0 = _mm512_fmadd_ps(v0, va, a0); b0 = _mm512_fmadd_ps(v0, vb, b0)
                    a1 = _mm512_fmadd_ps(v1, va, a1); b1 = _mm512_fmadd_ps(v1, vb, b1)
                    a2 = _mm512_fmadd_ps(v2, va, a2); b2 = _mm512_fmadd_ps(v2, vb, b2)
                    a3 = _mm512_fmadd_ps(v3, va, a3); b3 = _mm512_fmadd_ps(v3, vb, b3)
                    c += 16
                }
                put(i, 0, _mm512_reduce_add_ps(a0)); put(i, 1, _mm512_reduce_add_ps(a1))
                put(i, 2, _mm512_reduce_add_ps(a2)); put(i, 3, _mm512_reduce_add_ps(a3))
                put(i + 1, 0, _mm512_reduce_add_ps(b0)); put(i + 1, 1, _mm512_reduce_add_ps(b1))
                put(i + 1, 2, _mm512_reduce_add_ps(b2)); put(i + 1, 3, _mm512_reduce_add_ps(b3))
                i += 2
            }
            if i < batch.upperBound {
                let xa = x + i * xStride
                var a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps()
                var c = 0
                while c < len {
                    let va = loadF16x(xa + c)
                    a0 = _mm512_fmadd_ps(loadF16x(w0 + c), va, a0)
                    a1 = _mm512_fmadd_ps(loadF16x(w1 + c), va, a1)
                    a2 = _mm512_fmadd_ps(loadF16x(w2 + c), va, a2)
                    a3 = _mm512_fmadd_ps(loadF16x(w3 + c), va, a3)
                    c += 16
                }
                put(i, 0, _mm512_reduce_add_ps(a0)); put(i, 1, _mm512_reduce_add_ps(a1))
                put(i, 2, _mm512_reduce_add_ps(a2)); put(i, 3, _mm512_reduce_add_ps(a3))
            }
            return
        }
        #endif
        // Edge tiles (fewer than four weight rows, or odd lengths): one dot product at a time.
        for i in batch {
            for k in 0..<rowCount {
                put(i, k, F32Format.dot(UnsafeRawPointer(wbuf + k * len), x + i * xStride, count: len))
            }
        }
    }
}
