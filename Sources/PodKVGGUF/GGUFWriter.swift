#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PodKVKernels

/// Builds a GGUF v3 file in memory: metadata of any value type and tensors given as raw bytes.
///
/// Meant for tests and tools that need small models:
/// ```swift
/// var writer = GGUFWriter()
/// writer.set("general.architecture", .string("llama"))
/// writer.set("llama.block_count", .uint32(2))
/// try writer.addTensor(name: "token_embd.weight", dimensions: [64, 100], type: .f32, floats: weights)
/// let file = try GGUFFile(bytes: try writer.bytes())
/// ```
/// Everything the writer produces opens with `GGUFFile`: it refuses what the reader would refuse
/// (unsupported tensor types, bad shapes, wrong byte counts, duplicate names, mixed-type arrays).
/// Tensors are laid out in the order they were added, each starting on an `alignment` boundary.
public struct GGUFWriter: Sendable {
    /// Data alignment in bytes; a power of two. Written as `general.alignment` when it is not 32.
    public let alignment: Int
    /// Metadata keys in the order they were first set.
    public private(set) var metadataKeys: [String] = []
    /// Metadata values by key.
    public private(set) var metadata: [String: GGUFValue] = [:]
    /// Tensors in the order they were added; `offset` is relative to the data section until written.
    public private(set) var tensors: [GGUFTensorInfo] = []
    private var tensorData: [[UInt8]] = []
    private var tensorNames = Set<String>()

    /// A writer with GGUF's default 32-byte alignment.
    public init() {
        alignment = GGUFParser.defaultAlignment
    }

    /// A writer that aligns tensor data to `alignment` bytes (a power of two, at most 2^30).
    /// - Throws: `GGUFError.invalidAlignment` otherwise.
    public init(alignment: Int) throws(GGUFError) {
        guard alignment > 0, alignment <= 1 << 30, alignment & (alignment - 1) == 0 else {
            throw .invalidAlignment(value: String(alignment))
        }
        self.alignment = alignment
        if alignment != GGUFParser.defaultAlignment {
            set(GGUFFile.alignmentKey, .uint32(UInt32(alignment)))
        }
    }

    /// Sets `key` to `value`; setting a key again replaces its value but keeps its original position.
    /// `general.alignment` is owned by `init(alignment:)`; use that instead of setting the key here.
    public mutating func set(_ key: String, _ value: GGUFValue) {
        if metadata.updateValue(value, forKey: key) == nil { metadataKeys.append(key) }
    }

    /// Adds a tensor whose data is `bytes`, laid out as GGUF stores `type` (rows of `dimensions[0]`
    /// values, dimension 0 contiguous).
    /// - Throws: `GGUFError` for a duplicate name, 0 or more than 4 dimensions, a non-positive dimension,
    ///   an unsupported type, a row length that is not a whole number of blocks, or a byte count that does
    ///   not match `type.byteCount(elements:)`.
    public mutating func addTensor(
        name: String, dimensions: [Int], type: TensorType, bytes: [UInt8]
    ) throws(GGUFError) {
        guard !tensorNames.contains(name) else { throw .duplicateTensorName(name) }
        guard (1...4).contains(dimensions.count) else {
            throw .badDimensionCount(tensor: name, count: UInt32(min(dimensions.count, Int(UInt32.max))))
        }
        let rawDimensions = dimensions.map { UInt64(bitPattern: Int64($0)) }
        var elementCount = 1
        for (index, dim) in dimensions.enumerated() {
            guard dim > 0 else { throw .invalidDimension(tensor: name, index: index, value: rawDimensions[index]) }
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: dim)
            if overflow { throw .elementCountOverflow(tensor: name, dimensions: rawDimensions) }
            elementCount = product
        }
        guard type.isSupported else { throw .unsupportedTensorType(tensor: name, type: type) }
        guard dimensions[0] % type.blockSize == 0 else {
            throw .rowNotMultipleOfBlock(tensor: name, rowLength: dimensions[0], type: type)
        }
        guard let expected = type.byteCount(elements: elementCount) else {
            throw .elementCountOverflow(tensor: name, dimensions: rawDimensions)
        }
        guard bytes.count == expected else {
            throw .tensorByteCountMismatch(tensor: name, expected: expected, actual: bytes.count)
        }

