// Thin helpers over the x86 intrinsics that Swift imports from clang's builtin headers.
//
// Swift's generic SIMD conversions (`SIMD16<Float>(SIMD16<Int32>)`, Float16 widening) are not lowered to
// single instructions by the 6.x compiler (they become out-of-line calls on 128-bit pieces), so the hot
// kernels use the intrinsics directly. Everything here assumes the build targets the build machine
// (`-target-cpu native`, AVX-512 F/BW/VL + VNNI + F16C) as Package.swift arranges.
#if arch(x86_64)
import _Builtin_intrinsics.intel

/// Loads 16 unaligned bytes.
@inline(__always) func load128(_ p: UnsafeRawPointer, _ offset: Int = 0) -> __m128i {
    p.loadUnaligned(fromByteOffset: offset, as: __m128i.self)
}

/// Loads 32 unaligned bytes.
@inline(__always) func load256(_ p: UnsafeRawPointer, _ offset: Int = 0) -> __m256i {
    p.loadUnaligned(fromByteOffset: offset, as: __m256i.self)
}

/// Loads 64 unaligned bytes.
@inline(__always) func load512(_ p: UnsafeRawPointer, _ offset: Int = 0) -> __m512i {
    p.loadUnaligned(fromByteOffset: offset, as: __m512i.self)
}

/// Loads 16 floats (unaligned).
@inline(__always) func loadF16x(_ p: UnsafePointer<Float>) -> __m512 {
    UnsafeRawPointer(p).loadUnaligned(as: __m512.self)
}

/// Stores 16 floats (unaligned).
@inline(__always) func storeF16x(_ v: __m512, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: __m512.self)
}

/// Widens 16 bytes (unsigned) to 16 floats.
@inline(__always) func u8ToFloat(_ v: __m128i) -> __m512 {
    _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(v))
}

/// Widens 16 bytes (signed) to 16 floats.
@inline(__always) func i8ToFloat(_ v: __m128i) -> __m512 {
    _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(v))
}

/// Unsigned-by-signed byte dot product in groups of four, accumulated into eight int32 lanes
/// (`vpdpbusd`): lane k += sum_{j<4} u[4k+j] * s[4k+j].
@inline(__always) func dpbusd(_ acc: __m256i, _ u: __m256i, _ s: __m256i) -> __m256i {
    _mm256_dpbusd_avx_epi32(acc, u, s)
}

/// Puts two 16-byte halves into one 32-byte vector, `lo` first.
@inline(__always) func concat128(_ lo: __m128i, _ hi: __m128i) -> __m256i {
    __m256i(lowHalf: lo, highHalf: hi)
}

/// Upper 16 bytes of a 32-byte vector (the `extracti128` intrinsic is a macro Swift cannot import).
@inline(__always) func high128(_ v: __m256i) -> __m128i { v.highHalf }

#endif

/// Marks one turn of a spin loop. Swift cannot reach the `pause` instruction (`_mm_pause` is a clang
/// builtin with no linkable symbol), so the spin budget in `ThreadPool` is counted in plain turns.
@inline(__always) func cpuRelax() {}

#if arch(x86_64)
/// Sum of the eight lanes of a 256-bit float vector.
@inline(__always) func hsum256(_ v: __m256) -> Float {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), v.highHalf)
    let s2 = _mm_add_ps(s, _mm_movehl_ps(s, s))
    return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)))
}
#endif

#if arch(x86_64)
/// Widens the eight bytes of `bytes` (unsigned, little-endian order) to eight floats.
@inline(__always) func bytesToFloat8(_ bytes: UInt64) -> __m256 {
    _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(Int64(bitPattern: bytes))))
}
#endif
