#if arch(x86_64)
import _Builtin_intrinsics.intel

/// e^x for 16 lanes, relative error about 2e-7 (Cephes `expf` scheme): x = n ln2 + r with |r| <= ln2/2,
/// e^r from a degree-6 polynomial, then `vscalefps` multiplies by 2^n. Clamping x to [-104, 89] keeps the
/// reduction accurate while `vscalefps` still yields 0 below the float range and +inf above it (so
/// e^-inf = 0, as masked attention scores need).
@inline(__always) func exp16(_ x: __m512) -> __m512 {
    let clamped = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(89)), _mm512_set1_ps(-104))
    let n = _mm512_cvtepi32_ps(_mm512_cvtps_epi32(_mm512_mul_ps(clamped, _mm512_set1_ps(1.442695040888963))))
    // r = x - n*ln2 in two steps (ln2 split into a short high part and a correction) to keep r exact.
    var r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375), clamped)
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4), r)
    var p = _mm512_set1_ps(1.9875691500e-4)
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3))
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3))
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2))
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1))
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1))
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1)))
    return _mm512_scalef_ps(p, n)
}
#endif
