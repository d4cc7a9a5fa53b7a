#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// ggml `block_q6_K` (210 bytes per 256 values): `ql: [128] u8` (low 4 bits), `qh: [64] u8` (high 2 bits),
/// `scales: [16] i8` (one per 16 values), `d: f16`. Each half of 128 values uses 64 bytes of `ql`, 32 of
/// `qh` and 8 scales; within a half, value `l + 32g` (g = 0..<4) takes nibble `g / 2` of `ql[l + 32(g % 2)]`
/// and bits `2g, 2g+1` of `qh[l]`. Value = d * scale * (code - 32).
enum Q6_KFormat: Q8DotFormat {
    static var type: TensorType { .q6_K }

    static func dequantizeReference(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        for sb in 0..<(count / 256) {
            let block = src + 210 * sb
            let d = loadHalf(block, 208)
            for half in 0..<2 {
                let ql = block + 64 * half, qh = block + 128 + 32 * half, sc = block + 192 + 8 * half
                let y = dst + 256 * sb + 128 * half
                for l in 0..<32 {
                    let a = ql.load(fromByteOffset: l, as: UInt8.self)
                    let b = ql.load(fromByteOffset: l + 32, as: UInt8.self)
                    let h = qh.load(fromByteOffset: l, as: UInt8.self)
                    let codes: [UInt8] = [
                        (a & 0x0F) | ((h & 3) << 4), (b & 0x0F) | (((h >> 2) & 3) << 4),
                        (a >> 4) | (((h >> 4) & 3) << 4), (b >> 4) | (((h >> 6) & 3) << 4),
                    ]
                    for g in 0..<4 {
                        let scale = Float(sc.load(fromByteOffset: 2 * g + l / 16, as: Int8.self))
                        y[32 * g + l] = d * scale * Float(Int32(codes[g]) - 32)
                    }
                }
            }
        }
    }

    #if arch(x86_64)
    /// The 6-bit codes (0...63) of the four 32-value groups of half `half` of the super-block at `block`.
    @inline(__always) static func codes(_ block: UnsafeRawPointer, _ half: Int) -> (__m256i, __m256i, __m256i, __m256i) {
        let low = _mm256_set1_epi8(0x0F), top = _mm256_set1_epi8(0x30)
        let a = load256(block, 64 * half), b = load256(block, 64 * half + 32)
        let h = load256(block, 128 + 32 * half)
        // 16-bit shifts move bits across byte borders; the masks keep only the bits that belong.
        let u0 = _mm256_or_si256(_mm256_and_si256(a, low), _mm256_and_si256(_mm256_slli_epi16(h, 4), top))
        let u1 = _mm256_or_si256(_mm256_and_si256(b, low), _mm256_and_si256(_mm256_slli_epi16(h, 2), top))
        let u2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 4), low), _mm256_and_si256(h, top))
        let u3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(b, 4), low), _mm256_and_si256(_mm256_srli_epi16(h, 2), top))
        return (u0, u1, u2, u3)
    }
    #endif

    static func dequantize(_ src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        let offset = _mm512_set1_epi32(32)
        for sb in 0..<(count / 256) {
            let block = src + 210 * sb
            let d = loadHalf(block, 208)
            for half in 0..<2 {
                let (u0, u1, u2, u3) = codes(block, half)
                let sc = block + 192 + 8 * half
                let y = dst + 256 * sb + 128 * half
                @inline(__always) func group(_ u: __m256i, _ g: Int) {
                    for part in 0..<2 {
                        let bytes = part == 0 ? _mm256_castsi256_si128(u) : high128(u)
                        let q = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_cvtepu8_epi32(bytes), offset))
                        let ds = _mm512_set1_ps(d * Float(sc.load(fromByteOffset: 2 * g + part, as: Int8.self)))
                        storeF16x(_mm512_mul_ps(ds, q), y + 32 * g + 16 * part)
                    }
                }
                group(u0, 0)
                group(u1, 1)
                group(u2, 2)
                group(u3, 3)
            }
        }
        #else
        dequantizeReference(src, count: count, into: dst)
        #endif
    }

    static func dotQ8(_ row: UnsafeRawPointer, _ act: Q8Activation) -> Float {
        #if arch(x86_64)
        var acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps()
        // Scale j (one per 16 values) belongs to activation block j / 2.
        let duplicate = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0)
        for sb in 0..<(act.count / 256) {
            let block = row + 210 * sb
            let x = 8 * sb
            // All sixteen scales d * sc[j] * scale_x[j / 2] of the super-block in one vector.
            let sc = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(load128(block, 192)))
            let dx = _mm512_permutexvar_ps(duplicate, _mm512_castps256_ps512(
                UnsafeRawPointer(act.scale + x).loadUnaligned(as: __m256.self)))
            let scales = _mm512_mul_ps(_mm512_mul_ps(sc, _mm512_set1_ps(loadHalf(block, 208))), dx)
            @inline(__always) func pair(_ u0: __m256i, _ u1: __m256i, _ g: Int, _ acc: inout __m512) {
                // Groups g and g+1 (32 values each) are activation blocks x+g, x+g+1, contiguous. Codes
                // carry +32: seed with -32 * sum(x). Lanes 4i..4i+3 cover values 16i..16i+15: scale 2g+i.
                let isum = _mm512_dpbusd_epi32(
                    _mm512_slli_epi32(load512(act.negSum4 + 8 * (x + g)), 5), __m512i(lowHalf: u0, highHalf: u1),
                    load512(act.qs + 32 * (x + g)))
                let s = Int32(2 * g)
                let index = _mm512_set_epi32(
                    s + 3, s + 3, s + 3, s + 3, s + 2, s + 2, s + 2, s + 2, s + 1, s + 1, s + 1, s + 1, s, s, s, s)
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_permutexvar_ps(index, scales), acc)
            }
            for half in 0..<2 {
                let (u0, u1, u2, u3) = codes(block, half)
                pair(u0, u1, 4 * half, &acc0)
                pair(u2, u3, 4 * half + 2, &acc1)
            }
        }
        return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1))
        #else
        return dotQ8Scalar(row, act)
        #endif
    }
}
