#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// The one-row products over `InterleavedWeights`, each with a scalar twin that reads the same layout
/// through `code(row:column:)` and that the tests compare against.
///
/// Per record (16 rows x 32 columns) a kernel runs eight `vpdpbusd` per activation digit, each on 64
/// code bytes (4 columns of 16 rows) against 4 activation bytes broadcast to every lane; the block's
/// integer sums are then scaled by the 16 rows' `d` (and the minimum term added) with vector FMAs. The
/// zero point is taken out by seeding the integer sums with `-zeroPoint * sum(digits)` of the block.
///
/// Two activation forms: `Q8Activation` (one 8-bit digit, llama.cpp's precision) and `Q8x2Activation`
/// (two digits, 15 bits: a second `vpdpbusd` per code vector, no extra decoding, within 1e-4 of fp32).
extension InterleavedWeights {
    /// y[16 g + r] = row (16 g + r) . x for every row group g in `groups`; `act` is x in 8-bit blocks.
    func product(groups: Range<Int>, _ act: Q8Activation, _ y: UnsafeMutablePointer<Float>) {
        run(groups, Digits(act), y, fine: false)
    }

    /// y[16 g + r] = row (16 g + r) . x for every row group g in `groups`; `act` is x in 15-bit blocks.
    func product(groups: Range<Int>, _ act: Q8x2Activation, _ y: UnsafeMutablePointer<Float>) {
        run(groups, Digits(act), y, fine: true)
    }

    /// Scalar twin of `product(groups:_:_:)` for 8-bit activations.
    func productScalar(groups: Range<Int>, _ act: Q8Activation, _ y: UnsafeMutablePointer<Float>) {
        scalar(groups, y) { b, c in Int32(act.qs[32 * b + c]) } blockScale: { act.scale[$0] } blockSum: { act.sum[$0] }
    }

    /// Scalar twin of `product(groups:_:_:)` for 15-bit activations.
    func productScalar(groups: Range<Int>, _ act: Q8x2Activation, _ y: UnsafeMutablePointer<Float>) {
        scalar(groups, y) { b, c in 128 * Int32(act.hi[32 * b + c]) + Int32(act.lo[32 * b + c]) }
            blockScale: { act.scale[$0] } blockSum: { act.sum[$0] }
    }

    private func scalar(
        _ groups: Range<Int>, _ y: UnsafeMutablePointer<Float>, code q: (Int, Int) -> Int32,
        blockScale: (Int) -> Float, blockSum: (Int) -> Float
    ) {
        for r in (groups.lowerBound * Self.groupRows)..<(groups.upperBound * Self.groupRows) {
            var total: Float = 0
            for b in 0..<blocks {
                var isum: Int32 = 0
                for c in 0..<Self.blockValues { isum += (code(row: r, column: 32 * b + c) - zeroPoint) * q(b, c) }
                total += Float(isum) * (scale(row: r, block: b) * blockScale(b)) + minimum(row: r, block: b) * blockSum(b)
            }
            y[r] = total
        }
    }

    /// The activation streams a kernel reads: digit bytes and per-block scale, sum and digit sums
    /// (`lo`/`loSum` only for two-digit activations).
    private struct Digits {
        let hi: UnsafePointer<Int8>, lo: UnsafePointer<Int8>?
        let scale: UnsafePointer<Float>, sum: UnsafePointer<Float>
        let hiSum: UnsafePointer<Int32>, loSum: UnsafePointer<Int32>?

        init(_ a: Q8Activation) {
            hi = UnsafePointer(a.qs); lo = nil
            scale = UnsafePointer(a.scale); sum = UnsafePointer(a.sum)
            hiSum = UnsafePointer(a.qsum); loSum = nil
        }

        init(_ a: Q8x2Activation) {
            hi = UnsafePointer(a.hi); lo = UnsafePointer(a.lo)
            scale = UnsafePointer(a.scale); sum = UnsafePointer(a.sum)
            hiSum = UnsafePointer(a.hiSum); loSum = UnsafePointer(a.loSum)
        }
    }

