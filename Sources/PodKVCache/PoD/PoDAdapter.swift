/// Per-layer parameters that change how a non-owner PoD layer scores distant tokens against its owner's
/// keys (the hook filled by `podkv adapt`). Without an adapter the distant query is the layer's own
/// query (own mode) or the owner's (owner mode), unchanged.
public protocol PoDAdapter: AnyObject, Sendable {
    /// Writes the query that non-owner layer `layer`, query head `head`, uses against the owner's distant
    /// keys. `query` and `output` hold `headDim` values (the RoPE-rotated query of that head).
    func distantQuery(layer: Int, head: Int, query: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>)
}

/// Which query a non-owner layer scores distant tokens with (POD.md §4).
public enum PoDDistantQuery: String, Sendable, CaseIterable {
    /// q_l . K_owner: the layer's own query against the owner's keys (paper v2; needs adaptation).
    case own
    /// q_owner . K_owner: reuse the owner's distant logits (paper v1 figure; better without adaptation).
    case owner
}
