import PodKVKernels

/// Where one tensor lives in a GGUF file and how to read it.
///
/// `dimensions` keep GGUF's order: `dimensions[0]` is the contiguous row length, so a weight matrix of a
/// linear layer from `n_in` to `n_out` is `[n_in, n_out]` and its rows are `n_out` runs of `n_in` values,
/// each run taking `type.byteCount(elements: n_in)` bytes.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The tensor's name, e.g. `blk.0.attn_q.weight`.
    public let name: String
    /// 1 to 4 positive sizes, innermost (contiguous) first.
    public let dimensions: [Int]
    /// The element or block-quantization type of the data.
    public let type: TensorType
    /// Absolute byte offset of the first byte of data in the file (already includes the data section start).
    public let offset: Int
    /// Bytes of data: `type.byteCount(elements: elementCount)`.
    public let byteCount: Int

    /// Product of the dimensions.
    public var elementCount: Int { dimensions.reduce(1, *) }

    /// Number of rows: every dimension but the first multiplied together.
    public var rowCount: Int { dimensions.dropFirst().reduce(1, *) }

    /// Bytes of one row of `dimensions[0]` values.
    public var rowByteCount: Int { byteCount / rowCount }

    /// Creates a tensor description; the reader and writer check the fields before calling this.
    public init(name: String, dimensions: [Int], type: TensorType, offset: Int, byteCount: Int) {
        self.name = name
        self.dimensions = dimensions
        self.type = type
        self.offset = offset
        self.byteCount = byteCount
    }
}
