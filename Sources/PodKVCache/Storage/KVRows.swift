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

    /// q . row(position), accumulated in fp32 (one row at a time; the block kernels in
    /// `attendRange` are the fast path, this serves the selection policies' scoring).
    @inline(__always)
    func dot(_ q: UnsafePointer<Float>, _ position: Int) -> Float {
        let r = row(position)
        switch elementType {
        case .f16: return VectorOps.dotHalf(q, r.assumingMemoryBound(to: Float16.self), count: rowWidth)
        case .f32: return VectorOps.dot(q, r.assumingMemoryBound(to: Float.self), count: rowWidth)
        }
    }

    /// y += a * row(position).
    @inline(__always)
    func accumulate(_ y: UnsafeMutablePointer<Float>, weight a: Float, _ position: Int) {
        let r = row(position)
        switch elementType {
        case .f16: VectorOps.axpyHalf(y, a, r.assumingMemoryBound(to: Float16.self), count: rowWidth)
        case .f32: VectorOps.axpy(y, a, r.assumingMemoryBound(to: Float.self), count: rowWidth)
        }
    }
}

/// Writes `width` fp32 values into storage of `type` at `dst`.
@inline(__always)
func storeRow(_ src: UnsafePointer<Float>, width: Int, type: KVElementType, into dst: UnsafeMutableRawPointer) {
    switch type {
    case .f16: VectorOps.toHalf(src, dst.assumingMemoryBound(to: Float16.self), count: width)
    case .f32: dst.assumingMemoryBound(to: Float.self).update(from: src, count: width)
    }
}
