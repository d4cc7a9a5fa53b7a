/// Element type of stored key/value rows. Attention always accumulates in fp32.
public enum KVElementType: String, Sendable, CaseIterable, Codable {
    /// IEEE half precision (default): half the bytes of f32, ~1e-3 relative rounding.
    case f16
    /// Full precision: exact, twice the memory.
    case f32

    /// Bytes per stored value.
    public var bytesPerValue: Int {
        switch self {
        case .f16: 2
        case .f32: 4
        }
    }
}
