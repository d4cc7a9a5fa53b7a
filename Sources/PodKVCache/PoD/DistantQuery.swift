import PodKVModel

/// How a PoD cache picks the query (and logit offset) a non-owner head scores the owner's distant keys
/// with; shared by `PoDCache` and `PoDSnapKVCache` so both read adapters the same way.
struct DistantQueryRule {
    let mode: PoDDistantQuery
    let adapter: PoDAdapter?

    /// Owner layers must keep their chunk queries (owner mode, or an adapter that mixes the owner's query).
    var needsOwnerQueries: Bool { mode == .owner || adapter?.needsOwnerQuery == true }

    /// The query for `head` of non-owner layer `layer` at chunk row `row`: `ownerQueries` are the owner's saved
    /// (count, qDim) chunk queries when kept. Writes into `spare` (headDim) when it computes a new query.
    @inline(__always)
    func resolve(
        layer: Int, head: Int, row: Int, rows: AttentionRows, geometry g: KVGeometry,
        ownerQueries: UnsafeMutablePointer<Float>?, spare: UnsafeMutablePointer<Float>
    ) -> (query: UnsafePointer<Float>, bias: Float) {
        let qStride = g.headCount * g.headDim
        let own = rows.queries + row * qStride + head * g.headDim
        let owner = ownerQueries.map { UnsafePointer($0 + row * qStride + head * g.headDim) }
        if let adapter {
            let input = rows.inputs.map { $0 + row * rows.inputWidth }
            let bias = adapter.distantQuery(
                DistantQueryInput(layer: layer, head: head, position: rows.startPosition + row, query: own,
                                  ownerQuery: owner, input: input), into: spare)
            return (UnsafePointer(spare), bias)
        }
        if mode == .owner, let owner { return (owner, 0) }
        return (own, 0)
    }
}

extension PoDPlan {
    /// Layers that own a block holding at least one other layer for some KV head, [layer].
    func ownsSharedBlock(layerCount: Int) -> [Bool] {
        (0..<layerCount).map { l in
            owners.contains { row in row.enumerated().contains { $0.element == l && $0.offset != l } }
        }
    }
}
