#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// A 32-value block format whose integer dot product runs two blocks per 512-bit `vpdpbusd`.
///
/// Why pairs: one 256-bit step per block spends most of its instructions on scalar work (two fp16 scale
/// loads and conversions, a broadcast, the minimum term), which capped the older kernels at ~5 cycles per
/// block. Here a block pair costs one 64-byte code decode, one `vpdpbusd`, one 4-lane scale multiply for
/// both blocks' `(d, m)` fields together, a permute that spreads the two scales over the 16 lanes, and one FMA.
///
/// Every format's first four bytes are `d: f16` followed by either `m: f16` (formats with a minimum) or
/// code bytes, so `pairScales` is the same two 32-bit loads for all of them; lanes that hold code bytes
/// reinterpreted as fp16 are never read.
protocol Q8PairFormat: Q8DotFormat {
    /// Bytes per 32-value block.
    static var bytesPerBlock: Int { get }
    /// Codes carry this zero point (as a power of two, log2), or nil: the kernel seeds the accumulator
    /// with `-2^shift * sum(q_x)` to take it back out.
    static var zeroPointShift: Int32? { get }
    /// Whether the value is `code * d + m` (the minimum term `m * sum(x)` is added from `scaleSum`).
    static var hasMinimum: Bool { get }
    #if arch(x86_64)
    /// The 64 unsigned codes of the blocks at `pair` and `pair + bytesPerBlock`, in value order.
    static func pairCodes(_ pair: UnsafeRawPointer) -> __m512i
    #endif
}

extension Q8PairFormat {
    @inline(__always)
    static func dotQ8x4(_ row: UnsafeRawPointer, _ acts: UnsafePointer<Q8Activation>, _ out: UnsafeMutablePointer<Float>, outStride: Int) {
        #if arch(x86_64)
        Q8Pair.dot4(Self.self, row, acts, out, outStride: outStride)
        #else
        for k in 0..<4 { out[k * outStride] = dotQ8Scalar(row, acts[k]) }
        #endif
    }
}

#if arch(x86_64)
extension Q8PairFormat {
    /// `[d0, m0, d1, m1]` of the two blocks at `pair` (fp16 fields widened); `m` lanes are garbage for
    /// formats without a minimum.
    @inline(__always)
    static func pairScales(_ pair: UnsafeRawPointer) -> __m128 {
        let lo = UInt64(pair.loadUnaligned(as: UInt32.self))
        let hi = UInt64((pair + bytesPerBlock).loadUnaligned(as: UInt32.self))
        return _mm_cvtph_ps(_mm_cvtsi64_si128(Int64(bitPattern: lo | hi << 32)))
    }

    /// The accumulator seed that removes the codes' zero point for the block pair starting at block `b`.
    @inline(__always)
    static func seed(_ act: Q8Activation, block b: Int) -> __m512i {
        guard let shift = zeroPointShift else { return _mm512_setzero_si512() }
        return _mm512_slli_epi32(load512(act.negSum4 + 8 * b), UInt32(shift))
    }
}

/// Lane `i` of a pair's scale vector takes lane 0 (first block) for i < 8, lane 2 (second block) after.
@inline(__always) func pairScaleIndex() -> __m512i {
    _mm512_set_epi32(2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0)
}

/// Nibble codes of two blocks whose 16 code bytes start `qsOffset` bytes into each block: one masked
/// 64-byte load (it never reads past the second block), `vpermb` places each block's bytes twice, a
/// per-qword shift selects low or high nibbles, and a mask keeps 4 bits. Value order is low nibbles of a
/// block (values 0-15) then its high nibbles (values 16-31).
@inline(__always)
func nibblePairCodes(_ pair: UnsafeRawPointer, blockBytes: Int, qsOffset: Int) -> __m512i {
    let raw = _mm512_maskz_loadu_epi8(UInt64.max >> UInt64(64 - 2 * blockBytes), pair)
    let a = Int8(qsOffset), b = Int8(blockBytes + qsOffset)
    // Byte index vector: [a ..< a+16] twice, then [b ..< b+16] twice.
    let idx = _mm512_set_epi8(
        b + 15, b + 14, b + 13, b + 12, b + 11, b + 10, b + 9, b + 8, b + 7, b + 6, b + 5, b + 4, b + 3, b + 2, b + 1, b,
        b + 15, b + 14, b + 13, b + 12, b + 11, b + 10, b + 9, b + 8, b + 7, b + 6, b + 5, b + 4, b + 3, b + 2, b + 1, b,
        a + 15, a + 14, a + 13, a + 12, a + 11, a + 10, a + 9, a + 8, a + 7, a + 6, a + 5, a + 4, a + 3, a + 2, a + 1, a,
        a + 15, a + 14, a + 13, a + 12, a + 11, a + 10, a + 9, a + 8, a + 7, a + 6, a + 5, a + 4, a + 3, a + 2, a + 1, a)
    let bytes = _mm512_permutexvar_epi8(idx, raw)
    let shifted = _mm512_srlv_epi64(bytes, _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0))
    return _mm512_and_si512(shifted, _mm512_set1_epi8(0x0F))
}

