#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// An fp32 activation vector quantized to symmetric 8-bit blocks of 32, the form the integer dot-product
/// kernels consume (llama.cpp's `block_q8_0`/`q8_1` idea, in a struct-of-arrays layout of our own so each
/// stream is contiguous for vector loads).
///
/// For `count` values (a multiple of 32) the buffers hold:
/// - `qs`: `count` Int8, `q[i] = round(x[i] / scale[i / 32])`
/// - `scale`: `count / 32` Float, `amax(block) / 127`
/// - `sum`: `count / 32` Float, `scale[b] * sum(q in block b)`; lets kernels apply a block's minimum
///   (`m * sum(x)`) with one multiply
/// - `negSum4`: `count / 4` Int32, `-(q[4k] + q[4k+1] + q[4k+2] + q[4k+3])`; seeding a `vpdpbusd`
///   accumulator with `offset * negSum4` subtracts the zero point of unsigned weight codes for free.
/// - `scaleSum`: `count / 16` Float, `scale[b], sum[b]` interleaved; one 16-byte load gives the two of a
///   block pair in the order the pair kernels read their weights' `(d, m)` fields, so a single multiply
///   forms both products (see `Q8PairFormat`).
/// - `qsum`: `count / 32` Int32, `sum(q in block b)`; the interleaved kernels take a zero point back out
///   with it (`InterleavedWeights`).
struct Q8Activation {
    let qs: UnsafeMutablePointer<Int8>
    let scale: UnsafeMutablePointer<Float>
    let sum: UnsafeMutablePointer<Float>
    let negSum4: UnsafeMutablePointer<Int32>
    let scaleSum: UnsafeMutablePointer<Float>
    let qsum: UnsafeMutablePointer<Int32>
    let count: Int

    /// Bytes of scratch needed for `count` values (64-byte aligned sub-buffers).
    static func scratchBytes(count: Int) -> Int {
        let blocks = count / 32
        return align64(count) + 3 * align64(blocks * 4) + align64(count) + align64(blocks * 8) + 64
    }

    /// Carves the buffers out of `scratch` (at least `scratchBytes(count:)` bytes, 64-byte aligned).
    init(scratch: UnsafeMutableRawPointer, count: Int) {
        let blocks = count / 32
        var p = scratch
        qs = p.bindMemory(to: Int8.self, capacity: count)
        p += align64(count)
        scale = p.bindMemory(to: Float.self, capacity: blocks)
        p += align64(blocks * 4)
        sum = p.bindMemory(to: Float.self, capacity: blocks)
        p += align64(blocks * 4)
        negSum4 = p.bindMemory(to: Int32.self, capacity: count / 4)
        p += align64(count)
        scaleSum = p.bindMemory(to: Float.self, capacity: blocks * 2)
        p += align64(blocks * 8)
        qsum = p.bindMemory(to: Int32.self, capacity: blocks)
        self.count = count
    }

    /// Runs `body` with `x` (`count` floats, `count` a multiple of 32) quantized into temporary storage.
    static func withQuantized<R>(_ x: UnsafePointer<Float>, count: Int, _ body: (Q8Activation) -> R) -> R {
        withUnsafeTemporaryAllocation(byteCount: scratchBytes(count: count), alignment: 64) { raw in
            let act = Q8Activation(scratch: raw.baseAddress!, count: count)
            act.quantize(x)
            return body(act)
        }
    }

    /// Fills the buffers from `x` (`count` floats).
    func quantize(_ x: UnsafePointer<Float>) {
        #if arch(x86_64)
        let ones = _mm256_set1_epi8(1)
        for b in 0..<(count / 32) {
            let v0 = loadF16x(x + 32 * b)
            let v1 = loadF16x(x + 32 * b + 16)
            let amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)))
            let d = amax / 127
            let inv: Float = d != 0 ? 1 / d : 0
            let vinv = _mm512_set1_ps(inv)
            // Round to nearest even; |x * inv| <= 127 so the narrowing cannot saturate.
            let q0 = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v0, vinv)))
            let q1 = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(v1, vinv)))
            let q = concat128(q0, q1)
            UnsafeMutableRawPointer(qs + 32 * b).storeBytes(of: q, as: __m256i.self)
            // Group-of-4 sums: 1 * q through the same dot-product instruction the kernels use.
            let s4 = dpbusd(_mm256_setzero_si256(), ones, q)
            let neg = _mm256_sub_epi32(_mm256_setzero_si256(), s4)
            UnsafeMutableRawPointer(negSum4 + 8 * b).storeBytes(of: neg, as: __m256i.self)
            scale[b] = d
            let total = _mm512_reduce_add_epi32(_mm512_zextsi256_si512(s4))
            qsum[b] = total
            sum[b] = d * Float(total)
            scaleSum[2 * b] = d
            scaleSum[2 * b + 1] = sum[b]
        }
        #else
        quantizeScalar(x)
        #endif
    }

    /// Scalar twin of `quantize` (round half away from zero, as llama.cpp's reference does).
    func quantizeScalar(_ x: UnsafePointer<Float>) {
        for b in 0..<(count / 32) {
            var amax: Float = 0
            for i in 0..<32 { amax = max(amax, abs(x[32 * b + i])) }
            let d = amax / 127
            let inv: Float = d != 0 ? 1 / d : 0
            var total: Int32 = 0
            for g in 0..<8 {
                var s: Int32 = 0
                for i in 0..<4 {
                    let q = Int8((x[32 * b + 4 * g + i] * inv).rounded())
                    qs[32 * b + 4 * g + i] = q
                    s += Int32(q)
                }
                negSum4[8 * b + g] = -s
                total += s
            }
            scale[b] = d
            qsum[b] = total
            sum[b] = d * Float(total)
            scaleSum[2 * b] = d
            scaleSum[2 * b + 1] = sum[b]
        }
    }
}
