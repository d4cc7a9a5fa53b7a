#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// ggml `block_q5_K` (176 bytes per 256 values): `d: f16`, `dmin: f16`, `scales: [12] u8` (as q4_K),
/// `qh: [32] u8`, `qs: [128] u8`. Sub-blocks pair up as in q4_K; bit `2k` of `qh[l]` is the fifth bit of
/// value `l` of sub-block `2k`, bit `2k+1` that of sub-block `2k+1`. Value = d*sc * code - dmin*m.
enum Q5_KFormat: Q8DotFormat {
    static var type: TensorType { .q5_K }

    static func dequantizeReference(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        for sb in 0..<(count / 256) {
            let block = src + 176 * sb
            let d = loadHalf(block), dmin = loadHalf(block, 2)
            let y = dst + 256 * sb
            for k in 0..<4 {
                let (sc0, m0) = kQuantScaleMin(2 * k, block + 4)
                let (sc1, m1) = kQuantScaleMin(2 * k + 1, block + 4)
                let d0 = d * Float(sc0), min0 = dmin * Float(m0)
                let d1 = d * Float(sc1), min1 = dmin * Float(m1)
                for l in 0..<32 {
                    let byte = block.load(fromByteOffset: 48 + 32 * k + l, as: UInt8.self)
                    let high = block.load(fromByteOffset: 16 + l, as: UInt8.self)
                    let h0: UInt8 = (high >> UInt8(2 * k)) & 1 != 0 ? 16 : 0
                    let h1: UInt8 = (high >> UInt8(2 * k + 1)) & 1 != 0 ? 16 : 0
                    y[64 * k + l] = d0 * Float((byte & 0x0F) + h0) - min0
                    y[64 * k + 32 + l] = d1 * Float((byte >> 4) + h1) - min1
                }
            }
        }
    }

    #if arch(x86_64)
    /// The 5-bit codes of sub-blocks 2k and 2k+1 of the super-block at `block`, 32 bytes each.
    @inline(__always) static func codes(_ block: UnsafeRawPointer, _ k: Int) -> (__m256i, __m256i) {
        let low = _mm256_set1_epi8(0x0F), bit4 = _mm256_set1_epi8(0x10)
        let v = load256(block, 48 + 32 * k)
        let qh = load256(block, 16)
        let m0 = _mm256_test_epi8_mask(qh, _mm256_set1_epi8(Int8(truncatingIfNeeded: 1 << (2 * k))))
        let m1 = _mm256_test_epi8_mask(qh, _mm256_set1_epi8(Int8(truncatingIfNeeded: 2 << (2 * k))))
        let u0 = _mm256_or_si256(_mm256_and_si256(v, low), _mm256_maskz_mov_epi8(m0, bit4))
        let u1 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), low), _mm256_maskz_mov_epi8(m1, bit4))
        return (u0, u1)
    }
    #endif

    static func dequantize(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        for sb in 0..<(count / 256) {
            let block = src + 176 * sb
            let d = loadHalf(block), dmin = loadHalf(block, 2)
            let y = dst + 256 * sb
            for k in 0..<4 {
                let (sc0, m0) = kQuantScaleMin(2 * k, block + 4)
                let (sc1, m1) = kQuantScaleMin(2 * k + 1, block + 4)
                let d0 = _mm512_set1_ps(d * Float(sc0)), min0 = _mm512_set1_ps(dmin * Float(m0))
                let d1 = _mm512_set1_ps(d * Float(sc1)), min1 = _mm512_set1_ps(dmin * Float(m1))
                let (u0, u1) = codes(block, k)
                let out = y + 64 * k
                storeF16x(_mm512_sub_ps(_mm512_mul_ps(d0, u8ToFloat(_mm256_castsi256_si128(u0))), min0), out)
                storeF16x(_mm512_sub_ps(_mm512_mul_ps(d0, u8ToFloat(high128(u0))), min0), out + 16)
                storeF16x(_mm512_sub_ps(_mm512_mul_ps(d1, u8ToFloat(_mm256_castsi256_si128(u1))), min1), out + 32)
                storeF16x(_mm512_sub_ps(_mm512_mul_ps(d1, u8ToFloat(high128(u1))), min1), out + 48)
            }
        }
        #else
        dequantizeReference(src, count: count, into: dst)
        #endif
    }

    static func dotQ8(_ row: UnsafeRawPointer, _ act: Q8Activation) -> Float {
        #if arch(x86_64)
        var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
        var minSum: Float = 0
        for sb in 0..<(act.count / 256) {
            let block = row + 176 * sb
            let d = loadHalf(block), dmin = loadHalf(block, 2)
            for k in 0..<4 {
                let x0 = 8 * sb + 2 * k, x1 = x0 + 1
                let (sc0, m0) = kQuantScaleMin(2 * k, block + 4)
                let (sc1, m1) = kQuantScaleMin(2 * k + 1, block + 4)
                let (u0, u1) = codes(block, k)
                let i0 = dpbusd(_mm256_setzero_si256(), u0, load256(act.qs + 32 * x0))
                let i1 = dpbusd(_mm256_setzero_si256(), u1, load256(act.qs + 32 * x1))
                acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i0), _mm256_set1_ps(d * Float(sc0) * act.scale[x0]), acc0)
                acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i1), _mm256_set1_ps(d * Float(sc1) * act.scale[x1]), acc1)
                minSum += dmin * (Float(m0) * act.sum[x0] + Float(m1) * act.sum[x1])
            }
        }
        return hsum256(_mm256_add_ps(acc0, acc1)) - minSum
        #else
        return dotQ8Scalar(row, act)
        #endif
    }
}
