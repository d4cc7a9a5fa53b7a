#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// ggml `block_q5_1` (24 bytes per 32 values): `d: f16`, `m: f16`, `qh: u32`, `qs: [16] u8`; codes as in
/// `block_q5_0`, value = code * d + m.
enum Q5_1Format: Q8PairFormat {
    static var type: TensorType { .q5_1 }

    static func dequantizeReference(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        for b in 0..<(count / 32) {
            let block = src + 24 * b
            let d = loadHalf(block), m = loadHalf(block, 2)
            let qh = block.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
            for j in 0..<16 {
                let byte = block.load(fromByteOffset: 8 + j, as: UInt8.self)
                let h0 = UInt32((qh >> UInt32(j)) & 1) << 4
                let h1 = UInt32((qh >> UInt32(j + 16)) & 1) << 4
                dst[32 * b + j] = Float(UInt32(byte & 0x0F) | h0) * d + m
                dst[32 * b + j + 16] = Float(UInt32(byte >> 4) | h1) * d + m
            }
        }
    }

    static func dequantize(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        for b in 0..<(count / 32) {
            let block = src + 24 * b
            let d = _mm512_set1_ps(loadHalf(block)), m = _mm512_set1_ps(loadHalf(block, 2))
            let q = Q5_0Format.codes(block, qhOffset: 4, qsOffset: 8)
            let lo = u8ToFloat(_mm256_castsi256_si128(q)), hi = u8ToFloat(high128(q))
            storeF16x(_mm512_add_ps(_mm512_mul_ps(lo, d), m), dst + 32 * b)
            storeF16x(_mm512_add_ps(_mm512_mul_ps(hi, d), m), dst + 32 * b + 16)
        }
        #else
        dequantizeReference(src, count: count, into: dst)
        #endif
    }

    static var bytesPerBlock: Int { 24 }
    static var zeroPointShift: Int32? { nil }
    static var hasMinimum: Bool { true }

    #if arch(x86_64)
    @inline(__always) static func pairCodes(_ pair: UnsafeRawPointer) -> __m512i {
        Q5_0Format.fiveBitPairCodes(pair, blockBytes: 24, qhOffset: 4, qsOffset: 8)
    }
    #endif

    static func dotQ8(_ row: UnsafeRawPointer, _ act: Q8Activation) -> Float {
        #if arch(x86_64)
        return Q8Pair.dot(Self.self, row, act)
        #else
        return dotQ8Scalar(row, act)
        #endif
    }

    /// Reference quantizer (ggml `quantize_row_q5_1_ref`): min/max mapped onto codes 0...31.
    static func quantizeReference(_ src: UnsafePointer<Float>, count: Int, into dst: UnsafeMutableRawPointer) {
        for b in 0..<(count / 32) {
            let x = src + 32 * b
            var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
            for j in 0..<32 {
                lo = min(lo, x[j])
                hi = max(hi, x[j])
            }
            let d = (hi - lo) / 31
            let inv: Float = d != 0 ? 1 / d : 0
            let block = dst + 24 * b
            storeHalf(d, block)
            storeHalf(lo, block, 2)
            var qh: UInt32 = 0
            for j in 0..<16 {
                let q0 = min(31, UInt8(clamping: Int(((x[j] - lo) * inv + 0.5).rounded(.towardZero))))
                let q1 = min(31, UInt8(clamping: Int(((x[j + 16] - lo) * inv + 0.5).rounded(.towardZero))))
                block.storeBytes(of: (q0 & 0x0F) | (q1 & 0x0F) << 4, toByteOffset: 8 + j, as: UInt8.self)
                qh |= UInt32(q0 >> 4) << UInt32(j)
                qh |= UInt32(q1 >> 4) << UInt32(j + 16)
            }
            block.storeBytes(of: qh, toByteOffset: 4, as: UInt32.self)
        }
    }
}
