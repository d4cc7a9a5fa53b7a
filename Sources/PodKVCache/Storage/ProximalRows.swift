/// Rows of the proximal tokens only: the first `sinkCount` positions plus a ring of the last
/// `windowCount` positions. A row leaving the window is overwritten (dropped). Storage grows with the
/// context up to `sinkCount + windowCount` rows and never beyond.
public final class ProximalRows: KVRows {
    public let elementType: KVElementType
    public let rowWidth: Int
    public let sinkCount: Int
    public let windowCount: Int
    var storage: UnsafeMutableRawPointer?
    var capacityRows = 0
    /// Positions appended so far (the ring holds the last `windowCount` of those past the sinks).
    public internal(set) var count = 0

    public init(elementType: KVElementType, rowWidth: Int, sinkCount: Int, windowCount: Int) {
        precondition(sinkCount >= 0 && windowCount >= 1)
        self.elementType = elementType
        self.rowWidth = rowWidth
        self.sinkCount = sinkCount
        self.windowCount = windowCount
    }

    deinit { storage?.deallocate() }

    /// Total rows this storage can ever hold.
    public var maxRows: Int { sinkCount + windowCount }
    public var allocatedBytes: Int { capacityRows * rowBytes }
    public var heldRows: Int { min(count, maxRows) }

    /// Whether `position` is still stored (a sink, or within the last `windowCount` positions).
    @inline(__always)
    public func holds(_ position: Int) -> Bool {
        position < count && (position < sinkCount || position >= max(sinkCount, count - windowCount))
    }

    @inline(__always)
    private func slot(_ position: Int) -> Int {
        position < sinkCount ? position : sinkCount + (position - sinkCount) % windowCount
    }

    @inline(__always)
    public func row(_ position: Int) -> UnsafeRawPointer {
        UnsafeRawPointer(storage! + slot(position) * rowBytes)
    }

    /// Appends the row of position `count`, growing storage in steps of 64 rows (capped at `maxRows`),
    /// so that allocation tracks the rows held as closely as `PagedRows` does.
    public func append(_ src: UnsafePointer<Float>) {
        let s = slot(count)
        if s >= capacityRows { grow(toAtLeast: s + 1) }
        storeRow(src, width: rowWidth, type: elementType, into: storage! + s * rowBytes)
        count += 1
    }

    private func grow(toAtLeast rows: Int) {
        let newCapacity = min(maxRows, (rows + 63) / 64 * 64)
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: newCapacity * rowBytes, alignment: 64)
        if let old = storage {
            fresh.copyMemory(from: old, byteCount: capacityRows * rowBytes)
            old.deallocate()
        }
        storage = fresh
        capacityRows = newCapacity
    }

    public func removeAll() {
        storage?.deallocate()
        storage = nil
        capacityRows = 0
        count = 0
    }
}
