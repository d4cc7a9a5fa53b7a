import PodKVModel

/// What a policy may need beyond its own settings: the model it serves and optional PoD parts.
public struct PolicyContext: Sendable {
    public var model: ModelFingerprint
    /// A PoD adapter loaded by the caller (`podkv adapt` output), if any.
    public var adapter: PoDAdapter?
    /// Called with warnings worth showing the user (e.g. own-query mode without an adapter).
    public var warn: @Sendable (String) -> Void

    public init(model: ModelFingerprint, adapter: PoDAdapter? = nil, warn: @escaping @Sendable (String) -> Void = { _ in }) {
        self.model = model
        self.adapter = adapter
        self.warn = warn
    }
}

/// One documented option of a policy.
public struct PolicyOption: Sendable {
    public var key: String
    public var defaultValue: String
    public var help: String

    public init(_ key: String, _ defaultValue: String, _ help: String) {
        self.key = key
        self.defaultValue = defaultValue
        self.help = help
    }
}

/// A registered policy: its name, paper, options and how to build it.
public struct PolicyDescriptor: Sendable {
    public var name: String
    public var summary: String
    public var reference: String
    public var options: [PolicyOption]
    /// Whether the policy selects tokens when the first single-row (decode) chunk arrives after a prompt,
    /// so that prompt chunks alone never compress it (the SnapKV family). Evaluation feeds such policies
    /// scored text row by row, and budgets count the rows they decode.
    public var compressesAtDecode: Bool
    public var make: @Sendable (PolicyOptionReader, KVGeometry, PolicyContext) throws -> KVCachePolicy

    public init(
        name: String, summary: String, reference: String, options: [PolicyOption], compressesAtDecode: Bool = false,
        make: @escaping @Sendable (PolicyOptionReader, KVGeometry, PolicyContext) throws -> KVCachePolicy
    ) {
        self.compressesAtDecode = compressesAtDecode
        self.name = name
        self.summary = summary
        self.reference = reference
        self.options = options
        self.make = make
    }
}

/// The one list of KV-cache policies that the CLI, the tests, the evaluation harness and the server read.
/// Adding a policy is one file plus one line here.
public enum KVPolicyRegistry {
    public static let all: [PolicyDescriptor] = [
        FullCache.descriptor,
        StreamingLLMCache.windowDescriptor,
        StreamingLLMCache.descriptor,
        PoDCache.descriptor,
        H2OCache.descriptor,
        SnapKVCache.descriptor,
        PyramidKVCache.descriptor,
        PoDSnapKVCache.descriptor,
    ]

    public static var names: [String] { all.map(\.name) }

    public static func descriptor(named name: String) throws -> PolicyDescriptor {
        guard let d = all.first(where: { $0.name == name }) else { throw PolicyError.unknownPolicy(name, known: names) }
        return d
    }

    /// Builds the policy `spec` describes for a model of `geometry`.
    public static func make(_ spec: PolicySpec, geometry: KVGeometry, context: PolicyContext) throws -> KVCachePolicy {
        let d = try descriptor(named: spec.name)
        return try d.make(try PolicyOptionReader(spec: spec, descriptor: d), geometry, context)
    }
}

// MARK: - Shared option helpers

extension PolicyOption {
    static let kvType = PolicyOption("kv-type", "f16", "storage of keys/values: f16 or f32")
    static func sink(_ d: Int) -> PolicyOption { PolicyOption("sink", String(d), "attention-sink tokens always kept (>= 0)") }
    static func window(_ d: Int) -> PolicyOption { PolicyOption("window", String(d), "recent tokens kept (>= 1)") }
}

extension PolicyOptionReader {
    func kvType() throws -> KVElementType { try choice("kv-type", default: KVElementType.f16) }

    /// Sink and window, checked against the model's context length.
    func sinkWindow(sink ds: Int, window dw: Int, geometry: KVGeometry) throws -> (sink: Int, window: Int) {
        let sink = try int("sink", default: ds, in: 0...geometry.contextLength)
        let window = try int("window", default: dw, in: 1...geometry.contextLength)
        if sink + window > geometry.contextLength, spec.value("window") != nil || spec.value("sink") != nil {
            throw PolicyError.invalidCombination(
                policy: descriptor.name,
                why: "sink \(sink) + window \(window) exceeds the model's context length \(geometry.contextLength)")
        }
        return (sink, window)
    }
}

extension FullCache {
    static let descriptor = PolicyDescriptor(
        name: "full", summary: "every layer keeps every token (exact baseline)", reference: "-",
        options: [.kvType]
    ) { opts, geometry, _ in
        FullCache(geometry: geometry, elementType: try opts.kvType())
    }
}

extension StreamingLLMCache {
    static let descriptor = PolicyDescriptor(
        name: "streaming-llm", summary: "attention sinks + recent window, the rest dropped",
        reference: "Xiao et al., arXiv 2309.17453", options: [.sink(16), .window(1024), .kvType]
    ) { opts, geometry, _ in
        let (sink, window) = try opts.sinkWindow(sink: 16, window: 1024, geometry: geometry)
        return StreamingLLMCache(name: "streaming-llm", geometry: geometry, sink: sink, window: window, elementType: try opts.kvType())
    }

    static let windowDescriptor = PolicyDescriptor(
        name: "window", summary: "recent window only (sliding-window attention)",
        reference: "baseline in arXiv 2309.17453", options: [.window(1024), .kvType]
    ) { opts, geometry, _ in
        let window = try opts.int("window", default: 1024, in: 1...geometry.contextLength)
        return StreamingLLMCache(name: "window", geometry: geometry, sink: 0, window: window, elementType: try opts.kvType())
    }
}

extension PoDCache {
    static let descriptor = PolicyDescriptor(
        name: "pod", summary: "proximal tokens per layer, distant keys shared across layer groups",
        reference: "arXiv 2412.02252",
        options: [
            .sink(16), .window(1024),
            .podGroupSize, .podPlan, .podDistantQuery, .podAdapter,
            PolicyOption("skip-threshold", "off", "skip the distant part when Z_P/(Z_P+Z_D) >= tau, tau in (0, 1]"),
            .kvType,
        ]
    ) { opts, geometry, context in
        let (sink, window) = try opts.sinkWindow(sink: 16, window: 1024, geometry: geometry)
        let pod = try PoDPolicySetup(policy: "pod", options: opts, geometry: geometry, context: context, sink: sink, window: window)
        let tau = try opts.optionalFloat("skip-threshold", in: 0...1, openLower: true)
        return PoDCache(
            geometry: geometry, plan: pod.plan, sink: sink, window: window, distantQuery: pod.mode, skipThreshold: tau,
            adapter: pod.adapter, elementType: try opts.kvType())
    }
}
