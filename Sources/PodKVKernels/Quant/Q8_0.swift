#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// ggml `block_q8_0` (34 bytes per 32 values): `d: f16`, `qs: [32] i8`; value = qs[j] * d.
enum Q8_0Format: Q8DotFormat {
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

    static func dotQ8(_ row: UnsafeRawPointer, _ act: Q8Activation) -> Float {
        #if arch(x86_64)
        // vpdpbusd wants an unsigned operand: flipping the sign bit maps w to w + 128 in 0...255, and the
        // seed -128 * sum(x) takes the offset back out.
        let flip = _mm256_set1_epi8(-128)
        var acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps()
        for b in 0..<(act.count / 32) {
            let block = row + 34 * b
            let u = _mm256_xor_si256(load256(block, 2), flip)
            let seed = _mm256_slli_epi32(load256(act.negSum4 + 8 * b), 7)
            let isum = dpbusd(seed, u, load256(act.qs + 32 * b))
            let scaled = _mm256_set1_ps(loadHalf(block) * act.scale[b])
            if b & 1 == 0 {
                acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), scaled, acc0)
            } else {
                acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), scaled, acc1)
            }
        }
        return hsum256(_mm256_add_ps(acc0, acc1))
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
