/// Typed metadata accessors. Each returns nil when the key is absent or holds another type, so model
/// code can write `file.int("llama.block_count") ?? default` or turn nil into its own error.
extension GGUFFile {
    /// The string stored under `key`.
    public func string(_ key: String) -> String? {
        scalar(key)?.stringValue
    }

    /// Any integer value under `key` that fits in `Int`.
    public func int(_ key: String) -> Int? {
        scalar(key)?.intValue
    }

    /// A float or integer value under `key`, as `Double`.
    public func double(_ key: String) -> Double? {
        scalar(key)?.doubleValue
    }

    /// The bool stored under `key`.
    public func bool(_ key: String) -> Bool? {
        scalar(key)?.boolValue
    }

    /// An array of strings (vocabularies, merges). Decoded once at open, so this is O(1).
    public func strings(_ key: String) -> [String]? {
        guard case let .strings(strings) = entries[key] else { return nil }
        return strings
    }

    /// An array of integers (any integer element type), nil if one does not fit in `Int`.
    public func ints(_ key: String) -> [Int]? {
        guard case let .numbers(type, count, offset) = entries[key] else { return nil }
        let bytes = storage.buffer
        switch type {
        case .uint8: return load(UInt8.self, count, offset, bytes).map(Int.init)
        case .int8: return load(Int8.self, count, offset, bytes).map(Int.init)
        case .uint16: return load(UInt16.self, count, offset, bytes).map(Int.init)
        case .int16: return load(Int16.self, count, offset, bytes).map(Int.init)
        case .uint32: return load(UInt32.self, count, offset, bytes).map(Int.init)
        case .int32: return load(Int32.self, count, offset, bytes).map(Int.init)
        case .int64: return load(Int64.self, count, offset, bytes).map(Int.init)
        case .uint64:
            var result: [Int] = []
            result.reserveCapacity(count)
            for value in load(UInt64.self, count, offset, bytes) {
                guard let int = Int(exactly: value) else { return nil }
                result.append(int)
            }
            return result
        case .float32, .float64, .bool, .string, .array: return nil
        }
    }

    /// An array of numbers as `Float`: float32 as stored, float64 and integers converted (rounding).
    public func floats(_ key: String) -> [Float]? {
        guard case let .numbers(type, count, offset) = entries[key] else { return nil }
        let bytes = storage.buffer
        switch type {
        case .float32: return load(UInt32.self, count, offset, bytes).map(Float.init(bitPattern:))
        case .float64: return load(UInt64.self, count, offset, bytes).map { Float(Double(bitPattern: $0)) }
        case .bool, .string, .array: return nil
        default: return ints(key)?.map(Float.init)
        }
    }

    /// The value under `key` when it is not an array.
    private func scalar(_ key: String) -> GGUFValue? {
        guard case let .value(value) = entries[key] else { return nil }
        return value
    }
}

/// Reads `count` little-endian values of `T` starting at absolute `offset` (a span the parser checked).
private func load<T: FixedWidthInteger>(
    _: T.Type, _ count: Int, _ offset: Int, _ bytes: UnsafeRawBufferPointer
) -> [T] {
    [T](unsafeUninitializedCapacity: count) { buffer, initialized in
        let source = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count * MemoryLayout<T>.size])
        // The file's bytes are not aligned for T, so copy them raw and then fix the byte order.
        UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
        for i in 0..<count { buffer[i] = T(littleEndian: buffer[i]) }
        initialized = count
    }
}
