#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// ggml `block_q8_0` (34 bytes per 32 values): `d: f16`, `qs: [32] i8`; value = qs[j] * d.
enum Q8_0Format: Q8PairFormat {
    static var type: TensorType { .q8_0 }

    static func dequantizeReference(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        for b in 0..<(count / 32) {
            let block = src + 34 * b
            let d = loadHalf(block)
            for j in 0..<32 {
                dst[32 * b + j] = Float(block.load(fromByteOffset: 2 + j, as: Int8.self)) * d
            }
        }
    }

    static func dequantize(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        for b in 0..<(count / 32) {
            let block = src + 34 * b
            let d = _mm512_set1_ps(loadHalf(block))
            storeF16x(_mm512_mul_ps(i8ToFloat(load128(block, 2)), d), dst + 32 * b)
            storeF16x(_mm512_mul_ps(i8ToFloat(load128(block, 18)), d), dst + 32 * b + 16)
        }
        #else
        dequantizeReference(src, count: count, into: dst)
        #endif
    }

    static var bytesPerBlock: Int { 34 }
    /// `vpdpbusd` wants an unsigned operand: flipping the sign bit maps w to w + 128 in 0...255, and the
    /// seed -128 * sum(x) takes the offset back out.
    static var zeroPointShift: Int32? { 7 }
    static var hasMinimum: Bool { false }

    #if arch(x86_64)
    @inline(__always) static func pairCodes(_ pair: UnsafeRawPointer) -> __m512i {
        let codes = __m512i(lowHalf: load256(pair, 2), highHalf: load256(pair, 36))
        return _mm512_xor_si512(codes, _mm512_set1_epi8(-128))
    }
    #endif

    static func dotQ8(_ row: UnsafeRawPointer, _ act: Q8Activation) -> Float {
        #if arch(x86_64)
        return Q8Pair.dot(Self.self, row, act)
        #else
        return dotQ8Scalar(row, act)
        #endif
    }

    /// Reference quantizer (ggml `quantize_row_q8_0_ref`): d = amax / 127, q = round(x / d).
    static func quantizeReference(_ src: UnsafePointer<Float>, count: Int, into dst: UnsafeMutableRawPointer) {
        for b in 0..<(count / 32) {
            let x = src + 32 * b
            var amax: Float = 0
            for j in 0..<32 { amax = max(amax, abs(x[j])) }
            let d = amax / 127
            let inv: Float = d != 0 ? 1 / d : 0
            let block = dst + 34 * b
            storeHalf(d, block)
            for j in 0..<32 {
                block.storeBytes(of: Int8((x[j] * inv).rounded()), toByteOffset: 2 + j, as: Int8.self)
            }
        }
    }
}
