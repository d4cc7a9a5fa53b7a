#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// An fp32 activation vector quantized to 15-bit integers per block of 32, stored as two signed 8-bit
/// digits so the 8-bit dot-product instruction (`vpdpbusd`) can consume it: `q = 128 * hi + lo`.
///
/// `q[i] = round(x[i] / scale[b])` with `scale[b] = amax(block b) / 16256`, so `|q| <= 16256`,
/// `hi = round(q / 128)` lies in -127...127 and `lo = q - 128 * hi` in -64...64. The rounding error per
/// value is at most amax/32512, 128 times below the one-byte form (`Q8Activation`, amax/254): a product
/// over it costs a second `vpdpbusd` per weight vector and no extra weight decoding, and is within 1e-4
/// of the exact fp32 product. The interleaved decode kernels use it (see `InterleavedWeights`).
///
/// Buffers (`count` a multiple of 32): `hi`, `lo` (`count` Int8 each); per block `scale` (Float),
/// `sum` (`scale * sum(q)`, for a weight minimum), `hiSum` and `loSum` (Int32 digit sums, to take a
/// weight zero point back out).
struct Q8x2Activation {
    let hi: UnsafeMutablePointer<Int8>
    let lo: UnsafeMutablePointer<Int8>
    let scale: UnsafeMutablePointer<Float>
    let sum: UnsafeMutablePointer<Float>
    let hiSum: UnsafeMutablePointer<Int32>
    let loSum: UnsafeMutablePointer<Int32>
    let count: Int

    /// Largest |q|: 127 * 128, so the high digit never leaves -127...127.
    static let limit: Float = 16256

    /// Bytes of scratch needed for `count` values (64-byte aligned sub-buffers).
    static func scratchBytes(count: Int) -> Int {
        2 * align64(count) + 4 * align64(count / 32 * 4) + 64
    }

    /// Carves the buffers out of `scratch` (at least `scratchBytes(count:)` bytes, 64-byte aligned).
    init(scratch: UnsafeMutableRawPointer, count: Int) {
        let blocks = count / 32
        var p = scratch
        hi = p.bindMemory(to: Int8.self, capacity: count)
        p += align64(count)
        lo = p.bindMemory(to: Int8.self, capacity: count)
        p += align64(count)
        scale = p.bindMemory(to: Float.self, capacity: blocks)
        p += align64(blocks * 4)
        sum = p.bindMemory(to: Float.self, capacity: blocks)
        p += align64(blocks * 4)
        hiSum = p.bindMemory(to: Int32.self, capacity: blocks)
        p += align64(blocks * 4)
        loSum = p.bindMemory(to: Int32.self, capacity: blocks)
        self.count = count
    }

    /// Runs `body` with `x` (`count` floats, `count` a multiple of 32) quantized into temporary storage.
    static func withQuantized<R>(_ x: UnsafePointer<Float>, count: Int, _ body: (Q8x2Activation) -> R) -> R {
        withUnsafeTemporaryAllocation(byteCount: scratchBytes(count: count), alignment: 64) { raw in
            let act = Q8x2Activation(scratch: raw.baseAddress!, count: count)
            act.quantize(x)
            return body(act)
        }
    }

    /// Fills the buffers from `x` (`count` floats).
    func quantize(_ x: UnsafePointer<Float>) {
        #if arch(x86_64)
        let inv128 = _mm512_set1_ps(1 / 128)
        for b in 0..<(count / 32) {
            let v0 = loadF16x(x + 32 * b), v1 = loadF16x(x + 32 * b + 16)
            let amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)))
            let d = amax / Self.limit
            let vinv = _mm512_set1_ps(d != 0 ? 1 / d : 0)
            var hs = _mm512_setzero_si512(), ls = _mm512_setzero_si512()
            // q rounds to nearest even; hi = round(q / 128) (exact: q / 128 has 7 fraction bits).
            @inline(__always) func digits(_ v: __m512, _ offset: Int) {
                let q = _mm512_cvtps_epi32(_mm512_mul_ps(v, vinv))
                let h = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_cvtepi32_ps(q), inv128))
                let l = _mm512_sub_epi32(q, _mm512_slli_epi32(h, 7))
                UnsafeMutableRawPointer(hi + offset).storeBytes(of: _mm512_cvtepi32_epi8(h), as: __m128i.self)
                UnsafeMutableRawPointer(lo + offset).storeBytes(of: _mm512_cvtepi32_epi8(l), as: __m128i.self)
                hs = _mm512_add_epi32(hs, h)
                ls = _mm512_add_epi32(ls, l)
            }
            digits(v0, 32 * b)
            digits(v1, 32 * b + 16)
            let h = _mm512_reduce_add_epi32(hs), l = _mm512_reduce_add_epi32(ls)
            scale[b] = d
            hiSum[b] = h
            loSum[b] = l
            sum[b] = d * Float(128 * h + l)
        }
        #else
        quantizeScalar(x)
        #endif
    }

    /// Scalar twin of `quantize` (ties round to even, as the vector conversions do).
    func quantizeScalar(_ x: UnsafePointer<Float>) {
        for b in 0..<(count / 32) {
            var amax: Float = 0
            for i in 0..<32 { amax = max(amax, abs(x[32 * b + i])) }
            let d = amax / Self.limit
            let inv: Float = d != 0 ? 1 / d : 0
            var h: Int32 = 0, l: Int32 = 0
            for i in 0..<32 {
                let q = Int32((x[32 * b + i] * inv).rounded(.toNearestOrEven))
                let qh = Int32((Float(q) / 128).rounded(.toNearestOrEven))
                hi[32 * b + i] = Int8(qh)
                lo[32 * b + i] = Int8(q - 128 * qh)
                h += qh
                l += q - 128 * qh
            }
            scale[b] = d
            hiSum[b] = h
            loSum[b] = l
            sum[b] = d * Float(128 * h + l)
        }
    }
}
