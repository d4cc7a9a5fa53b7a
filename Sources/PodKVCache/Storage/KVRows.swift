import PodKVKernels

/// Key or value rows of one (layer, KV head) addressed by token position.
///
/// Two storages implement it: `PagedRows` (every position, grows page by page) and `ProximalRows`
/// (attention sinks plus a ring of the most recent positions, fixed capacity).
public protocol KVRows: AnyObject {
    var elementType: KVElementType { get }
    var rowWidth: Int { get }
    /// Pointer to the stored row of `position`; the position must be held.
    func row(_ position: Int) -> UnsafeRawPointer
    /// Bytes allocated for storage right now.
    var allocatedBytes: Int { get }
    /// Rows currently held.
    var heldRows: Int { get }
}

extension KVRows {
    /// Bytes of one stored row.
    public var rowBytes: Int { rowWidth * elementType.bytesPerValue }
}

/// Writes `width` fp32 values into storage of `type` at `dst`.
@inline(__always)
func storeRow(_ src: UnsafePointer<Float>, width: Int, type: KVElementType, into dst: UnsafeMutableRawPointer) {
    switch type {
    case .f16: VectorOps.toHalf(src, dst.assumingMemoryBound(to: Float16.self), count: width)
    case .f32: dst.assumingMemoryBound(to: Float.self).update(from: src, count: width)
    }
}
