import Foundation
import PodKVKernels

/// An opened GGUF file: its metadata and tensor table, with tensor data left in place in a read-only
/// memory mapping (or, for `init(bytes:)`, in a private heap copy).
///
/// Opening parses and validates the whole header (see `GGUFParser` for the layout and `GGUFError` for
/// what is refused), so once `init` returns every tensor lies inside the file, is of a supported type,
/// and shares no bytes with another tensor. Tensor data is never copied; `data(of:)` points into the
/// mapping and stays valid as long as this object lives. The class is immutable after `init` apart
/// from a lock-protected cache, hence `@unchecked Sendable`.
public final class GGUFFile: @unchecked Sendable {
    /// The metadata key that sets the data alignment.
    public static let alignmentKey = "general.alignment"

    /// The path the file was opened from; nil for `init(bytes:)`.
    public let path: String?
    /// GGUF version, 2 or 3.
    public let version: Int
    /// Size of the whole file in bytes.
    public let fileSize: Int
    /// Alignment of tensor data in bytes (`general.alignment`, default 32).
    public let alignment: Int
    /// Absolute offset where the tensor data section starts.
    public let dataOffset: Int
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]

    let storage: FileBytes
    let entries: [String: MetadataEntry]
    private let tensorIndex: [String: Int]
    private let metadataLock = NSLock()
    private var metadataCache: [String: GGUFValue]?

    /// Opens and validates the GGUF file at `path`, memory-mapping it read-only.
    /// - Throws: `GGUFError` naming the first problem found.
    public convenience init(path: String) throws(GGUFError) {
        try self.init(storage: try FileBytes(mapping: path), path: path)
    }

    /// Parses an in-memory GGUF image (tests, fuzzing, files built by `GGUFWriter`). The bytes are copied
    /// once into an aligned buffer so tensor pointers behave as they do for mapped files.
    /// - Throws: `GGUFError` naming the first problem found.
    public convenience init(bytes: [UInt8]) throws(GGUFError) {
        try self.init(storage: FileBytes(copying: bytes), path: nil)
    }

    private init(storage: FileBytes, path: String?) throws(GGUFError) {
        let parsed = try GGUFParser.parse(storage.buffer)
        self.storage = storage
        self.path = path
        self.version = parsed.version
        self.fileSize = storage.buffer.count
        self.alignment = parsed.alignment
        self.dataOffset = parsed.dataOffset
        self.metadataKeys = parsed.metadataKeys
        self.entries = parsed.entries
        self.tensors = parsed.tensors
        self.tensorIndex = Dictionary(uniqueKeysWithValues: parsed.tensors.enumerated().map { ($1.name, $0) })
    }

    /// Every metadata value, fully decoded. Built on first use and cached: for a tokenizer-sized file this
    /// wraps hundreds of thousands of array elements, which the typed accessors below avoid.
    public var metadata: [String: GGUFValue] {
        metadataLock.lock()
        defer { metadataLock.unlock() }
        if let metadataCache { return metadataCache }
        var decoded: [String: GGUFValue] = [:]
        decoded.reserveCapacity(entries.count)
        for (key, entry) in entries { decoded[key] = entry.value(in: storage.buffer) }
        metadataCache = decoded
        return decoded
    }

    /// The metadata value for `key`, decoded on its own (cheaper than `metadata[key]` the first time).
    public func value(_ key: String) -> GGUFValue? {
        entries[key]?.value(in: storage.buffer)
    }

    /// The tensor called `name`, if present.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// Pointer to the first byte of `tensor`'s data (`tensor.byteCount` bytes, read-only), valid while this
    /// file object lives. `tensor` must come from this file.
    public func data(of tensor: GGUFTensorInfo) -> UnsafeRawPointer {
        bytes(of: tensor).baseAddress!
    }

    /// The data of `tensor` as a buffer of `tensor.byteCount` bytes; same lifetime rule as `data(of:)`.
    public func bytes(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        precondition(tensor.offset >= 0 && tensor.byteCount <= fileSize - tensor.offset,
                     "tensor '\(tensor.name)' does not belong to this GGUF file")
        return UnsafeRawBufferPointer(rebasing: storage.buffer[tensor.offset..<tensor.offset + tensor.byteCount])
    }
}