        let offset = tensors.last.map { alignUp($0.offset + $0.byteCount) } ?? 0
        tensors.append(GGUFTensorInfo(name: name, dimensions: dimensions, type: type, offset: offset,
                                      byteCount: expected))
        tensorData.append(bytes)
        tensorNames.insert(name)
    }

    /// Adds an f32 tensor from its values (row-major with dimension 0 contiguous).
    /// - Throws: as `addTensor(name:dimensions:type:bytes:)`.
    public mutating func addTensor(name: String, dimensions: [Int], floats: [Float]) throws(GGUFError) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(floats.count * 4)
        for value in floats { bytes.append(littleEndian: value.bitPattern) }
        try addTensor(name: name, dimensions: dimensions, type: .f32, bytes: bytes)
    }

    /// The complete file image.
    /// - Throws: `GGUFError.heterogeneousArray` or `.nestingTooDeep` for a metadata array the format cannot
    ///   hold, `.invalidAlignment` when `general.alignment` was set to something other than `alignment`.
    public func bytes() throws(GGUFError) -> [UInt8] {
        if let declared = metadata[GGUFFile.alignmentKey], declared.intValue != alignment {
            throw .invalidAlignment(value: "\(declared), but this writer aligns to \(alignment) "
                + "(set the alignment with GGUFWriter(alignment:))")
        }
        var out: [UInt8] = []
        out.append(contentsOf: GGUFParser.magic)
        out.append(littleEndian: UInt32(3))
        out.append(littleEndian: UInt64(tensors.count))
        out.append(littleEndian: UInt64(metadataKeys.count))
        for key in metadataKeys {
            guard let value = metadata[key] else { continue }
            out.append(ggufString: key)
            out.append(littleEndian: value.valueType.rawValue)
            try Self.append(value, key: key, depth: 0, to: &out)
        }
        for tensor in tensors {
            out.append(ggufString: tensor.name)
            out.append(littleEndian: UInt32(tensor.dimensions.count))
            for dim in tensor.dimensions { out.append(littleEndian: UInt64(dim)) }
            out.append(littleEndian: tensor.type.rawValue)
            out.append(littleEndian: UInt64(tensor.offset))
        }
        padToAlignment(&out)
        let dataStart = out.count
        for (tensor, data) in zip(tensors, tensorData) {
            out.append(contentsOf: repeatElement(0, count: dataStart + tensor.offset - out.count))
            out.append(contentsOf: data)
        }
        padToAlignment(&out)
        return out
    }

    /// Writes the file image to `path` atomically: into a temporary file in the same directory, flushed
    /// to disk, then renamed over `path`, so readers never see a half-written model.
    /// - Throws: what `bytes()` throws, or `GGUFError.writeFailed` naming the system error.
    public func write(to path: String) throws(GGUFError) {
        let image = try bytes()
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .writeFailed(path: path, reason: systemErrorMessage()) }
        let failure = image.withUnsafeBytes { writeAll($0, to: fd) }
        close(fd)
        if let failure {
            unlink(temporary)
            throw .writeFailed(path: path, reason: failure)
        }
        guard rename(temporary, path) == 0 else {
            let reason = systemErrorMessage()
            unlink(temporary)
            throw .writeFailed(path: path, reason: reason)
        }
    }

    // MARK: Encoding

    private static func append(
        _ value: GGUFValue, key: String, depth: Int, to out: inout [UInt8]
    ) throws(GGUFError) {
        switch value {
        case let .uint8(v): out.append(littleEndian: v)
        case let .int8(v): out.append(littleEndian: v)
        case let .uint16(v): out.append(littleEndian: v)
        case let .int16(v): out.append(littleEndian: v)
        case let .uint32(v): out.append(littleEndian: v)
        case let .int32(v): out.append(littleEndian: v)
        case let .uint64(v): out.append(littleEndian: v)
        case let .int64(v): out.append(littleEndian: v)
        case let .float32(v): out.append(littleEndian: v.bitPattern)
        case let .float64(v): out.append(littleEndian: v.bitPattern)
        case let .bool(v): out.append(v ? 1 : 0)
        case let .string(s): out.append(ggufString: s)
        case let .array(elements):
            guard depth < GGUFParser.maxArrayNesting else {
                throw .nestingTooDeep(key: key, limit: GGUFParser.maxArrayNesting)
            }
            // An empty array carries no element type; u8 is as good as any and reads back as `.array([])`.
            let elementType = elements.first?.valueType ?? .uint8
            out.append(littleEndian: elementType.rawValue)
            out.append(littleEndian: UInt64(elements.count))
            for element in elements {
                guard element.valueType == elementType else { throw .heterogeneousArray(key: key) }
                try append(element, key: key, depth: depth + 1, to: &out)
            }
        }
    }

    private func alignUp(_ offset: Int) -> Int {
        (offset + alignment - 1) / alignment * alignment
    }

    private func padToAlignment(_ out: inout [UInt8]) {
        out.append(contentsOf: repeatElement(0, count: alignUp(out.count) - out.count))
    }

}

/// Writes all of `buffer` to `fd` and flushes it to disk; returns the system error message on failure.
private func writeAll(_ buffer: UnsafeRawBufferPointer, to fd: Int32) -> String? {
    var written = 0
    while written < buffer.count {
        let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
        if n < 0 {
            if errno == EINTR { continue }
            return systemErrorMessage()
        }
        written += n
    }
    return fsync(fd) == 0 ? nil : systemErrorMessage()
}

extension [UInt8] {
    /// Appends `value` in little-endian byte order.
    mutating func append<T: FixedWidthInteger>(littleEndian value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// Appends a GGUF string: u64 byte length, then the UTF-8 bytes.
    mutating func append(ggufString string: String) {
        append(littleEndian: UInt64(string.utf8.count))
        append(contentsOf: string.utf8)
    }
}
