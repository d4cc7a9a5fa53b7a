import Foundation

// Row storages serialize only the rows they hold, in position order for `PagedRows` and in slot order
// for `ProximalRows` (the slot of a position depends only on the count, so the ring is restored as is).

extension PagedRows {
    /// Writes `count` then the rows of positions 0 ..< count.
    func writeState(to w: inout KVStateWriter) {
        w.write(count: count)
        var position = 0
        for page in pages where position < count {
            let rows = min(pageRows, count - position)
            w.write(raw: page, count: rows * rowBytes)
            position += rows
        }
    }

    /// Replaces the contents with rows written by `writeState`, which must hold `expected` positions.
    func readState(from r: inout KVStateReader, expected: Int, _ what: String) throws {
        let n = try r.readCount("\(what) row count", limit: 1 << 24)
        guard n == expected else { throw KVStateError.corrupt("\(what) holds \(n) rows, expected \(expected)") }
        removeAll()
        guard n * rowBytes <= r.remaining else {
            throw KVStateError.truncated("\(what) needs \(n * rowBytes) bytes of rows, only \(r.remaining) left")
        }
        var position = 0
        while position < n {
            let page = UnsafeMutableRawPointer.allocate(byteCount: pageRows * rowBytes, alignment: 64)
            pages.append(page)
            let rows = min(pageRows, n - position)
            try r.read(into: page, count: rows * rowBytes, what)
            position += rows
        }
        count = n
    }
}

extension ProximalRows {
    /// Writes `count` then the held slots 0 ..< min(count, sinkCount + windowCount).
    func writeState(to w: inout KVStateWriter) {
        w.write(count: count)
        let held = heldRows
        if held > 0 { w.write(raw: storage!, count: held * rowBytes) }
    }

    /// Replaces the contents with slots written by `writeState` for `expected` appended positions.
    func readState(from r: inout KVStateReader, expected: Int, _ what: String) throws {
        let n = try r.readCount("\(what) row count", limit: 1 << 24)
        guard n == expected else { throw KVStateError.corrupt("\(what) holds \(n) positions, expected \(expected)") }
        removeAll()
        let held = min(n, maxRows)
        guard held > 0 else { return }
        // Same capacity as growing row by row would have reached: held rounded up to 64, capped.
        let capacity = min(maxRows, (held + 63) / 64 * 64)
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: capacity * rowBytes, alignment: 64)
        do {
            try r.read(into: fresh, count: held * rowBytes, what)
        } catch {
            fresh.deallocate()
            throw error
        }
        storage = fresh
        capacityRows = capacity
        count = n
    }
}
