#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// IEEE single precision, 4 bytes per value (ggml `GGML_TYPE_F32`).
enum F32Format: FloatDotFormat {
    static var type: TensorType { .f32 }

    static func dequantizeReference(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        for i in 0..<count { dst[i] = src.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
    }

    static func dequantize(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: 4 * count)
    }

    static func dot(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
        #if arch(x86_64)
        var acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps()
        var i = 0
        while i + 32 <= count {
            acc0 = _mm512_fmadd_ps(row.loadUnaligned(fromByteOffset: 4 * i, as: __m512.self), loadF16x(x + i), acc0)
            acc1 = _mm512_fmadd_ps(
                row.loadUnaligned(fromByteOffset: 4 * i + 64, as: __m512.self), loadF16x(x + i + 16), acc1)
            i += 32
        }
        var s = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1))
        #else
        var s: Float = 0
        var i = 0
        #endif
        while i < count {
            s += row.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) * x[i]
            i += 1
        }
        return s
    }
}
