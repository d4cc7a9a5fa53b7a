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
