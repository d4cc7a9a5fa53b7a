/// How the reader keeps one metadata value between opening the file and someone asking for it.
///
/// Tokenizer arrays are huge (Qwen2.5: 151,665 tokens, 151,387 merges, 151,665 token types) and wrapping
/// each element in a `GGUFValue` costs time and memory nobody needs. So string arrays are decoded once,
/// straight into `[String]` (which `GGUFFile.strings(_:)` hands out as is), and arrays of numbers are not
/// decoded at all: they stay a span of the mapped file until `ints(_:)` / `floats(_:)` read them.
enum MetadataEntry: Sendable {
    /// A scalar, or an array of arrays (rare and small), fully decoded.
    case value(GGUFValue)
    /// An array of strings, decoded and UTF-8 validated.
    case strings([String])
    /// An array of `count` fixed-size values of `elementType`, starting at absolute `offset`, not yet
    /// decoded. The parser has checked that the whole span lies in the file.
    case numbers(elementType: GGUFValueType, count: Int, offset: Int)

    /// The wire type of the value (for arrays, `.array`).
    var valueType: GGUFValueType {
        switch self {
        case let .value(v): v.valueType
        case .strings, .numbers: .array
        }
    }

    /// The full `GGUFValue`, decoding a number span from `bytes` when needed.
    func value(in bytes: UnsafeRawBufferPointer) -> GGUFValue {
        switch self {
        case let .value(v):
            return v
        case let .strings(strings):
            return .array(strings.map(GGUFValue.string))
        case let .numbers(type, count, offset):
            return .array((0..<count).map { readNumber(type, at: offset + $0 * type.minimumSize, in: bytes) })
        }
    }
}

/// Decodes one little-endian fixed-size value of `type` at absolute `offset` (already bounds-checked).
func readNumber(_ type: GGUFValueType, at offset: Int, in bytes: UnsafeRawBufferPointer) -> GGUFValue {
    func load<T: FixedWidthInteger>(_: T.Type) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
    switch type {
    case .uint8: return .uint8(load(UInt8.self))
    case .int8: return .int8(load(Int8.self))
    case .uint16: return .uint16(load(UInt16.self))
    case .int16: return .int16(load(Int16.self))
    case .uint32: return .uint32(load(UInt32.self))
    case .int32: return .int32(load(Int32.self))
    case .uint64: return .uint64(load(UInt64.self))
    case .int64: return .int64(load(Int64.self))
    case .float32: return .float32(Float(bitPattern: load(UInt32.self)))
    case .float64: return .float64(Double(bitPattern: load(UInt64.self)))
    // GGUF stores bool as one byte; anything but 0 reads as true, as in llama.cpp.
    case .bool: return .bool(load(UInt8.self) != 0)
    case .string, .array: preconditionFailure("readNumber called for variable-size type \(type)")
    }
}
