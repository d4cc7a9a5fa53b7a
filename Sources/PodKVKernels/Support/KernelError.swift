/// Errors raised when a kernel is handed a shape or a type it cannot work on.
///
/// Kernels themselves take raw pointers and trust their callers; the checks that produce these errors run
/// once, where a buffer is wrapped (for example `WeightMatrix.checked`), so inner loops stay branch-free.
public enum KernelError: Error, CustomStringConvertible, Equatable {
    /// The tensor type has no kernels in PodKV.
    case unsupportedType(TensorType)
    /// A row length is not a whole number of blocks of its type.
    case rowNotBlockAligned(type: TensorType, cols: Int)
    /// A dimension is negative or zero where a positive value is needed.
    case invalidShape(String)
    /// A buffer is smaller than its shape requires.
    case bufferTooSmall(needed: Int, available: Int)

    public var description: String {
        switch self {
        case .unsupportedType(let t):
            "tensor type \(t) has no PodKV kernel"
        case .rowNotBlockAligned(let t, let cols):
            "row of \(cols) values is not a multiple of the \(t) block size \(t.blockSize)"
        case .invalidShape(let what):
            "invalid shape: \(what)"
        case .bufferTooSmall(let needed, let available):
            "buffer holds \(available) bytes but the shape needs \(needed)"
        }
    }
}
