#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// ggml `block_q5_0` (22 bytes per 32 values): `d: f16`, `qh: u32` (bit j = 5th bit of value j),
/// `qs: [16] u8` (low nibble = value j, high nibble = value j + 16). Value = (code - 16) * d.
enum Q5_0Format: Q8PairFormat {
    static var type: TensorType { .q5_0 }

    static func dequantizeReference(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        for b in 0..<(count / 32) {
            let block = src + 22 * b
            let d = loadHalf(block)
            let qh = block.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
            for j in 0..<16 {
                let byte = block.load(fromByteOffset: 6 + j, as: UInt8.self)
                let h0 = Int32((qh >> UInt32(j)) & 1) << 4
                let h1 = Int32((qh >> UInt32(j + 16)) & 1) << 4
                dst[32 * b + j] = Float((Int32(byte & 0x0F) | h0) - 16) * d
                dst[32 * b + j + 16] = Float((Int32(byte >> 4) | h1) - 16) * d
            }
        }
    }

    #if arch(x86_64)
    /// The 32 five-bit codes of a block as bytes, in value order.
    @inline(__always) static func codes(_ block: UnsafeRawPointer, qhOffset: Int, qsOffset: Int) -> __m256i {
        let low = _mm_set1_epi8(0x0F)
        let v = load128(block, qsOffset)
        let nibbles = concat128(_mm_and_si128(v, low), _mm_and_si128(_mm_srli_epi16(v, 4), low))
        let qh = block.loadUnaligned(fromByteOffset: qhOffset, as: UInt32.self)
        // Bit j of qh selects 0x10 in byte j: one masked move turns the bit field into bytes.
        return _mm256_or_si256(nibbles, _mm256_maskz_mov_epi8(qh, _mm256_set1_epi8(0x10)))
    }
    #endif

    static func dequantize(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        let sixteen = _mm512_set1_epi32(16)
        for b in 0..<(count / 32) {
            let block = src + 22 * b
            let d = _mm512_set1_ps(loadHalf(block))
            let q = codes(block, qhOffset: 2, qsOffset: 6)
            let lo = _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm256_castsi256_si128(q)), sixteen)
            let hi = _mm512_sub_epi32(_mm512_cvtepu8_epi32(high128(q)), sixteen)
            storeF16x(_mm512_mul_ps(_mm512_cvtepi32_ps(lo), d), dst + 32 * b)
            storeF16x(_mm512_mul_ps(_mm512_cvtepi32_ps(hi), d), dst + 32 * b + 16)
        }
        #else
        dequantizeReference(src, count: count, into: dst)
        #endif
    }

    static var bytesPerBlock: Int { 22 }
    /// Codes are stored +16.
    static var zeroPointShift: Int32? { 4 }
    static var hasMinimum: Bool { false }

    #if arch(x86_64)
    @inline(__always) static func pairCodes(_ pair: UnsafeRawPointer) -> __m512i {
        fiveBitPairCodes(pair, blockBytes: 22, qhOffset: 2, qsOffset: 6)
    }

    /// Nibbles plus the fifth bit: bit j of a block's `qh` is bit 4 of its value j, and the pair's value
    /// order (block 0 values 0-31, block 1 values 0-31) matches the two `qh` words side by side, so one
    /// 64-bit mask selects 0x10 in exactly the bytes that need it.
    @inline(__always) static func fiveBitPairCodes(_ pair: UnsafeRawPointer, blockBytes: Int, qhOffset: Int, qsOffset: Int) -> __m512i {
        let h0 = UInt64(pair.loadUnaligned(fromByteOffset: qhOffset, as: UInt32.self))
        let h1 = UInt64(pair.loadUnaligned(fromByteOffset: blockBytes + qhOffset, as: UInt32.self))
        let high = _mm512_maskz_mov_epi8(h0 | h1 << 32, _mm512_set1_epi8(0x10))
        return _mm512_or_si512(nibblePairCodes(pair, blockBytes: blockBytes, qsOffset: qsOffset), high)
    }
    #endif

    static func dotQ8(_ row: UnsafeRawPointer, _ act: Q8Activation) -> Float {
        #if arch(x86_64)
        return Q8Pair.dot(Self.self, row, act)
        #else
        return dotQ8Scalar(row, act)
        #endif
    }

    /// Reference quantizer (ggml `quantize_row_q5_0_ref`): the value of largest magnitude maps to -16.
    static func quantizeReference(_ src: UnsafePointer<Float>, count: Int, into dst: UnsafeMutableRawPointer) {
        for b in 0..<(count / 32) {
            let x = src + 32 * b
            var amax: Float = 0, maxValue: Float = 0
            for j in 0..<32 where abs(x[j]) > amax {
                amax = abs(x[j])
                maxValue = x[j]
            }
            let d = maxValue / -16
            let inv: Float = d != 0 ? 1 / d : 0
            let block = dst + 22 * b
            storeHalf(d, block)
            var qh: UInt32 = 0
            for j in 0..<16 {
                let q0 = min(31, UInt8(clamping: Int((x[j] * inv + 16.5).rounded(.towardZero))))
                let q1 = min(31, UInt8(clamping: Int((x[j + 16] * inv + 16.5).rounded(.towardZero))))
                block.storeBytes(of: (q0 & 0x0F) | (q1 & 0x0F) << 4, toByteOffset: 6 + j, as: UInt8.self)
                qh |= UInt32(q0 >> 4) << UInt32(j)
                qh |= UInt32(q1 >> 4) << UInt32(j + 16)
            }
            block.storeBytes(of: qh, toByteOffset: 2, as: UInt32.self)
        }
    }
}
