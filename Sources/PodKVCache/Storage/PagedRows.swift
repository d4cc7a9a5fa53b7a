/// Rows for every position 0 ..< count, stored in fixed-size pages allocated as the context grows
/// (no full-context allocation up front; at most one partly used page per storage).
public final class PagedRows: KVRows {
    public let elementType: KVElementType
    public let rowWidth: Int
    /// Rows per page (a power of two so that position -> page is a shift).
    public let pageRows: Int
    private let pageShift: Int
    var pages: [UnsafeMutableRawPointer] = []
    /// Positions held: 0 ..< count.
    public internal(set) var count = 0

    public init(elementType: KVElementType, rowWidth: Int, pageRows: Int = 64) {
        precondition(pageRows > 0 && pageRows & (pageRows - 1) == 0, "pageRows must be a power of two")
        self.elementType = elementType
        self.rowWidth = rowWidth
        self.pageRows = pageRows
        self.pageShift = pageRows.trailingZeroBitCount
    }

    deinit { for p in pages { p.deallocate() } }

    public var allocatedBytes: Int { pages.count * pageRows * rowBytes }
    public var heldRows: Int { count }

    @inline(__always)
    public func row(_ position: Int) -> UnsafeRawPointer {
        UnsafeRawPointer(pages[position >> pageShift] + (position & (pageRows - 1)) * rowBytes)
    }

    /// Appends one row (fp32 source converted to the element type).
    public func append(_ src: UnsafePointer<Float>) {
        if count == pages.count * pageRows {
            pages.append(UnsafeMutableRawPointer.allocate(byteCount: pageRows * rowBytes, alignment: 64))
        }
        storeRow(src, width: rowWidth, type: elementType, into: pages[count >> pageShift] + (count & (pageRows - 1)) * rowBytes)
        count += 1
    }

    /// Frees every page.
    public func removeAll() {
        for p in pages { p.deallocate() }
        pages = []
        count = 0
    }
}
