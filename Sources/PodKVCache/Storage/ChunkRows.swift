/// The rows of the chunk being processed, positions `start ..< start + count`, rounded to the cache's
/// element type so that a row reads back exactly as it will read from the cache later.
///
/// Policies whose storage drops rows (rings) attend to the chunk from here: a prefill chunk's early rows
/// need window positions that the chunk's later rows would already have overwritten in the ring.
/// This is transient working memory, not cache memory.
public final class ChunkRows: KVRows {
    public let elementType: KVElementType
    public let rowWidth: Int
    private var storage: UnsafeMutableRawPointer?
    private var capacity = 0
    public private(set) var start = 0
    public private(set) var count = 0

    public init(elementType: KVElementType, rowWidth: Int) {
        self.elementType = elementType
        self.rowWidth = rowWidth
    }

    deinit { storage?.deallocate() }

    public var allocatedBytes: Int { capacity * rowBytes }
    public var heldRows: Int { count }

    @inline(__always)
    public func row(_ position: Int) -> UnsafeRawPointer { UnsafeRawPointer(storage! + (position - start) * rowBytes) }

    /// Loads `count` rows from `src`, each row `stride` floats apart, for positions from `start`.
    public func load(_ src: UnsafePointer<Float>, stride: Int, count: Int, start: Int) {
        if count > capacity {
            storage?.deallocate()
            storage = UnsafeMutableRawPointer.allocate(byteCount: count * rowBytes, alignment: 64)
            capacity = count
        }
        self.start = start
        self.count = count
        for i in 0..<count { storeRow(src + i * stride, width: rowWidth, type: elementType, into: storage! + i * rowBytes) }
    }
}
