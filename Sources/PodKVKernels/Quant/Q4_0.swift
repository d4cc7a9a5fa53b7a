#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// ggml `block_q4_0` (18 bytes per 32 values): `d: f16`, `qs: [16] u8`.
/// Value `j < 16` is `(qs[j] & 15) - 8`, value `j + 16` is `(qs[j] >> 4) - 8`, both times `d`.
enum Q4_0Format: Q8PairFormat {
    static var type: TensorType { .q4_0 }

    static func dequantizeReference(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        for b in 0..<(count / 32) {
            let block = src + 18 * b
            let d = loadHalf(block)
            for j in 0..<16 {
                let byte = block.load(fromByteOffset: 2 + j, as: UInt8.self)
                dst[32 * b + j] = Float(Int32(byte & 0x0F) - 8) * d
                dst[32 * b + j + 16] = Float(Int32(byte >> 4) - 8) * d
            }
        }
    }

    static func dequantize(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        let low = _mm_set1_epi8(0x0F), eight = _mm512_set1_epi32(8)
        for b in 0..<(count / 32) {
            let block = src + 18 * b
            let d = _mm512_set1_ps(loadHalf(block))
            let v = load128(block, 2)
            let lo = _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_and_si128(v, low)), eight)
            let hi = _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16(v, 4), low)), eight)
            storeF16x(_mm512_mul_ps(_mm512_cvtepi32_ps(lo), d), dst + 32 * b)
            storeF16x(_mm512_mul_ps(_mm512_cvtepi32_ps(hi), d), dst + 32 * b + 16)
        }
        #else
        dequantizeReference(src, count: count, into: dst)
        #endif
    }

    static var bytesPerBlock: Int { 18 }
    /// Codes are stored +8.
    static var zeroPointShift: Int32? { 3 }
    static var hasMinimum: Bool { false }

    #if arch(x86_64)
    @inline(__always) static func pairCodes(_ pair: UnsafeRawPointer) -> __m512i {
        nibblePairCodes(pair, blockBytes: 18, qsOffset: 2)
    }
    #endif

    static func dotQ8(_ row: UnsafeRawPointer, _ act: Q8Activation) -> Float {
        #if arch(x86_64)
        return Q8Pair.dot(Self.self, row, act)
        #else
        return dotQ8Scalar(row, act)
        #endif
    }

    /// Reference quantizer (ggml `quantize_row_q4_0_ref`): the value of largest magnitude maps to -8.
    static func quantizeReference(_ src: UnsafePointer<Float>, count: Int, into dst: UnsafeMutableRawPointer) {
        for b in 0..<(count / 32) {
            let x = src + 32 * b
            var amax: Float = 0, maxValue: Float = 0
            for j in 0..<32 where abs(x[j]) > amax {
                amax = abs(x[j])
                maxValue = x[j]
            }
            let d = maxValue / -8
            let inv: Float = d != 0 ? 1 / d : 0
            let block = dst + 18 * b
            storeHalf(d, block)
            for j in 0..<16 {
                let q0 = min(15, Int(Int8(clamping: Int((x[j] * inv + 8.5).rounded(.towardZero)))))
                let q1 = min(15, Int(Int8(clamping: Int((x[j + 16] * inv + 8.5).rounded(.towardZero)))))
                block.storeBytes(of: UInt8(q0) | UInt8(q1) << 4, toByteOffset: 2 + j, as: UInt8.self)
            }
        }
    }
}
