import PodKVKernels

/// What the parser learned from a GGUF file's header, metadata and tensor infos.
struct ParsedGGUF: Sendable {
    var version: Int
    var alignment: Int
    var metadataKeys: [String]
    var entries: [String: MetadataEntry]
    var tensors: [GGUFTensorInfo]
    /// Absolute offset of the (aligned) data section.
    var dataOffset: Int
}

/// Parses and validates a GGUF v2/v3 file (little-endian) held entirely in `bytes`.
///
/// Layout (GGUF specification, ggml/docs/gguf.md):
///   magic "GGUF" | u32 version | u64 tensor_count | u64 kv_count
///   kv_count × (string key | u32 value_type | value)
///   tensor_count × (string name | u32 n_dims | n_dims × u64 dim | u32 ggml_type | u64 offset)
///   padding to `general.alignment` (default 32) | tensor data (offsets are relative to here)
/// where a string is a u64 byte length followed by UTF-8 bytes, and an array value is a u32 element
/// type, a u64 count and the elements.
///
/// Work and allocation are bounded by the file size: every count is checked against the bytes that
/// remain before anything is reserved for it, and every item consumes at least one byte.
struct GGUFParser {
    /// Arrays of arrays deeper than this are refused; real files use none.
    static let maxArrayNesting = 8
    static let defaultAlignment = 32
    static let magic: [UInt8] = Array("GGUF".utf8)

    private var reader: ByteReader

    init(_ bytes: UnsafeRawBufferPointer) {
        reader = ByteReader(bytes)
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) throws(GGUFError) -> ParsedGGUF {
        var parser = GGUFParser(bytes)
        return try parser.parse()
    }

    private mutating func parse() throws(GGUFError) -> ParsedGGUF {
        reader.context = "the magic"
        try reader.require(4)
        let magic = Array(reader.bytes[0..<4])
        guard magic == Self.magic else { throw .badMagic(found: magic) }
        try reader.skip(4)

        reader.context = "the version"
        let version = try reader.read(UInt32.self)
        guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }

        reader.context = "the header"
        // Smallest possible tensor info: empty name (8), n_dims (4), one dim (8), type (4), offset (8).
        let tensorCount = try reader.readCount(minimumItemSize: 32, what: "tensor count")
        // Smallest possible key/value: empty key (8), type (4), one-byte value (1).
        let kvCount = try reader.readCount(minimumItemSize: 13, what: "metadata count")

        var keys: [String] = []
        keys.reserveCapacity(kvCount)
        var entries: [String: MetadataEntry] = [:]
        entries.reserveCapacity(kvCount)
        for index in 0..<kvCount {
            let (key, entry) = try readMetadataEntry(index: index)
            guard entries.updateValue(entry, forKey: key) == nil else { throw .duplicateKey(key) }
            keys.append(key)
        }

        let alignment = try Self.alignment(from: entries[GGUFFile.alignmentKey])

        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(tensorCount)
        var relativeOffsets: [UInt64] = []
        relativeOffsets.reserveCapacity(tensorCount)
        var names = Set<String>()
        for index in 0..<tensorCount {
            let (info, relativeOffset) = try readTensorInfo(index: index, alignment: alignment)
            guard names.insert(info.name).inserted else { throw .duplicateTensorName(info.name) }
            tensors.append(info)
            relativeOffsets.append(relativeOffset)
        }

