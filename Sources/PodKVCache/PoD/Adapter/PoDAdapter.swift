import PodKVModel

/// What a non-owner PoD layer knows when it scores distant tokens: the inputs an adapter may use.
/// Every pointer is valid only during the call.
public struct DistantQueryInput {
    /// The non-owner layer and the query head being scored.
    public var layer: Int
    public var head: Int
    /// Absolute position of the query row (its RoPE rotation).
    public var position: Int
    /// (headDim) the layer's own RoPE-rotated query of that head.
    public var query: UnsafePointer<Float>
    /// (headDim) the owner layer's rotated query of the same head and row, when the adapter asked for it.
    public var ownerQuery: UnsafePointer<Float>?
    /// (modelDim) the layer's normalised input row (what W_q multiplies), when the adapter asked for it.
    public var input: UnsafePointer<Float>?

    public init(layer: Int, head: Int, position: Int, query: UnsafePointer<Float>,
                ownerQuery: UnsafePointer<Float>?, input: UnsafePointer<Float>?) {
        self.layer = layer
        self.head = head
        self.position = position
        self.query = query
        self.ownerQuery = ownerQuery
        self.input = input
    }
}

/// Parameters that change how a non-owner PoD layer scores distant tokens against its owner's keys (made
/// by `podkv adapt`, POD.md §7). Without an adapter the distant query is the layer's own query (own mode)
/// or the owner's (owner mode), unchanged.
public protocol PoDAdapter: AnyObject, Sendable {
    /// Whether `distantQuery` reads `DistantQueryInput.ownerQuery` (the cache then keeps owner queries).
    var needsOwnerQuery: Bool { get }
    /// Whether `distantQuery` reads `DistantQueryInput.input`.
    var needsInput: Bool { get }
    /// Bytes of parameters the adapter holds in memory (reported next to the KV bytes it helps save).
    var parameterBytes: Int { get }
    /// Throws when the adapter was made for another model or another layer grouping.
    func validate(model: ModelFingerprint, plan: PoDPlan) throws
    /// Writes the (rotated, headDim) query that scores the owner's distant keys and returns an additive
    /// logit offset for the distant tokens (0 for none).
    func distantQuery(_ input: DistantQueryInput, into output: UnsafeMutablePointer<Float>) -> Float
}

/// Which query a non-owner layer scores distant tokens with (POD.md §4).
public enum PoDDistantQuery: String, Sendable, CaseIterable {
    /// q_l . K_owner: the layer's own query against the owner's keys (paper v2; needs adaptation). With an
    /// adapter loaded this is the adapter's query.
    case own
    /// q_owner . K_owner: reuse the owner's distant logits (paper v1 figure; better without adaptation).
    case owner
}
