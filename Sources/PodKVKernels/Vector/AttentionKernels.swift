#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The inner loops of attention over a block of cached key/value rows, addressed by a table of row
/// pointers so that any cache storage (pages, rings, staging rows) can hand over a whole block at once.
///
/// Why blocks: a cache scored one key per call pays a cross-module call, a type switch and a reduction
/// per row; at a depth of 4096 tokens that is ~10^6 calls per decode step for SmolLM2. One call per block
/// of rows keeps the query (and the output accumulator) in registers across the block.
/// Scalar twins are in `ReferenceVectorOps` (`scores`, `accumulateRows`, `expShifted`).
public enum AttentionKernels {
    /// logits[i] = scale * sum_c q[c] * row_i[c] for i < count.
    ///
    /// - Parameters:
    ///   - q: `width` floats.
    ///   - rows: `count` pointers, each to `width` values of IEEE half (`half`) or Float.
    ///   - logits: `count` floats written.
    public static func scores(
        _ q: UnsafePointer<Float>, rows: UnsafePointer<UnsafeRawPointer>, count: Int, width: Int, half: Bool,
        scale: Float, into logits: UnsafeMutablePointer<Float>
    ) {
        #if arch(x86_64)
        if width == 64 {
            // The common head size: the query lives in four registers for the whole block.
            let q0 = loadF16x(q), q1 = loadF16x(q + 16), q2 = loadF16x(q + 32), q3 = loadF16x(q + 48)
            for i in 0..<count {
                let r = rows[i]
                let a: __m512, b: __m512
                if half {
                    a = _mm512_fmadd_ps(q0, halfToFloat16x(r), _mm512_mul_ps(q2, halfToFloat16x(r + 64)))
                    b = _mm512_fmadd_ps(q1, halfToFloat16x(r + 32), _mm512_mul_ps(q3, halfToFloat16x(r + 96)))
                } else {
                    let f = r.assumingMemoryBound(to: Float.self)
                    a = _mm512_fmadd_ps(q0, loadF16x(f), _mm512_mul_ps(q2, loadF16x(f + 32)))
                    b = _mm512_fmadd_ps(q1, loadF16x(f + 16), _mm512_mul_ps(q3, loadF16x(f + 48)))
                }
                logits[i] = _mm512_reduce_add_ps(_mm512_add_ps(a, b)) * scale
            }
            return
        }
        #endif
        for i in 0..<count {
            let d = half
                ? VectorOps.dotHalf(q, rows[i].assumingMemoryBound(to: Float16.self), count: width)
                : VectorOps.dot(q, rows[i].assumingMemoryBound(to: Float.self), count: width)
            logits[i] = d * scale
        }
    }

    /// out[c] += sum_i weights[i] * row_i[c] for c < width (rows as in `scores`).
    public static func accumulateRows(
        weights: UnsafePointer<Float>, rows: UnsafePointer<UnsafeRawPointer>, count: Int, width: Int, half: Bool,
        into out: UnsafeMutablePointer<Float>
    ) {
        #if arch(x86_64)
        if width == 64 {
            var o0 = loadF16x(out), o1 = loadF16x(out + 16), o2 = loadF16x(out + 32), o3 = loadF16x(out + 48)
            for i in 0..<count {
                let w = _mm512_set1_ps(weights[i])
                let r = rows[i]
                if half {
                    o0 = _mm512_fmadd_ps(w, halfToFloat16x(r), o0)
                    o1 = _mm512_fmadd_ps(w, halfToFloat16x(r + 32), o1)
                    o2 = _mm512_fmadd_ps(w, halfToFloat16x(r + 64), o2)
                    o3 = _mm512_fmadd_ps(w, halfToFloat16x(r + 96), o3)
                } else {
                    let f = r.assumingMemoryBound(to: Float.self)
                    o0 = _mm512_fmadd_ps(w, loadF16x(f), o0)
                    o1 = _mm512_fmadd_ps(w, loadF16x(f + 16), o1)
                    o2 = _mm512_fmadd_ps(w, loadF16x(f + 32), o2)
                    o3 = _mm512_fmadd_ps(w, loadF16x(f + 48), o3)
                }
            }
            storeF16x(o0, out)
            storeF16x(o1, out + 16)
            storeF16x(o2, out + 32)
            storeF16x(o3, out + 48)
            return
        }
        #endif
        for i in 0..<count {
            if half {
                VectorOps.axpyHalf(out, weights[i], rows[i].assumingMemoryBound(to: Float16.self), count: width)
            } else {
                VectorOps.axpy(out, weights[i], rows[i].assumingMemoryBound(to: Float.self), count: width)
            }
        }
    }

    /// x[i] = e^(x[i] - shift) in place; returns the sum of the new values. e^-inf gives 0.
    public static func expShifted(_ x: UnsafeMutablePointer<Float>, minus shift: Float, count n: Int) -> Float {
        var sum: Float = 0
        var i = 0
        #if arch(x86_64)
        let vs = _mm512_set1_ps(shift)
        var vsum = _mm512_setzero_ps()
        while i + 16 <= n {
            let e = exp16(_mm512_sub_ps(loadF16x(x + i), vs))
            storeF16x(e, x + i)
            vsum = _mm512_add_ps(vsum, e)
            i += 16
        }
        if i < n {
            // The tail through a masked load/store: short blocks are common (a chunk's last few keys).
            let mask = __mmask16(truncatingIfNeeded: (1 << (n - i)) - 1)
            let v = _mm512_maskz_loadu_ps(mask, x + i)
            let e = _mm512_maskz_mov_ps(mask, exp16(_mm512_sub_ps(v, vs)))
            _mm512_mask_storeu_ps(x + i, mask, e)
            vsum = _mm512_add_ps(vsum, e)
            i = n
        }
        sum = _mm512_reduce_add_ps(vsum)
        #endif
        while i < n {
            let e = expf(x[i] - shift)
            x[i] = e
            sum += e
            i += 1
        }
        return sum
    }

    /// Largest of `count` (>= 1) floats.
    public static func maximum(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        var best = x[0]
        var i = 0
        #if arch(x86_64)
        if n >= 16 {
            var v = loadF16x(x)
            i = 16
            while i + 16 <= n {
                v = _mm512_max_ps(v, loadF16x(x + i))
                i += 16
            }
            best = _mm512_reduce_max_ps(v)
        }
        #endif
        while i < n {
            best = max(best, x[i])
            i += 1
        }
        return best
    }
}

#if arch(x86_64)
/// Widens 16 IEEE halves at `p` (unaligned) to floats.
@inline(__always) func halfToFloat16x(_ p: UnsafeRawPointer) -> __m512 {
    _mm512_cvtph_ps(p.loadUnaligned(as: __m256i.self))
}
#endif