/// The pair kernels over whole rows.
enum Q8Pair {
    /// sum_c w[c] * x[c] for one row of `F` blocks against `act` (count a multiple of 32).
    @inline(__always)
    static func dot<F: Q8PairFormat>(_: F.Type, _ row: UnsafeRawPointer, _ act: Q8Activation) -> Float {
        let blocks = act.count / 32
        let index = pairScaleIndex()
        var acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps()
        var minimum = _mm_setzero_ps()
        var b = 0
        @inline(__always) func step(_ b: Int, _ acc: inout __m512) {
            let pair = row + b * F.bytesPerBlock
            let isum = _mm512_dpbusd_epi32(F.seed(act, block: b), F.pairCodes(pair), load512(act.qs + 32 * b))
            let scales = _mm_mul_ps(F.pairScales(pair), UnsafeRawPointer(act.scaleSum + 2 * b).loadUnaligned(as: __m128.self))
            if F.hasMinimum { minimum = _mm_add_ps(minimum, scales) }
            acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_permutexvar_ps(index, _mm512_castps128_ps512(scales)), acc)
        }
        // Two pairs per turn into separate accumulators: the FMA chain is the loop-carried dependency.
        while b + 4 <= blocks {
            step(b, &acc0)
            step(b + 2, &acc1)
            b += 4
        }
        if b + 2 <= blocks {
            step(b, &acc0)
            b += 2
        }
        var total = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1))
        if F.hasMinimum { total += minimum[1] + minimum[3] }
        if b < blocks { total += tailBlock(F.self, row, act, block: b) }
        return total
    }

    /// Rows `row` of `F` against four activations at once (a prefill tile): each pair of weight blocks is
    /// decoded once and used four times. Writes `out[k * outStride]` for activation `acts[k]`.
    @inline(__always)
    static func dot4<F: Q8PairFormat>(
        _: F.Type, _ row: UnsafeRawPointer, _ acts: UnsafePointer<Q8Activation>,
        _ out: UnsafeMutablePointer<Float>, outStride: Int
    ) {
        let blocks = acts[0].count / 32
        let index = pairScaleIndex()
        let a0 = acts[0], a1 = acts[1], a2 = acts[2], a3 = acts[3]
        var acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps()
        var min0 = _mm_setzero_ps(), min1 = _mm_setzero_ps(), min2 = _mm_setzero_ps(), min3 = _mm_setzero_ps()
        var b = 0
        while b + 2 <= blocks {
            let pair = row + b * F.bytesPerBlock
            let codes = F.pairCodes(pair)
            let w = F.pairScales(pair)
            @inline(__always) func one(_ act: Q8Activation, _ acc: inout __m512, _ minimum: inout __m128) {
                let isum = _mm512_dpbusd_epi32(F.seed(act, block: b), codes, load512(act.qs + 32 * b))
                let scales = _mm_mul_ps(w, UnsafeRawPointer(act.scaleSum + 2 * b).loadUnaligned(as: __m128.self))
                if F.hasMinimum { minimum = _mm_add_ps(minimum, scales) }
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_permutexvar_ps(index, _mm512_castps128_ps512(scales)), acc)
            }
            one(a0, &acc0, &min0)
            one(a1, &acc1, &min1)
            one(a2, &acc2, &min2)
            one(a3, &acc3, &min3)
            b += 2
        }
        @inline(__always) func finish(_ k: Int, _ act: Q8Activation, _ acc: __m512, _ minimum: __m128) {
            var total = _mm512_reduce_add_ps(acc)
            if F.hasMinimum { total += minimum[1] + minimum[3] }
            if b < blocks { total += tailBlock(F.self, row, act, block: b) }
            out[k * outStride] = total
        }
        finish(0, a0, acc0, min0)
        finish(1, a1, acc1, min1)
        finish(2, a2, acc2, min2)
        finish(3, a3, acc3, min3)
    }

    /// The last block of a row with an odd block count, through the reference dequantizer (rows of the
    /// supported models always have an even count; this keeps other shapes correct).
    @inline(never)
    static func tailBlock<F: Q8PairFormat>(_: F.Type, _ row: UnsafeRawPointer, _ act: Q8Activation, block b: Int) -> Float {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 32) { buf in
            F.dequantizeReference(row + b * F.bytesPerBlock, count: 32, into: buf.baseAddress!)
            var s: Float = 0
            for i in 0..<32 { s += buf[i] * Float(act.qs[32 * b + i]) }
            return s * act.scale[b]
        }
    }
}
#endif