    /// Picks the specialised loop; every flag is a constant inside each branch.
    private func run(_ groups: Range<Int>, _ a: Digits, _ y: UnsafeMutablePointer<Float>, fine: Bool) {
        #if arch(x86_64)
        switch (layout, hasHighBits, hasMinimum, fine) {
        case (.nibbles, false, false, false): kernel(groups, a, y, fine: false, nibbles: true, high: false, minimum: false)
        case (.nibbles, false, true, false): kernel(groups, a, y, fine: false, nibbles: true, high: false, minimum: true)
        case (.nibbles, true, false, false): kernel(groups, a, y, fine: false, nibbles: true, high: true, minimum: false)
        case (.nibbles, true, true, false): kernel(groups, a, y, fine: false, nibbles: true, high: true, minimum: true)
        case (.bytes, _, _, false): kernel(groups, a, y, fine: false, nibbles: false, high: false, minimum: false)
        case (.nibbles, false, false, true): kernel(groups, a, y, fine: true, nibbles: true, high: false, minimum: false)
        case (.nibbles, false, true, true): kernel(groups, a, y, fine: true, nibbles: true, high: false, minimum: true)
        case (.nibbles, true, false, true): kernel(groups, a, y, fine: true, nibbles: true, high: true, minimum: false)
        case (.nibbles, true, true, true): kernel(groups, a, y, fine: true, nibbles: true, high: true, minimum: true)
        case (.bytes, _, _, true): kernel(groups, a, y, fine: true, nibbles: false, high: false, minimum: false)
        }
        #else
        scalar(groups, y) { b, c in
            guard let lo = a.lo else { return Int32(a.hi[32 * b + c]) }
            return 128 * Int32(a.hi[32 * b + c]) + Int32(lo[32 * b + c])
        } blockScale: { a.scale[$0] } blockSum: { a.sum[$0] }
        #endif
    }

    #if arch(x86_64)
    /// The product loop. `nibbles`: 4-bit codes (fifth bit from the mask plane when `high`), else bytes;
    /// `minimum`: add m * sum(x); `fine`: two activation digits.
    @inline(__always)
    private func kernel(
        _ groups: Range<Int>, _ a: Digits, _ y: UnsafeMutablePointer<Float>,
        fine: Bool, nibbles: Bool, high: Bool, minimum: Bool
    ) {
        let low4 = _mm512_set1_epi8(0x0F), bit5 = _mm512_set1_epi8(0x10)
        let negZP = -zeroPoint
        for g in groups {
            var acc = _mm512_setzero_ps()
            var rec = record(group: g, block: 0)
            for b in 0..<blocks {
                let codes = rec + codesOffset
                let h = UnsafeRawPointer(a.hi + 32 * b)
                let l = fine ? UnsafeRawPointer(a.lo! + 32 * b) : h
                // Two accumulators per digit: chunks 0-3 and 4-7 (independent dependency chains).
                var h0 = negZP != 0 ? _mm512_set1_epi32(negZP &* a.hiSum[b]) : _mm512_setzero_si512()
                var h1 = _mm512_setzero_si512()
                var l0 = fine && negZP != 0 ? _mm512_set1_epi32(negZP &* a.loSum![b]) : _mm512_setzero_si512()
                var l1 = _mm512_setzero_si512()
                @inline(__always) func step(_ codes: __m512i, chunk c: Int, _ hAcc: inout __m512i, _ lAcc: inout __m512i) {
                    hAcc = _mm512_dpbusd_epi32(hAcc, codes, _mm512_set1_epi32(h.loadUnaligned(fromByteOffset: 4 * c, as: Int32.self)))
                    if fine {
                        lAcc = _mm512_dpbusd_epi32(lAcc, codes, _mm512_set1_epi32(l.loadUnaligned(fromByteOffset: 4 * c, as: Int32.self)))
                    }
                }
                if nibbles {
                    for v in 0..<4 {
                        let raw = load512(codes, 64 * v)
                        var lo = _mm512_and_si512(raw, low4)
                        var hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low4)
                        if high {
                            let masks = rec + highBitsOffset
                            lo = _mm512_mask_add_epi8(lo, masks.loadUnaligned(fromByteOffset: 8 * v, as: UInt64.self), lo, bit5)
                            hi = _mm512_mask_add_epi8(hi, masks.loadUnaligned(fromByteOffset: 8 * v + 32, as: UInt64.self), hi, bit5)
                        }
                        step(lo, chunk: v, &h0, &l0)
                        step(hi, chunk: v + 4, &h1, &l1)
                    }
                } else {
                    var c = 0
                    while c < 8 {
                        step(load512(codes, 64 * c), chunk: c, &h0, &l0)
                        step(load512(codes, 64 * c + 64), chunk: c + 1, &h1, &l1)
                        c += 2
                    }
                }
                var isum = _mm512_add_epi32(h0, h1)
                if fine { isum = _mm512_add_epi32(_mm512_slli_epi32(isum, 7), _mm512_add_epi32(l0, l1)) }
                let d = _mm512_cvtph_ps(load256(rec))
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(d, _mm512_set1_ps(a.scale[b])), acc)
                if minimum { acc = _mm512_fmadd_ps(_mm512_cvtph_ps(load256(rec, 32)), _mm512_set1_ps(a.sum[b]), acc) }
                rec += recordBytes
            }
            storeF16x(acc, y + Self.groupRows * g)
        }
    }
    #endif
}