        // The data section starts at the next multiple of the alignment after the tensor infos.
        let (padded, overflow) = reader.offset.addingReportingOverflow(alignment - 1)
        let dataOffset = overflow ? Int.max : padded / alignment * alignment
        tensors = try Self.placeTensors(tensors, relativeOffsets: relativeOffsets,
                                        dataOffset: dataOffset, fileSize: reader.bytes.count)
        return ParsedGGUF(version: Int(version), alignment: alignment, metadataKeys: keys,
                          entries: entries, tensors: tensors, dataOffset: dataOffset)
    }

    // MARK: Metadata

    private mutating func readMetadataEntry(index: Int) throws(GGUFError) -> (String, MetadataEntry) {
        reader.context = "the key of metadata entry \(index)"
        let keyOffset = reader.offset
        guard let key = decodeUTF8(try reader.readStringBytes()) else { throw .invalidKeyUTF8(offset: keyOffset) }

        reader.context = "the value of '\(key)'"
        let type = try readValueType(key: key)
        guard type == .array else { return (key, .value(try readValue(type, key: key, depth: 0))) }

        let elementType = try readValueType(key: key)
        let count = try reader.readCount(minimumItemSize: elementType.minimumSize, what: "array length")
        switch elementType {
        case .string:
            var strings: [String] = []
            strings.reserveCapacity(count)
            for _ in 0..<count { strings.append(try readString(key: key)) }
            return (key, .strings(strings))
        case .array:
            return (key, .value(.array(try readArrayElements(of: .array, count: count, key: key, depth: 1))))
        default:
            // Fixed-size elements: readCount has already checked that count × size bytes remain.
            let start = reader.offset
            try reader.skip(count * elementType.minimumSize)
            return (key, .numbers(elementType: elementType, count: count, offset: start))
        }
    }

    private mutating func readValueType(key: String) throws(GGUFError) -> GGUFValueType {
        let typeOffset = reader.offset
        let code = try reader.read(UInt32.self)
        guard let type = GGUFValueType(rawValue: code) else {
            throw .unknownValueType(key: key, type: code, offset: typeOffset)
        }
        return type
    }

    private mutating func readString(key: String) throws(GGUFError) -> String {
        let stringOffset = reader.offset
        guard let string = decodeUTF8(try reader.readStringBytes()) else {
            throw .invalidStringUTF8(key: key, offset: stringOffset)
        }
        return string
    }

    /// Reads one value of `type`; `depth` is how many arrays enclose it.
    private mutating func readValue(_ type: GGUFValueType, key: String, depth: Int) throws(GGUFError) -> GGUFValue {
        switch type {
        case .uint8: .uint8(try reader.read(UInt8.self))
        case .int8: .int8(try reader.read(Int8.self))
        case .uint16: .uint16(try reader.read(UInt16.self))
        case .int16: .int16(try reader.read(Int16.self))
        case .uint32: .uint32(try reader.read(UInt32.self))
        case .int32: .int32(try reader.read(Int32.self))
        case .uint64: .uint64(try reader.read(UInt64.self))
        case .int64: .int64(try reader.read(Int64.self))
        case .float32: .float32(try reader.readFloat())
        case .float64: .float64(try reader.readDouble())
        case .bool: .bool(try reader.read(UInt8.self) != 0)
        case .string: .string(try readString(key: key))
        case .array: .array(try readArray(key: key, depth: depth + 1))
        }
    }

    /// Reads an array value (element type, count, elements) that sits `depth` levels deep.
    private mutating func readArray(key: String, depth: Int) throws(GGUFError) -> [GGUFValue] {
        let elementType = try readValueType(key: key)
        let count = try reader.readCount(minimumItemSize: elementType.minimumSize, what: "array length")
        return try readArrayElements(of: elementType, count: count, key: key, depth: depth)
    }

    private mutating func readArrayElements(
        of elementType: GGUFValueType, count: Int, key: String, depth: Int
    ) throws(GGUFError) -> [GGUFValue] {
        guard depth <= Self.maxArrayNesting else { throw .nestingTooDeep(key: key, limit: Self.maxArrayNesting) }
        var elements: [GGUFValue] = []
        elements.reserveCapacity(count)
        for _ in 0..<count { elements.append(try readValue(elementType, key: key, depth: depth)) }
        return elements
    }

    /// The data alignment from `general.alignment` (GGUF: a u32; any integer type is accepted).
    static func alignment(from entry: MetadataEntry?) throws(GGUFError) -> Int {
        guard let entry else { return defaultAlignment }
        guard case let .value(value) = entry, value.valueType.isInteger else {
            throw .invalidAlignment(value: "of type \(entry.valueType), not an integer")
        }
        guard let alignment = value.intValue, alignment > 0, alignment & (alignment - 1) == 0 else {
            throw .invalidAlignment(value: value.intValue.map(String.init) ?? "\(value)")
        }
        return alignment
    }

    // MARK: Tensor infos

    private mutating func readTensorInfo(
        index: Int, alignment: Int
    ) throws(GGUFError) -> (GGUFTensorInfo, relativeOffset: UInt64) {
        reader.context = "the name of tensor info \(index)"
        let nameOffset = reader.offset
        guard let name = decodeUTF8(try reader.readStringBytes()) else {
            throw .invalidTensorNameUTF8(offset: nameOffset)
        }
        reader.context = "tensor info '\(name)'"

        let dimensionCount = try reader.read(UInt32.self)
        guard (1...4).contains(dimensionCount) else { throw .badDimensionCount(tensor: name, count: dimensionCount) }
        var rawDimensions: [UInt64] = []
        for _ in 0..<dimensionCount { rawDimensions.append(try reader.read(UInt64.self)) }

        var dimensions: [Int] = []
        var elementCount = 1
        for (i, raw) in rawDimensions.enumerated() {
            guard raw > 0, let dim = Int(exactly: raw), dim > 0 else {
                throw .invalidDimension(tensor: name, index: i, value: raw)
            }
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: dim)
            if overflow { throw .elementCountOverflow(tensor: name, dimensions: rawDimensions) }
            elementCount = product
            dimensions.append(dim)
        }

        let typeCode = try reader.read(UInt32.self)
        guard let type = TensorType(rawValue: typeCode) else { throw .unknownTensorType(tensor: name, type: typeCode) }
        guard type.isSupported else { throw .unsupportedTensorType(tensor: name, type: type) }
        guard dimensions[0] % type.blockSize == 0 else {
            throw .rowNotMultipleOfBlock(tensor: name, rowLength: dimensions[0], type: type)
        }
        guard let byteCount = type.byteCount(elements: elementCount) else {
            throw .elementCountOverflow(tensor: name, dimensions: rawDimensions)
        }

        let relativeOffset = try reader.read(UInt64.self)
        guard relativeOffset % UInt64(alignment) == 0 else {
            throw .misalignedTensorOffset(tensor: name, offset: relativeOffset, alignment: alignment)
        }
        // `offset` is filled in by placeTensors once the data section start is known.
        let info = GGUFTensorInfo(name: name, dimensions: dimensions, type: type, offset: 0, byteCount: byteCount)
        return (info, relativeOffset)
    }

    /// Turns relative offsets into absolute ones and checks that every tensor lies inside the file and
    /// that no two tensors share bytes.
    static func placeTensors(
        _ tensors: [GGUFTensorInfo], relativeOffsets: [UInt64], dataOffset: Int, fileSize: Int
    ) throws(GGUFError) -> [GGUFTensorInfo] {
        var placed: [GGUFTensorInfo] = []
        placed.reserveCapacity(tensors.count)
        for (tensor, relative) in zip(tensors, relativeOffsets) {
            let (start, startOverflow) = UInt64(dataOffset).addingReportingOverflow(relative)
            let (end, endOverflow) = start.addingReportingOverflow(UInt64(tensor.byteCount))
            guard !startOverflow, !endOverflow, end <= UInt64(fileSize) else {
                throw .tensorDataOutOfBounds(
                    tensor: tensor.name, start: startOverflow ? relative : start,
                    end: startOverflow || endOverflow ? nil : end, fileSize: fileSize)
            }
            placed.append(GGUFTensorInfo(name: tensor.name, dimensions: tensor.dimensions, type: tensor.type,
                                         offset: Int(start), byteCount: tensor.byteCount))
        }
        // Sorted by start, tensors are disjoint exactly when each one starts at or after the previous end.
        let byStart = placed.sorted { $0.offset < $1.offset }
        for (previous, next) in zip(byStart, byStart.dropFirst()) where next.offset < previous.offset + previous.byteCount {
            throw .overlappingTensors(first: previous.name, second: next.name)
        }
        return placed
    }
}
