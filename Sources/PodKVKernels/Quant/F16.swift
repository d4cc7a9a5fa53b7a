#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// IEEE half precision, 2 bytes per value (ggml `GGML_TYPE_F16`).
enum F16Format: FloatDotFormat {
    static var type: TensorType { .f16 }

    static func dequantizeReference(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        for i in 0..<count { dst[i] = loadHalf(src, 2 * i) }
    }

    static func dequantize(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        var i = 0
        #if arch(x86_64)
        while i + 16 <= count {
            storeF16x(_mm512_cvtph_ps(load256(src, 2 * i)), dst + i)
            i += 16
        }
        #endif
        while i < count {
            dst[i] = loadHalf(src, 2 * i)
            i += 1
        }
    }

    static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        var i = 0
        #if arch(x86_64)
        var acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps()
        while i + 32 <= count {
            acc0 = _mm512_fmadd_ps(_mm512_cvtph_ps(load256(row, 2 * i)), loadF16x(x + i), acc0)
            acc1 = _mm512_fmadd_ps(_mm512_cvtph_ps(load256(row, 2 * i + 32)), loadF16x(x + i + 16), acc1)
            i += 32
        }
        var s = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1))
        #else
        var s: Float = 0
        #endif
        while i < count {
            s += loadHalf(row, 2 * i) * x[i]
            i += 1
        }
        return s
    }
}
