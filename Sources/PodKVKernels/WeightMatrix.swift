/// A row-major matrix of `rows` rows of `cols` values in a GGUF tensor type (a weight, `cols` = dims[0]).
///
/// The matrix does not own its bytes: `data` usually points into a memory-mapped GGUF file that outlives
/// every `WeightMatrix` made from it. Row `r` starts at `data + r * rowBytes`.
public struct WeightMatrix: @unchecked Sendable {
    /// Element type of the stored values.
    public let type: TensorType
    /// Number of rows (output features).
    public let rows: Int
    /// Values per row (input features); a multiple of `type.blockSize`.
    public let cols: Int
    /// First byte of row 0; `rows * rowBytes` bytes are readable from here.
    public let data: UnsafeRawPointer
    /// A 16-row interleaved copy for the one-row (decode) kernels (`withDecodeLayouts`), or nil.
    public private(set) var interleaved: InterleavedWeights?

    /// Wraps `rows * rowBytes` bytes at `data` without checking; use `checked` for untrusted shapes.
    public init(type: TensorType, rows: Int, cols: Int, data: UnsafeRawPointer) {
        self.type = type
        self.rows = rows
        self.cols = cols
        self.data = data
    }

    /// Wraps a buffer after checking that the type has kernels, `cols` is a whole number of blocks and
    /// `byteCount` covers `rows * rowBytes`.
    public static func checked(
        type: TensorType, rows: Int, cols: Int, data: UnsafeRawPointer, byteCount: Int
    ) throws(KernelError) -> WeightMatrix {
        guard type.isSupported else { throw .unsupportedType(type) }
        guard rows > 0, cols > 0 else { throw .invalidShape("matrix of \(rows) x \(cols)") }
        guard let rowBytes = type.byteCount(elements: cols) else {
            throw .rowNotBlockAligned(type: type, cols: cols)
        }
        let (needed, overflow) = rowBytes.multipliedReportingOverflow(by: rows)
        guard !overflow else { throw .invalidShape("matrix of \(rows) x \(cols) overflows") }
        guard needed <= byteCount else { throw .bufferTooSmall(needed: needed, available: byteCount) }
        return WeightMatrix(type: type, rows: rows, cols: cols, data: data)
    }

    /// This matrix with its interleaved copy for the one-row kernels when the type and shape have one
    /// (q4_0, q4_1, q5_0, q5_1, q8_0; rows a multiple of 16); otherwise unchanged, and the products use
    /// the row-major kernels.
    public func withDecodeLayouts() -> WeightMatrix {
        var copy = self
        copy.interleaved = InterleavedWeights(self)
        return copy
    }

    /// Bytes held by the interleaved copy (0 without one).
    public var decodeLayoutBytes: Int { interleaved?.byteCount ?? 0 }

    /// Bytes taken by one row.
    public var rowBytes: Int { cols / type.blockSize * type.blockBytes }

    /// Start of row `r` (0..<rows).
    public func row(_ r: Int) -> UnsafeRawPointer { data + r * rowBytes }
}
