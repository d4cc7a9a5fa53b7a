/// Rows of an arbitrary set of token positions of one (layer, KV head), addressed by slot.
///
/// Token-selection policies (H2O, SnapKV, PyramidKV, PoD + SnapKV) keep a subset of the positions seen
/// so far. Each kept row lives in a slot `0 ..< count`; `positions[slot]` is the token position it
/// holds (keys keep the RoPE rotation of that original position). `KVRows.row(_:)` is indexed by slot
/// here, not by position, so `attendRange` over a slot range attends to exactly the kept rows.
///
/// Storage grows in steps of 64 rows as rows are appended. `compact(keeping:)` moves the kept rows into a
/// fresh, smaller allocation and frees the old one: a selection that drops rows really returns memory.
public final class SelectedRows: KVRows {
    public let elementType: KVElementType
    public let rowWidth: Int
    private var storage: UnsafeMutableRawPointer?
    private var capacityRows = 0
    /// (count) token position held by each slot.
    public private(set) var positions: [Int] = []

    /// Empty storage for rows of `rowWidth` values stored as `elementType`; nothing is allocated yet.
    public init(elementType: KVElementType, rowWidth: Int) {
        self.elementType = elementType
        self.rowWidth = rowWidth
    }

    deinit { storage?.deallocate() }

    /// Rows held (slots in use).
    public var count: Int { positions.count }
    /// Bytes of the current allocation (capacity, not only the rows in use).
    public var allocatedBytes: Int { capacityRows * rowBytes }
    /// Rows held (same as `count`).
    public var heldRows: Int { positions.count }

    /// The stored row of `slot` (not of a token position).
    @inline(__always)
    public func row(_ slot: Int) -> UnsafeRawPointer { UnsafeRawPointer(storage! + slot * rowBytes) }

    /// Appends the fp32 row `src` (converted to the element type) for token `position` in a new slot.
    public func append(_ src: UnsafePointer<Float>, position: Int) {
        if positions.count == capacityRows { reallocate(capacity: capacityRows + 64) }
        storeRow(src, width: rowWidth, type: elementType, into: storage! + positions.count * rowBytes)
        positions.append(position)
    }

    /// Overwrites `slot` with the row of another token (an eviction that reuses the slot, as H2O does).
    public func overwrite(slot: Int, with src: UnsafePointer<Float>, position: Int) {
        precondition(slot < positions.count, "slot \(slot) is not in use")
        storeRow(src, width: rowWidth, type: elementType, into: storage! + slot * rowBytes)
        positions[slot] = position
    }

    /// Keeps only `slots` (ascending, distinct), in that order, in a new allocation rounded up to 64 rows;
    /// the old allocation is freed.
    public func compact(keeping slots: [Int]) {
        let newCapacity = (slots.count + 63) / 64 * 64
        let fresh: UnsafeMutableRawPointer? =
            newCapacity == 0 ? nil : UnsafeMutableRawPointer.allocate(byteCount: newCapacity * rowBytes, alignment: 64)
        var kept: [Int] = []
        kept.reserveCapacity(slots.count)
        for (i, s) in slots.enumerated() {
            fresh!.advanced(by: i * rowBytes).copyMemory(from: storage! + s * rowBytes, byteCount: rowBytes)
            kept.append(positions[s])
        }
        storage?.deallocate()
        storage = fresh
        capacityRows = newCapacity
        positions = kept
    }

    /// Frees every row.
    public func removeAll() {
        storage?.deallocate()
        storage = nil
        capacityRows = 0
        positions = []
    }

    private func reallocate(capacity: Int) {
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: capacity * rowBytes, alignment: 64)
        if let old = storage {
            fresh.copyMemory(from: old, byteCount: positions.count * rowBytes)
            old.deallocate()
        }
        storage = fresh
        capacityRows = capacity
    }
}
