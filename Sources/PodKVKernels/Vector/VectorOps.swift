#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Small fp32 vector helpers for the model layer: a 16-lane AVX-512 main loop and a scalar tail (which is
/// also the whole loop off x86). Scalar twins live in `ReferenceVectorOps`. `count` is the number of
/// floats in every buffer argument.
public enum VectorOps {
    /// out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i]. `out` may alias `x`.
    public static func rmsNorm(
        _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float, count n: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        let inv = 1 / (dot(x, x, count: n) / Float(n) + eps).squareRoot()
        var i = 0
        #if arch(x86_64)
        let vinv = _mm512_set1_ps(inv)
        while i + 16 <= n {
            storeF16x(_mm512_mul_ps(_mm512_mul_ps(loadF16x(x + i), vinv), loadF16x(weight + i)), out + i)
            i += 16
        }
        #endif
        while i < n {
            out[i] = x[i] * inv * weight[i]
            i += 1
        }
    }

    /// a[i] += b[i].
    public static func add(_ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) {
        var i = 0
        #if arch(x86_64)
        while i + 16 <= n {
            storeF16x(_mm512_add_ps(loadF16x(a + i), loadF16x(b + i)), a + i)
            i += 16
        }
        #endif
        while i < n {
            a[i] += b[i]
            i += 1
        }
    }

    /// a[i] *= b[i].
    public static func mul(_ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) {
        var i = 0
        #if arch(x86_64)
        while i + 16 <= n {
            storeF16x(_mm512_mul_ps(loadF16x(a + i), loadF16x(b + i)), a + i)
            i += 16
        }
        #endif
        while i < n {
            a[i] *= b[i]
            i += 1
        }
    }

    /// a[i] *= s.
    public static func scale(_ a: UnsafeMutablePointer<Float>, by s: Float, count n: Int) {
        var i = 0
        #if arch(x86_64)
        let vs = _mm512_set1_ps(s)
        while i + 16 <= n {
            storeF16x(_mm512_mul_ps(loadF16x(a + i), vs), a + i)
            i += 16
        }
        #endif
        while i < n {
            a[i] *= s
            i += 1
        }
    }

    /// gate[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + e^-g) (the SwiGLU feed-forward gate).
    public static func siluMul(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count n: Int) {
        var i = 0
        #if arch(x86_64)
        let one = _mm512_set1_ps(1), zero = _mm512_setzero_ps()
        while i + 16 <= n {
            let g = loadF16x(gate + i)
            let sig = _mm512_div_ps(one, _mm512_add_ps(one, exp16(_mm512_sub_ps(zero, g))))
            storeF16x(_mm512_mul_ps(_mm512_mul_ps(g, sig), loadF16x(up + i)), gate + i)
            i += 16
        }
        #endif
        while i < n {
            let g = gate[i]
            gate[i] = g / (1 + expf(-g)) * up[i]
            i += 1
        }
    }

    /// x <- softmax(x) in place: e^(x - max) / sum. Entries of -inf get probability 0.
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count n: Int) {
        guard n > 0 else { return }
        let m = x[maxIndex(x, count: n)]
        var sum: Float = 0
        var i = 0
        #if arch(x86_64)
        let vm = _mm512_set1_ps(m)
        var vsum = _mm512_setzero_ps()
        while i + 16 <= n {
            let e = exp16(_mm512_sub_ps(loadF16x(x + i), vm))
            storeF16x(e, x + i)
            vsum = _mm512_add_ps(vsum, e)
            i += 16
        }
        sum = _mm512_reduce_add_ps(vsum)
        #endif
        while i < n {
            let e = expf(x[i] - m)
            x[i] = e
            sum += e
            i += 1
        }
        scale(x, by: 1 / sum, count: n)
    }

    /// Index of the largest value (the first one on ties); 0 for an empty vector.
    public static func maxIndex(_ x: UnsafePointer<Float>, count n: Int) -> Int {
        guard n > 0 else { return 0 }
        var best = x[0]
        var i = 0
        #if arch(x86_64)
        if n >= 16 {
            var vmax = loadF16x(x)
            i = 16
            while i + 16 <= n {
                vmax = _mm512_max_ps(vmax, loadF16x(x + i))
                i += 16
            }
            best = _mm512_reduce_max_ps(vmax)
        }
        #endif
        while i < n {
            if x[i] > best { best = x[i] }
            i += 1
        }
        // Second pass finds the first position holding the maximum (cheap next to the model step).
        for j in 0..<n where x[j] == best { return j }
        return 0
    }

    /// sum_i a[i] * b[i].
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) -> Float {
        F32Format.dot(UnsafeRawPointer(a), b, count: n)
    }

    /// y[i] += a * x[i].
    public static func axpy(_ y: UnsafeMutablePointer<Float>, _ a: Float, _ x: UnsafePointer<Float>, count n: Int) {
        var i = 0
        #if arch(x86_64)
        let va = _mm512_set1_ps(a)
        while i + 16 <= n {
            storeF16x(_mm512_fmadd_ps(va, loadF16x(x + i), loadF16x(y + i)), y + i)
            i += 16
        }
        #endif
        while i < n {
            y[i] += a * x[i]
            i += 1
        }
    }
}
