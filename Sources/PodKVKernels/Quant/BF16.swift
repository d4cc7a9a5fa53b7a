#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// bfloat16 (upper half of an IEEE single), 2 bytes per value (ggml `GGML_TYPE_BF16`). Widening is exact:
/// shift the 16 bits into the top of a 32-bit word.
enum BF16Format: FloatDotFormat {
    static var type: TensorType { .bf16 }

    static func dequantizeReference(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        for i in 0..<count { dst[i] = loadBFloat16(src, 2 * i) }
    }

    #if arch(x86_64)
    @inline(__always) private static func widen(_ p: UnsafeRawPointer, _ offset: Int) -> __m512 {
        _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(load256(p, offset)), 16))
    }
    #endif

    static func dequantize(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        var i = 0
        #if arch(x86_64)
        while i + 16 <= count {
            storeF16x(widen(src, 2 * i), dst + i)
            i += 16
        }
        #endif
        while i < count {
            dst[i] = loadBFloat16(src, 2 * i)
            i += 1
        }
    }

    static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        var i = 0
        #if arch(x86_64)
        var acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps()
        while i + 32 <= count {
            acc0 = _mm512_fmadd_ps(widen(row, 2 * i), loadF16x(x + i), acc0)
            acc1 = _mm512_fmadd_ps(widen(row, 2 * i + 32), loadF16x(x + i + 16), acc1)
            i += 32
        }
        var s = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1))
        #else
        var s: Float = 0
        #endif
        while i < count {
            s += loadBFloat16(row, 2 * i) * x[i]
            i += 1
        }
        return s
    }
}
