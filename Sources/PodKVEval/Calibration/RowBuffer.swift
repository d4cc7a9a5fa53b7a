/// A growable fp32 matrix of `width`-wide rows, appended a chunk at a time (the recorder's key or value
/// store for one layer). Capacity doubles, so a 2K-token calibration sample reallocates a dozen times.
final class RowBuffer: @unchecked Sendable {
    let width: Int
    private(set) var rowCount = 0
    private(set) var capacity = 0
    /// (capacity, width) row-major; rows 0 ..< rowCount are valid.
    private(set) var base: UnsafeMutablePointer<Float>

    init(width: Int) {
        self.width = width
        base = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    }

    deinit { base.deallocate() }

    /// Appends `count` rows read from `rows`, (count, width) row-major.
    func append(_ rows: UnsafePointer<Float>, count: Int) {
        reserve(rowCount + count)
        (base + rowCount * width).update(from: rows, count: count * width)
        rowCount += count
    }

    /// Row `i`, `width` floats.
    @inline(__always)
    func row(_ i: Int) -> UnsafePointer<Float> { UnsafePointer(base + i * width) }

    func removeAll() { rowCount = 0 }

    var allocatedBytes: Int { capacity * width * MemoryLayout<Float>.stride }

    private func reserve(_ rows: Int) {
        guard rows > capacity else { return }
        let newCapacity = max(rows, max(64, capacity * 2))
        let fresh = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * width)
        fresh.update(from: base, count: rowCount * width)
        base.deallocate()
        base = fresh
        capacity = newCapacity
    }
}
