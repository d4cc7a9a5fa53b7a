#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// KV-cache helpers: keys and values are stored as IEEE half to halve memory; all arithmetic is fp32.
extension VectorOps {
    /// dst[i] = Float16(src[i]) (round to nearest even).
    public static func toHalf(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float16>, count n: Int) {
        var i = 0
        #if arch(x86_64)
        while i + 16 <= n {
            // vcvtps2phx rounds to nearest even, like `Float16(_:)`.
            let h = _mm512_cvtxps_ph(loadF16x(src + i))
            UnsafeMutableRawPointer(dst + i).storeBytes(of: h, as: __m256h.self)
            i += 16
        }
        #endif
        while i < n {
            dst[i] = Float16(src[i])
            i += 1
        }
    }

    /// dst[i] = Float(src[i]) (exact).
    public static func toFloat(_ src: UnsafePointer<Float16>, _ dst: UnsafeMutablePointer<Float>, count n: Int) {
        F16Format.dequantize(UnsafeRawPointer(src), count: n, into: dst)
    }

    /// sum_i q[i] * Float(k[i]): one attention score against a half-precision key.
    public static func dotHalf(_ q: UnsafePointer<Float>, _ k: UnsafePointer<Float16>, count n: Int) -> Float {
        F16Format.dot(UnsafeRawPointer(k), q, count: n)
    }

    /// y[i] += a * Float(x[i]): accumulates a weighted half-precision value row.
    public static func axpyHalf(_ y: UnsafeMutablePointer<Float>, _ a: Float, _ x: UnsafePointer<Float16>, count n: Int) {
        var i = 0
        #if arch(x86_64)
        let va = _mm512_set1_ps(a)
        while i + 16 <= n {
            let xv = _mm512_cvtph_ps(UnsafeRawPointer(x + i).loadUnaligned(as: __m256i.self))
            storeF16x(_mm512_fmadd_ps(va, xv, loadF16x(y + i)), y + i)
            i += 16
        }
        #endif
        while i < n {
            y[i] += a * Float(x[i])
            i += 1
        }
    }
}
