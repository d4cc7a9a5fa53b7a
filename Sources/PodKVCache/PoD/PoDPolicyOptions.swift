import PodKVModel

extension PolicyOption {
    static let podPlan = PolicyOption("plan", "", "PoD plan file from `podkv calibrate` (instead of group-size)")
    static let podGroupSize = PolicyOption("group-size", "2", "uniform contiguous layer groups of this size (>= 1; 1 = full cache)")
    static let podDistantQuery = PolicyOption(
        "distant-query", "owner", "own: q_l . K_owner; owner: reuse the owner's distant scores (default unless an adapter is loaded)")
    static let podAdapter = PolicyOption("adapter", "", "PoD adapter file from `podkv adapt` (made for this model and plan)")
}

/// The PoD parts shared by `pod` and `pod+snapkv`: the layer grouping, the distant-query mode and the
/// adapter, read from a policy's options and checked against the model and each other.
struct PoDPolicySetup {
    var plan: PoDPlan
    var mode: PoDDistantQuery
    var adapter: PoDAdapter?

    init(policy: String, options opts: PolicyOptionReader, geometry: KVGeometry, context: PolicyContext,
         sink: Int, window: Int) throws {
        if let path = opts.string("plan") {
            if opts.string("group-size") != nil {
                throw PolicyError.invalidCombination(policy: policy, why: "give either plan or group-size, not both")
            }
            plan = try PoDPlan.load(path: path)
            try plan.validate(for: context.model)
        } else {
            plan = try PoDPlan.uniform(groupSize: try opts.int("group-size", default: 2, in: 1...geometry.layerCount), model: context.model)
        }
        if let path = opts.string("adapter") {
            if context.adapter != nil {
                throw PolicyError.invalidCombination(policy: policy, why: "an adapter is already loaded by the caller; drop adapter=\(path)")
            }
            adapter = try PoDQueryAdapter.load(path: path)
        } else {
            adapter = context.adapter
        }
        if let adapter {
            try adapter.validate(model: context.model, plan: plan)
            if opts.string("distant-query") == PoDDistantQuery.owner.rawValue {
                throw PoDAdapterError.modeConflict("an adapter defines the distant query itself; drop distant-query=owner")
            }
            if let made = adapter as? PoDQueryAdapter, made.info.sink != sink || made.info.window != window {
                context.warn("\(policy): the adapter was fitted for sink \(made.info.sink), window \(made.info.window); running with sink \(sink), window \(window)")
            }
            mode = .own
        } else {
            mode = try opts.choice("distant-query", default: PoDDistantQuery.owner)
            if mode == .own {
                context.warn("\(policy): distant-query=own without an adapter scores distant tokens with keys from another layer's projection; quality drops sharply on small models (POD.md §4)")
            }
        }
    }
}
