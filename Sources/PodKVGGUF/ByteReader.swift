/// A bounds-checked little-endian cursor over the bytes of a GGUF file.
///
/// Every read checks the remaining length first and throws `GGUFError.truncated` instead of reading past
/// the end, so a damaged file can never make the parser touch memory outside the mapping. `context`
/// names what is being read ("tensor info 3", "value of 'general.name'") and goes into the error.
struct ByteReader {
    /// The whole file, `fileSize` bytes.
    let bytes: UnsafeRawBufferPointer
    /// Absolute offset of the next byte to read.
    private(set) var offset: Int = 0
    /// What the parser is reading now, for error messages.
    var context: String = "the header"

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - offset }

    /// Throws unless `count` more bytes are available.
    func require(_ count: Int) throws(GGUFError) {
        guard count <= remaining else {
            throw .truncated(offset: offset, needed: count, fileSize: bytes.count, context: context)
        }
    }

    /// Moves past `count` bytes that were already bounds-checked or are about to be.
    mutating func skip(_ count: Int) throws(GGUFError) {
        try require(count)
        offset += count
    }

    /// Reads a fixed-width little-endian integer.
    mutating func read<T: FixedWidthInteger>(_: T.Type) throws(GGUFError) -> T {
        try require(MemoryLayout<T>.size)
        let raw = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: raw)
    }

    mutating func readFloat() throws(GGUFError) -> Float {
        Float(bitPattern: try read(UInt32.self))
    }

    mutating func readDouble() throws(GGUFError) -> Double {
        Double(bitPattern: try read(UInt64.self))
    }

    /// Reads a u64 count and checks, before anyone allocates for it, that `count` items of at least
    /// `minimumItemSize` bytes each fit in what remains of the file.
    /// `what` names the count ("array length"); it is static so that the hot path allocates nothing.
    mutating func readCount(minimumItemSize: Int, what: StaticString) throws(GGUFError) -> Int {
        let countOffset = offset
        let raw = try read(UInt64.self)
        guard let count = Int(exactly: raw) else {
            throw .countOverflow(context: "\(what) of \(context)", count: raw, offset: countOffset)
        }
        let (bytesNeeded, overflow) = count.multipliedReportingOverflow(by: minimumItemSize)
        if overflow { throw .countOverflow(context: "\(what) of \(context)", count: raw, offset: countOffset) }
        guard bytesNeeded <= remaining else {
            throw .lengthExceedsFile(
                context: "\(what) of \(context)", length: raw, offset: countOffset, remaining: remaining)
        }
        return count
    }

    /// Reads a GGUF string (u64 byte length, then the bytes) and returns the raw byte span without
    /// decoding it, so callers choose how to validate.
    mutating func readStringBytes() throws(GGUFError) -> UnsafeRawBufferPointer {
        let length = try readCount(minimumItemSize: 1, what: "string length")
        let span = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length])
        offset += length
        return span
    }
}

/// Decodes `bytes` as UTF-8, or returns nil when they are not valid UTF-8 (no repair: a key or name
/// with replacement characters would silently stop matching).
func decodeUTF8(_ bytes: UnsafeRawBufferPointer) -> String? {
    if #available(macOS 15, iOS 18, *) {
        return String(validating: bytes, as: UTF8.self)
    }
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    var scalars = String.UnicodeScalarView()
    while true {
        switch decoder.decode(&iterator) {
        case let .scalarValue(scalar): scalars.append(scalar)
        case .emptyInput: return String(scalars)
        case .error: return nil
        }
    }
}
