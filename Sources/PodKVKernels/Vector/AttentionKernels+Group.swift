#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// Grouped-query forms of the attention block kernels: several query heads that share one KV head read
/// each key and value row once (one fp16 conversion, one load from memory) instead of once per head.
///
/// Why: at a depth of 4096 tokens a SmolLM2 decode step reads 94 MB of f16 keys and values; with its
/// 9 query heads over 3 KV heads, per-head loops read (and convert) every row three times. The twins are
/// the per-head kernels (`scores`, `accumulateRows`), which the tests compare against.
extension AttentionKernels {
    /// logits[h * logitStride + i] = scale * q_h . row_i for each of `heads` query heads (stored one after
    /// another, `width` floats each) and i < count.
    public static func scoresGroup(
        _ q: UnsafePointer<Float>, heads: Int, rows: UnsafePointer<UnsafeRawPointer>, count: Int, width: Int,
        half: Bool, scale: Float, into logits: UnsafeMutablePointer<Float>, logitStride: Int
    ) {
        #if arch(x86_64)
        if width == 64 {
            var h0 = 0
            while h0 < heads {
                let g = min(4, heads - h0)
                // Up to four heads in registers (a shorter group repeats its last head; those lanes are not stored).
                func head(_ k: Int) -> UnsafePointer<Float> { q + (h0 + min(k, g - 1)) * 64 }
                let a0 = loadF16x(head(0)), a1 = loadF16x(head(0) + 16), a2 = loadF16x(head(0) + 32), a3 = loadF16x(head(0) + 48)
                let b0 = loadF16x(head(1)), b1 = loadF16x(head(1) + 16), b2 = loadF16x(head(1) + 32), b3 = loadF16x(head(1) + 48)
                let c0 = loadF16x(head(2)), c1 = loadF16x(head(2) + 16), c2 = loadF16x(head(2) + 32), c3 = loadF16x(head(2) + 48)
                let d0 = loadF16x(head(3)), d1 = loadF16x(head(3) + 16), d2 = loadF16x(head(3) + 32), d3 = loadF16x(head(3) + 48)
                let out = logits + h0 * logitStride
                for i in 0..<count {
                    let (k0, k1, k2, k3) = row64(rows[i], half: half)
                    @inline(__always) func dot(_ x0: __m512, _ x1: __m512, _ x2: __m512, _ x3: __m512) -> Float {
                        _mm512_reduce_add_ps(_mm512_add_ps(_mm512_fmadd_ps(x0, k0, _mm512_mul_ps(x2, k2)),
                                                           _mm512_fmadd_ps(x1, k1, _mm512_mul_ps(x3, k3))))
                    }
                    out[i] = dot(a0, a1, a2, a3) * scale
                    if g > 1 { out[logitStride + i] = dot(b0, b1, b2, b3) * scale }
                    if g > 2 { out[2 * logitStride + i] = dot(c0, c1, c2, c3) * scale }
                    if g > 3 { out[3 * logitStride + i] = dot(d0, d1, d2, d3) * scale }
                }
                h0 += 4
            }
            return
        }
        #endif
        for h in 0..<heads {
            scores(q + h * width, rows: rows, count: count, width: width, half: half, scale: scale,
                   into: logits + h * logitStride)
        }
    }

    /// outs[h][c] += sum_i weights[h * weightStride + i] * row_i[c] for each of `heads` heads, c < width.
    public static func accumulateRowsGroup(
        weights: UnsafePointer<Float>, weightStride: Int, heads: Int, rows: UnsafePointer<UnsafeRawPointer>,
        count: Int, width: Int, half: Bool, into outs: UnsafePointer<UnsafeMutablePointer<Float>>
    ) {
        #if arch(x86_64)
        if width == 64 {
            var h0 = 0
            while h0 < heads {
                let g = min(4, heads - h0)
                func out(_ k: Int) -> UnsafeMutablePointer<Float> { outs[h0 + min(k, g - 1)] }
                func weight(_ k: Int) -> UnsafePointer<Float> { weights + (h0 + min(k, g - 1)) * weightStride }
                var a0 = loadF16x(out(0)), a1 = loadF16x(out(0) + 16), a2 = loadF16x(out(0) + 32), a3 = loadF16x(out(0) + 48)
                var b0 = loadF16x(out(1)), b1 = loadF16x(out(1) + 16), b2 = loadF16x(out(1) + 32), b3 = loadF16x(out(1) + 48)
                var c0 = loadF16x(out(2)), c1 = loadF16x(out(2) + 16), c2 = loadF16x(out(2) + 32), c3 = loadF16x(out(2) + 48)
                var d0 = loadF16x(out(3)), d1 = loadF16x(out(3) + 16), d2 = loadF16x(out(3) + 32), d3 = loadF16x(out(3) + 48)
                let wa = weight(0), wb = weight(1), wc = weight(2), wd = weight(3)
                for i in 0..<count {
                    let (v0, v1, v2, v3) = row64(rows[i], half: half)
                    var w = _mm512_set1_ps(wa[i])
                    a0 = _mm512_fmadd_ps(w, v0, a0); a1 = _mm512_fmadd_ps(w, v1, a1)
                    a2 = _mm512_fmadd_ps(w, v2, a2); a3 = _mm512_fmadd_ps(w, v3, a3)
                    w = _mm512_set1_ps(wb[i])
                    b0 = _mm512_fmadd_ps(w, v0, b0); b1 = _mm512_fmadd_ps(w, v1, b1)
                    b2 = _mm512_fmadd_ps(w, v2, b2); b3 = _mm512_fmadd_ps(w, v3, b3)
                    w = _mm512_set1_ps(wc[i])
                    c0 = _mm512_fmadd_ps(w, v0, c0); c1 = _mm512_fmadd_ps(w, v1, c1)
                    c2 = _mm512_fmadd_ps(w, v2, c2); c3 = _mm512_fmadd_ps(w, v3, c3)
                    w = _mm512_set1_ps(wd[i])
                    d0 = _mm512_fmadd_ps(w, v0, d0); d1 = _mm512_fmadd_ps(w, v1, d1)
                    d2 = _mm512_fmadd_ps(w, v2, d2); d3 = _mm512_fmadd_ps(w, v3, d3)
                }
                if g > 3 { store(d0, d1, d2, d3, out(3)) }
                if g > 2 { store(c0, c1, c2, c3, out(2)) }
                if g > 1 { store(b0, b1, b2, b3, out(1)) }
                store(a0, a1, a2, a3, out(0))
                h0 += 4
            }
            return
        }
        #endif
        for h in 0..<heads {
            accumulateRows(weights: weights + h * weightStride, rows: rows, count: count, width: width, half: half,
                           into: outs[h])
        }
    }

    #if arch(x86_64)
    /// The 64 values of a cached row (IEEE half when `half`, else Float) as four float vectors.
    @inline(__always)
    private static func row64(_ r: UnsafeRawPointer, half: Bool) -> (__m512, __m512, __m512, __m512) {
        if half { return (halfToFloat16x(r), halfToFloat16x(r + 32), halfToFloat16x(r + 64), halfToFloat16x(r + 96)) }
        let f = r.assumingMemoryBound(to: Float.self)
        return (loadF16x(f), loadF16x(f + 16), loadF16x(f + 32), loadF16x(f + 48))
    }

    @inline(__always)
    private static func store(_ v0: __m512, _ v1: __m512, _ v2: __m512, _ v3: __m512, _ p: UnsafeMutablePointer<Float>) {
        storeF16x(v0, p); storeF16x(v1, p + 16); storeF16x(v2, p + 32); storeF16x(v3, p + 48)
    }
    #endif
}
