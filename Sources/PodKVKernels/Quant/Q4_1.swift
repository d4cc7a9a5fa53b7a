#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// ggml `block_q4_1` (20 bytes per 32 values): `d: f16`, `m: f16`, `qs: [16] u8`.
/// Value `j < 16` is `(qs[j] & 15) * d + m`, value `j + 16` is `(qs[j] >> 4) * d + m`.
enum Q4_1Format: Q8PairFormat {
    static var type: TensorType { .q4_1 }

    static func dequantizeReference(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        for b in 0..<(count / 32) {
            let block = src + 20 * b
            let d = loadHalf(block), m = loadHalf(block, 2)
            for j in 0..<16 {
                let byte = block.load(fromByteOffset: 4 + j, as: UInt8.self)
                dst[32 * b + j] = Float(byte & 0x0F) * d + m
                dst[32 * b + j + 16] = Float(byte >> 4) * d + m
            }
        }
    }

    static func dequantize(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        let low = _mm_set1_epi8(0x0F)
        for b in 0..<(count / 32) {
            let block = src + 20 * b
            let d = _mm512_set1_ps(loadHalf(block)), m = _mm512_set1_ps(loadHalf(block, 2))
            let v = load128(block, 4)
            let lo = u8ToFloat(_mm_and_si128(v, low))
            let hi = u8ToFloat(_mm_and_si128(_mm_srli_epi16(v, 4), low))
            // Separate multiply and add (no FMA) so results match the scalar reference exactly.
            storeF16x(_mm512_add_ps(_mm512_mul_ps(lo, d), m), dst + 32 * b)
            storeF16x(_mm512_add_ps(_mm512_mul_ps(hi, d), m), dst + 32 * b + 16)
        }
        #else
        dequantizeReference(src, count: count, into: dst)
        #endif
    }

    static var bytesPerBlock: Int { 20 }
    static var zeroPointShift: Int32? { nil }
    static var hasMinimum: Bool { true }

    #if arch(x86_64)
    @inline(__always) static func pairCodes(_ pair: UnsafeRawPointer) -> __m512i {
        nibblePairCodes(pair, blockBytes: 20, qsOffset: 4)
    }
    #endif

    static func dotQ8(_ row: UnsafeRawPointer, _ act: Q8Activation) -> Float {
        #if arch(x86_64)
        return Q8Pair.dot(Self.self, row, act)
        #else
        return dotQ8Scalar(row, act)
        #endif
    }

    /// Reference quantizer (ggml `quantize_row_q4_1_ref`): min/max mapped onto codes 0...15.
    static func quantizeReference(_ src: UnsafePointer<Float>, count: Int, into dst: UnsafeMutableRawPointer) {
        for b in 0..<(count / 32) {
            let x = src + 32 * b
            var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
            for j in 0..<32 {
                lo = min(lo, x[j])
                hi = max(hi, x[j])
            }
            let d = (hi - lo) / 15
            let inv: Float = d != 0 ? 1 / d : 0
            let block = dst + 20 * b
            storeHalf(d, block)
            storeHalf(lo, block, 2)
            for j in 0..<16 {
                let q0 = min(15, UInt8(clamping: Int(((x[j] - lo) * inv + 0.5).rounded(.towardZero))))
                let q1 = min(15, UInt8(clamping: Int(((x[j + 16] - lo) * inv + 0.5).rounded(.towardZero))))
                block.storeBytes(of: q0 | q1 << 4, toByteOffset: 4 + j, as: UInt8.self)
            }
        }
    }
}
