/// Where each kind of adapter parameter sits in one layer's flat parameter vector (so an optimizer and a
/// checkpoint can treat a layer as one array). Per layer, in order:
///   own-query complex scales   (headCount * headDim: (re, im) of pair j of head h at h*headDim + 2j)
///   owner-query complex scales (same shape)
///   distant logit bias         (headCount)
///   down projection A          (rank, inputWidth), row-major
///   up projection B            (headCount * headDim, rank), row-major, pre-rotation dims
/// The distant query of head h at position p is
///   q' = s_own[h] ⊙ q_l + s_owner[h] ⊙ q_owner + RoPE_p(B[h] (A x)),   logits + bias[h].
public struct PoDAdapterLayout: Sendable, Equatable, Codable {
    public let headCount: Int
    public let headDim: Int
    public let inputWidth: Int
    public let rank: Int

    public init(headCount: Int, headDim: Int, inputWidth: Int, rank: Int) {
        self.headCount = headCount
        self.headDim = headDim
        self.inputWidth = inputWidth
        self.rank = rank
    }

    public var ownScale: Int { 0 }
    public var ownerScale: Int { headCount * headDim }
    public var bias: Int { 2 * headCount * headDim }
    public var down: Int { bias + headCount }
    public var up: Int { down + rank * inputWidth }
    /// Floats per layer.
    public var count: Int { up + headCount * headDim * rank }

    /// A layer's parameters that leave the own query unchanged: scale 1 on it, everything else 0.
    public func identity() -> [Float] {
        var p = [Float](repeating: 0, count: count)
        for h in 0..<headCount {
            for j in 0..<(headDim / 2) { p[ownScale + h * headDim + 2 * j] = 1 }
        }
        return p
    }
}

/// The numbers of an adapter: one flat vector per layer (`PoDAdapterLayout`) and which (layer, head)
/// pairs it adapts (the non-owner ones of its plan; the rest keep their parameters unused).
public struct PoDAdapterWeights: Sendable, Equatable {
    public let layout: PoDAdapterLayout
    /// [layer] layout.count floats.
    public var layers: [[Float]]
    /// [layer][query head] true where the head scores an owner's distant keys.
    public let adapted: [[Bool]]

    public init(layout: PoDAdapterLayout, layers: [[Float]], adapted: [[Bool]]) {
        precondition(layers.allSatisfy { $0.count == layout.count } && layers.count == adapted.count)
        self.layout = layout
        self.layers = layers
        self.adapted = adapted
    }

    /// Identity weights for the non-owner heads of `plan` (query heads map to KV heads in groups).
    public static func identity(plan: PoDPlan, layout: PoDAdapterLayout) -> PoDAdapterWeights {
        let layerCount = plan.owners.first?.count ?? 0
        let perKV = layout.headCount / max(1, plan.owners.count)
        let adapted = (0..<layerCount).map { l in
            (0..<layout.headCount).map { head in plan.owners[head / perKV][l] != l }
        }
        return PoDAdapterWeights(layout: layout, layers: Array(repeating: layout.identity(), count: layerCount), adapted: adapted)
    }

    /// Weights that reproduce training-free owner mode: own scale 0, owner scale 1 on every adapted head.
    public static func ownerMode(plan: PoDPlan, layout: PoDAdapterLayout) -> PoDAdapterWeights {
        var w = identity(plan: plan, layout: layout)
        for l in w.adaptedLayers {
            for h in 0..<layout.headCount where w.adapted[l][h] {
                for j in 0..<(layout.headDim / 2) {
                    w.layers[l][layout.ownScale + h * layout.headDim + 2 * j] = 0
                    w.layers[l][layout.ownerScale + h * layout.headDim + 2 * j] = 1
                }
            }
        }
        return w
    }

    /// Layers with at least one adapted head.
    public var adaptedLayers: [Int] { adapted.indices.filter { adapted[$0].contains(true) } }

    /// Parameters that matter (adapted layers only), in bytes of fp32.
    public var parameterBytes: Int { adaptedLayers.count * layout.count * MemoryLayout<Float>.stride }
}
