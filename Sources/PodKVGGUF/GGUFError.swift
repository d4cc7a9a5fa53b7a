import PodKVKernels

/// Everything that can be wrong with a GGUF file (reading) or with a file being built (writing).
///
/// Each case carries what is needed to find the problem: the byte offset, the metadata key or the tensor
/// name, and the offending value. `description` turns that into one sentence.
public enum GGUFError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be opened, sized or mapped (`reason` is the system's message).
    case cannotOpen(path: String, reason: String)
    /// The first four bytes are not `GGUF`.
    case badMagic(found: [UInt8])
    /// The version field is not 2 or 3 (version 1 used 32-bit counts and is long obsolete).
    case unsupportedVersion(UInt32)
    /// A read of `needed` bytes at `offset` runs past the end of the `fileSize`-byte file.
    case truncated(offset: Int, needed: Int, fileSize: Int, context: String)
    /// A string length, array length or item count promises more bytes than remain after `offset`.
    case lengthExceedsFile(context: String, length: UInt64, offset: Int, remaining: Int)
    /// A count or length does not fit in `Int`, or multiplying it by its item size overflows.
    case countOverflow(context: String, count: UInt64, offset: Int)
    /// A metadata value type code outside 0...12.
    case unknownValueType(key: String, type: UInt32, offset: Int)
    /// Arrays nested deeper than `limit` levels.
    case nestingTooDeep(key: String, limit: Int)
    /// A metadata key whose bytes are not valid UTF-8.
    case invalidKeyUTF8(offset: Int)
    /// A tensor name whose bytes are not valid UTF-8.
    case invalidTensorNameUTF8(offset: Int)
    /// A string value whose bytes are not valid UTF-8.
    case invalidStringUTF8(key: String, offset: Int)
    /// The same metadata key appears twice.
    case duplicateKey(String)
    /// The same tensor name appears twice.
    case duplicateTensorName(String)
    /// `general.alignment` is not a positive power of two that fits in `Int` (`value` says what it was).
    case invalidAlignment(value: String)
    /// A tensor with no dimensions or more than four.
    case badDimensionCount(tensor: String, count: UInt32)
    /// A dimension that is zero or too large to be a positive `Int`.
    case invalidDimension(tensor: String, index: Int, value: UInt64)
    /// The product of the dimensions, or the resulting byte size, overflows `Int`.
    case elementCountOverflow(tensor: String, dimensions: [UInt64])
    /// A tensor type number that is not a known `ggml_type`.
    case unknownTensorType(tensor: String, type: UInt32)
    /// A known tensor type for which PodKV has no kernels.
    case unsupportedTensorType(tensor: String, type: TensorType)
    /// The row length (dimension 0) is not a whole number of quantization blocks.
    case rowNotMultipleOfBlock(tensor: String, rowLength: Int, type: TensorType)
    /// A tensor's data offset (relative to the data section) is not a multiple of the alignment.
    case misalignedTensorOffset(tensor: String, offset: UInt64, alignment: Int)
    /// A tensor's bytes `start..<end` (absolute; `end` nil when it overflows) do not lie inside the file.
    case tensorDataOutOfBounds(tensor: String, start: UInt64, end: UInt64?, fileSize: Int)
    /// Two tensors share bytes.
    case overlappingTensors(first: String, second: String)
    /// Writer: the bytes given for a tensor do not match its type and dimensions.
    case tensorByteCountMismatch(tensor: String, expected: Int, actual: Int)
    /// Writer: an array value mixes element types (GGUF arrays are homogeneous).
    case heterogeneousArray(key: String)
    /// Writer: the file could not be written or renamed into place.
    case writeFailed(path: String, reason: String)

    /// One sentence that names the problem and where it is (offset, key or tensor).
    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            return "cannot open GGUF file '\(path)': \(reason)"
        case let .badMagic(found):
            let hex = found.map { String($0, radix: 16, uppercase: true) }.joined(separator: " ")
            return "not a GGUF file: the magic bytes are [\(hex)], expected 'GGUF' [47 47 55 46]"
        case let .unsupportedVersion(version):
            if version.byteSwapped == 2 || version.byteSwapped == 3 {
                return "GGUF version field reads \(version): this looks like a big-endian GGUF file, "
                    + "which PodKV does not read"
            }
            return "unsupported GGUF version \(version); PodKV reads versions 2 and 3"
        case let .truncated(offset, needed, fileSize, context):
            return "truncated GGUF file: reading \(context) needs \(needed) bytes at offset \(offset), "
                + "but the file has only \(fileSize) bytes"
        case let .lengthExceedsFile(context, length, offset, remaining):
            return "\(context) at offset \(offset) claims a length of \(length), "
                + "more than the \(remaining) bytes that remain in the file"
        case let .countOverflow(context, count, offset):
            return "\(context) at offset \(offset) has a count of \(count), which overflows"
        case let .unknownValueType(key, type, offset):
            return "metadata key '\(key)' has unknown value type \(type) at offset \(offset)"
        case let .nestingTooDeep(key, limit):
            return "metadata key '\(key)' nests arrays deeper than \(limit) levels"
        case let .invalidKeyUTF8(offset):
            return "the metadata key at offset \(offset) is not valid UTF-8"
        case let .invalidTensorNameUTF8(offset):
            return "the tensor name at offset \(offset) is not valid UTF-8"
        case let .invalidStringUTF8(key, offset):
            return "a string in metadata key '\(key)' at offset \(offset) is not valid UTF-8"
        case let .duplicateKey(key):
            return "metadata key '\(key)' appears more than once"
        case let .duplicateTensorName(name):
            return "tensor '\(name)' appears more than once"
        case let .invalidAlignment(value):
            return "general.alignment is \(value); it must be a positive power of two"
        case let .badDimensionCount(tensor, count):
            return "tensor '\(tensor)' has \(count) dimensions; GGUF allows 1 to 4"
        case let .invalidDimension(tensor, index, value):
            let shown = value > UInt64(Int.max) ? "\(Int64(bitPattern: value))" : "\(value)"
            return "tensor '\(tensor)' has dimension \(index) = \(shown); every dimension must be positive"
        case let .elementCountOverflow(tensor, dimensions):
            return "tensor '\(tensor)' with dimensions \(dimensions) has too many elements (its size overflows)"
        case let .unknownTensorType(tensor, type):
            return "tensor '\(tensor)' has unknown tensor type number \(type)"
        case let .unsupportedTensorType(tensor, type):
            return "tensor '\(tensor)' has type \(type), which PodKV does not support"
        case let .rowNotMultipleOfBlock(tensor, rowLength, type):
            return "tensor '\(tensor)' has rows of \(rowLength) values, not a multiple of the "
                + "\(type) block size \(type.blockSize)"
        case let .misalignedTensorOffset(tensor, offset, alignment):
            return "tensor '\(tensor)' has data offset \(offset), not a multiple of the alignment \(alignment)"
        case let .tensorDataOutOfBounds(tensor, start, end, fileSize):
            let endText = end.map { "\($0)" } ?? "past 2^64"
            return "tensor '\(tensor)' data spans bytes \(start)..<\(endText), "
                + "beyond the end of the \(fileSize)-byte file"
        case let .overlappingTensors(first, second):
            return "tensors '\(first)' and '\(second)' overlap in the data section"
        case let .tensorByteCountMismatch(tensor, expected, actual):
            return "tensor '\(tensor)' needs \(expected) bytes for its type and dimensions, but \(actual) were given"
        case let .heterogeneousArray(key):
            return "metadata key '\(key)' holds an array whose elements are not all of one type"
        case let .writeFailed(path, reason):
            return "cannot write GGUF file '\(path)': \(reason)"
        }
    }
}
