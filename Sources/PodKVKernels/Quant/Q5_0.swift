#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// ggml `block_q5_0` (22 bytes per 32 values): `d: f16`, `qh: u32` (bit j = 5th bit of value j),
/// `qs: [16] u8` (low nibble = value j, high nibble = value j + 16). Value = (code - 16) * d.
enum Q5_0Format: Q8DotFormat {
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

    static func dotQ8(_ row: UnsafeRawPointer, _ act: Q8Activation) -> Float {
        #if arch(x86_64)
        var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
        let blocks = act.count / 32
        var b = 0
        while b < blocks {
            let block = row + 22 * b
            let u = codes(block, qhOffset: 2, qsOffset: 6)
            // Codes carry a +16 offset; seed the accumulator with -16 * sum(x).
            let seed = _mm256_slli_epi32(load256(act.negSum4 + 8 * b), 4)
            let isum = dpbusd(seed, u, load256(act.qs + 32 * b))
            let scaled = _mm256_set1_ps(loadHalf(block) * act.scale[b])
            if b & 1 == 0 {
                acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), scaled, acc0)
            } else {
                acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), scaled, acc1)
            }
            b += 1
        }
        return hsum256(_mm256_add_ps(acc0, acc1))
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
