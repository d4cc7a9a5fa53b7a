/// Reads of 16-bit float scales that sit at arbitrary (unaligned) byte offsets inside quant blocks.
///
/// ggml stores block scales as IEEE half (`ggml_half`); blocks are packed back to back with odd sizes
/// (18, 20, 22, 34 bytes...) so these loads are generally unaligned.
@inline(__always)
func loadHalf(_ p: UnsafeRawPointer, _ byteOffset: Int = 0) -> Float {
    Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: byteOffset, as: UInt16.self)))
}

/// Reads a bfloat16 (the top 16 bits of an IEEE single) and widens it exactly.
@inline(__always)
func loadBFloat16(_ p: UnsafeRawPointer, _ byteOffset: Int = 0) -> Float {
    Float(bitPattern: UInt32(p.loadUnaligned(fromByteOffset: byteOffset, as: UInt16.self)) << 16)
}

/// Writes `value` rounded to IEEE half at an unaligned byte offset (used by the reference quantizers).
@inline(__always)
func storeHalf(_ value: Float, _ p: UnsafeMutableRawPointer, _ byteOffset: Int = 0) {
    p.storeBytes(of: Float16(value).bitPattern, toByteOffset: byteOffset, as: UInt16.self)
}

/// `n` rounded up to a multiple of 64 (the alignment of the activation scratch sub-buffers).
@inline(__always)
func align64(_ n: Int) -> Int { (n + 63) & ~63 }
