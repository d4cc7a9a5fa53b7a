import Foundation
import PodKVKernels
import PodKVModel

/// The adapter made by `podkv adapt` (POD.md §7): for each non-owner layer and query head, the query that
/// scores the owner's distant keys is a learned mix of the layer's own query and the owner's query (one
/// complex scale per rotary pair each, so it commutes with RoPE), plus an optional low-rank correction read
/// from the layer's input, plus a logit offset that sets how much weight distant tokens get against
/// proximal ones. `PoDAdapterLayout` documents the formula and the parameter layout.
public final class PoDQueryAdapter: PoDAdapter, @unchecked Sendable {
    /// What the adapter was made for and how (saved in the file's header).
    public struct Info: Sendable, Equatable, Codable {
        public var model: ModelFingerprint
        /// The plan's owners, [kvHead][layer]: an adapter only fits the grouping it was trained for.
        public var owners: [[Int]]
        public var sink: Int
        public var window: Int
        /// `identity`, `closed-form` or `distill`.
        public var method: String
        public var layout: PoDAdapterLayout
        public var pairs: RotaryPairs
        /// Free-form training facts (tokens, steps, seconds, data, losses) for reports.
        public var training: [String: String]

        public init(model: ModelFingerprint, owners: [[Int]], sink: Int, window: Int, method: String,
                    layout: PoDAdapterLayout, pairs: RotaryPairs, training: [String: String] = [:]) {
            self.model = model
            self.owners = owners
            self.sink = sink
            self.window = window
            self.method = method
            self.layout = layout
            self.pairs = pairs
            self.training = training
        }
    }

    public let info: Info
    public let weights: PoDAdapterWeights
    public let needsOwnerQuery: Bool
    public let needsInput: Bool

    public init(info: Info, weights: PoDAdapterWeights) {
        precondition(info.layout == weights.layout)
        self.info = info
        self.weights = weights
        let lay = info.layout
        var owner = false, input = false
        for l in weights.adaptedLayers {
            let p = weights.layers[l]
            if p[lay.ownerScale..<lay.bias].contains(where: { $0 != 0 }) { owner = true }
            if lay.rank > 0, p[lay.up..<lay.count].contains(where: { $0 != 0 }) { input = true }
        }
        needsOwnerQuery = owner
        needsInput = input
    }

    public var parameterBytes: Int { weights.parameterBytes }

    public func validate(model: ModelFingerprint, plan: PoDPlan) throws {
        if let why = info.model.mismatch(with: model) { throw PoDAdapterError.wrongModel(why) }
        guard plan.owners == info.owners else {
            throw PoDAdapterError.wrongPlan("the adapter was made for owners \(info.owners), the policy's plan has \(plan.owners)")
        }
    }

    public func distantQuery(_ input: DistantQueryInput, into output: UnsafeMutablePointer<Float>) -> Float {
        let lay = info.layout
        return weights.layers[input.layer].withUnsafeBufferPointer { pb in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, lay.rank) + lay.headDim) { tmp in
                Self.distantQuery(
                    parameters: pb.baseAddress!, layout: lay, pairs: info.pairs, head: input.head, position: input.position,
                    query: input.query, ownerQuery: needsOwnerQuery ? input.ownerQuery : nil,
                    input: needsInput ? input.input : nil, scratch: tmp.baseAddress!, into: output)
            }
        }
    }

    /// The adapter's formula for one head (`PoDAdapterLayout`), shared by inference and training: writes q'
    /// (headDim) into `output` and returns the distant logit offset. A nil `ownerQuery` or `input` drops that
    /// term. `scratch` holds rank + headDim floats; on return its first `rank` floats are the low-rank code
    /// A x (training reuses it for the backward pass).
    @inline(__always)
    public static func distantQuery(
        parameters p: UnsafePointer<Float>, layout lay: PoDAdapterLayout, pairs: RotaryPairs, head: Int, position: Int,
        query: UnsafePointer<Float>, ownerQuery: UnsafePointer<Float>?, input: UnsafePointer<Float>?,
        scratch: UnsafeMutablePointer<Float>, into output: UnsafeMutablePointer<Float>
    ) -> Float {
        let d = lay.headDim
        output.initialize(repeating: 0, count: d)
        pairs.addScaled(query, scale: p + lay.ownScale + head * d, into: output)
        if let qa = ownerQuery { pairs.addScaled(qa, scale: p + lay.ownerScale + head * d, into: output) }
        if let x = input, lay.rank > 0 {
            let u = scratch, w = scratch + lay.rank
            for r in 0..<lay.rank { u[r] = VectorOps.dot(p + lay.down + r * lay.inputWidth, x, count: lay.inputWidth) }
            for i in 0..<d { w[i] = VectorOps.dot(p + lay.up + (head * d + i) * lay.rank, UnsafePointer(u), count: lay.rank) }
            pairs.rotate(w, position: position)
            for i in 0..<d { output[i] += w[i] }
        }
        return p[lay.bias + head]
    }
}

/// Why an adapter file cannot be used.
public enum PoDAdapterError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, why: String)
    case malformed(path: String, why: String)
    case unsupportedVersion(path: String, version: Int)
    case wrongModel(String)
    case wrongPlan(String)
    case modeConflict(String)

    public var description: String {
        switch self {
        case .unreadable(let p, let why): "cannot read PoD adapter '\(p)': \(why)"
        case .malformed(let p, let why): "'\(p)' is not a valid PoD adapter: \(why)"
        case .unsupportedVersion(let p, let v): "PoD adapter '\(p)' has version \(v); this build reads version \(PoDQueryAdapter.fileVersion)"
        case .wrongModel(let why): "the PoD adapter was made for another model: \(why)"
        case .wrongPlan(let why): "the PoD adapter was made for another layer grouping: \(why)"
        case .modeConflict(let why): "PoD adapter: \(why)"
        }
    }
}
