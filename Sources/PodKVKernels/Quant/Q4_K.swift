#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// ggml `block_q4_K` (144 bytes per 256 values): `d: f16`, `dmin: f16`, `scales: [12] u8` (eight 6-bit
/// scale/min pairs, see `kQuantScaleMin`), `qs: [128] u8`. Bytes `32k..<32k+32` of `qs` hold sub-block
/// `2k` in their low nibbles and sub-block `2k+1` in their high nibbles; value = d*sc * code - dmin*m.
enum Q4_KFormat: Q8DotFormat {
    static var type: TensorType { .q4_K }

    static func dequantizeReference(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        for sb in 0..<(count / 256) {
            let block = src + 144 * sb
            let d = loadHalf(block), dmin = loadHalf(block, 2)
            let y = dst + 256 * sb
            for k in 0..<4 {
                let (sc0, m0) = kQuantScaleMin(2 * k, block + 4)
                let (sc1, m1) = kQuantScaleMin(2 * k + 1, block + 4)
                let d0 = d * Float(sc0), min0 = dmin * Float(m0)
                let d1 = d * Float(sc1), min1 = dmin * Float(m1)
                for l in 0..<32 {
                    let byte = block.load(fromByteOffset: 16 + 32 * k + l, as: UInt8.self)
                    y[64 * k + l] = d0 * Float(byte & 0x0F) - min0
                    y[64 * k + 32 + l] = d1 * Float(byte >> 4) - min1
                }
            }
        }
    }

    static func dequantize(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        let low = _mm_set1_epi8(0x0F)
        for sb in 0..<(count / 256) {
            let block = src + 144 * sb
            let d = loadHalf(block), dmin = loadHalf(block, 2)
            let y = dst + 256 * sb
            for k in 0..<4 {
                let (sc0, m0) = kQuantScaleMin(2 * k, block + 4)
                let (sc1, m1) = kQuantScaleMin(2 * k + 1, block + 4)
                let d0 = _mm512_set1_ps(d * Float(sc0)), min0 = _mm512_set1_ps(dmin * Float(m0))
                let d1 = _mm512_set1_ps(d * Float(sc1)), min1 = _mm512_set1_ps(dmin * Float(m1))
                for half in 0..<2 {
                    let v = load128(block, 16 + 32 * k + 16 * half)
                    let lo = u8ToFloat(_mm_and_si128(v, low))
                    let hi = u8ToFloat(_mm_and_si128(_mm_srli_epi16(v, 4), low))
                    storeF16x(_mm512_sub_ps(_mm512_mul_ps(d0, lo), min0), y + 64 * k + 16 * half)
                    storeF16x(_mm512_sub_ps(_mm512_mul_ps(d1, hi), min1), y + 64 * k + 32 + 16 * half)
                }
            }
        }
        #else
        dequantizeReference(src, count: count, into: dst)
        #endif
    }

    static func dotQ8(_ row: UnsafeRawPointer, _ act: Q8Activation) -> Float {
        #if arch(x86_64)
        let low = _mm512_set1_epi8(0x0F)
        var acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps()
        var minimum = _mm256_setzero_ps()
        for sb in 0..<(act.count / 256) {
            let block = row + 144 * sb
            let x = 8 * sb
            let (sc, mn) = kQuantScalesMins(block + 4)
            // Eight sub-block scales d * sc[j] * scale_x[j] in one vector; pairs of them are spread over
            // the 16 lanes of each sub-block pair's product below.
            let dx = UnsafeRawPointer(act.scale + x).loadUnaligned(as: __m256.self)
            let scales = _mm256_mul_ps(_mm256_mul_ps(bytesToFloat8(sc), _mm256_set1_ps(loadHalf(block))), dx)
            let wide = _mm512_castps256_ps512(scales)
            // The minimum term: dmin * sum_j m[j] * sum_x[j].
            let sx = UnsafeRawPointer(act.sum + x).loadUnaligned(as: __m256.self)
            minimum = _mm256_fmadd_ps(_mm256_mul_ps(bytesToFloat8(mn), _mm256_set1_ps(loadHalf(block, 2))), sx, minimum)
            @inline(__always) func pair(_ k: Int, _ acc: inout __m512) {
                // 32 bytes hold sub-block 2k (low nibbles) and 2k+1 (high nibbles), the activation's order.
                let v = load256(block, 16 + 32 * k)
                let codes = _mm512_and_si512(__m512i(lowHalf: v, highHalf: _mm256_srli_epi16(v, 4)), low)
                let isum = _mm512_dpbusd_epi32(_mm512_setzero_si512(), codes, load512(act.qs + 32 * (x + 2 * k)))
                let index = _mm512_set_epi32(
                    Int32(2 * k + 1), Int32(2 * k + 1), Int32(2 * k + 1), Int32(2 * k + 1),
                    Int32(2 * k + 1), Int32(2 * k + 1), Int32(2 * k + 1), Int32(2 * k + 1),
                    Int32(2 * k), Int32(2 * k), Int32(2 * k), Int32(2 * k),
                    Int32(2 * k), Int32(2 * k), Int32(2 * k), Int32(2 * k))
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_permutexvar_ps(index, wide), acc)
            }
            pair(0, &acc0)
            pair(1, &acc1)
            pair(2, &acc0)
            pair(3, &acc1)
        }
        return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) - hsum256(minimum)
        #else
        return dotQ8Scalar(row, act)
        #endif
    }
}
