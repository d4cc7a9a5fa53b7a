/// Scale and minimum of sub-block `j` (0..<8) of a q4_K / q5_K super-block, unpacked from the 12 bytes of
/// 6-bit fields at `scales` (ggml `get_scale_min_k4`): sub-blocks 0-3 keep their 6 bits in the low bits of
/// bytes j and j+4; sub-blocks 4-7 split into a low nibble in byte j+4 and two high bits borrowed from the
/// top of bytes j-4 (scale) and j (minimum).
@inline(__always)
func kQuantScaleMin(_ j: Int, _ scales: UnsafeRawPointer) -> (scale: UInt8, min: UInt8) {
    @inline(__always) func byte(_ i: Int) -> UInt8 { scales.load(fromByteOffset: i, as: UInt8.self) }
    if j < 4 {
        return (byte(j) & 63, byte(j + 4) & 63)
    }
    return ((byte(j + 4) & 0x0F) | ((byte(j - 4) >> 6) << 4), (byte(j + 4) >> 4) | ((byte(j) >> 6) << 4))
}

/// All eight 6-bit scales and minimums of a q4_K / q5_K super-block at once, as bytes `j` of the two
/// results (the same unpacking as `kQuantScaleMin`, done with 32-bit masks on the three words as ggml's
/// SIMD paths do): sub-blocks 0-3 are the low 6 bits of words 0 (scales) and 1 (minimums); sub-blocks 4-7
/// take a low nibble from word 2 and their top two bits from the top of words 0 / 1.
@inline(__always)
func kQuantScalesMins(_ scales: UnsafeRawPointer) -> (scales: UInt64, mins: UInt64) {
    let w0 = scales.loadUnaligned(as: UInt32.self)
    let w1 = scales.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
    let w2 = scales.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
    let six: UInt32 = 0x3F3F_3F3F, nibble: UInt32 = 0x0F0F_0F0F, two: UInt32 = 0x0303_0303
    let scalesLow = w0 & six
    let scalesHigh = (w2 & nibble) | (((w0 >> 6) & two) << 4)
    let minsLow = w1 & six
    let minsHigh = ((w2 >> 4) & nibble) | (((w1 >> 6) & two) << 4)
    return (UInt64(scalesLow) | UInt64(scalesHigh) << 32, UInt64(minsLow) | UInt64(minsHigh) << 32)
}
