import ArgumentParser
import PodKV
import PodKVCache

/// KV-cache policy flags shared by `generate`, `chat` and `bench`. They build a `PolicySpec`, the same
/// `name:key=value` form the evaluation harness and the server accept.
struct PolicyFlags: ParsableArguments {
    @Option(name: .long, help: "KV-cache policy: \(KVPolicyRegistry.names.joined(separator: ", ")); options may follow as name:key=value,...")
    var kvPolicy: String = "full"

    @Option(name: .long, help: "Attention-sink tokens kept by streaming-llm and pod (default 16).")
    var sink: Int?

    @Option(name: .long, help: "Recent-window tokens kept per layer (default 1024).")
    var window: Int?

    @Option(name: .long, help: "PoD plan file from `podkv calibrate`.")
    var podPlan: String?

    @Option(name: .long, help: "PoD uniform layer-group size (default 2).")
    var podGroupSize: Int?

    @Option(name: .long, help: "PoD distant query: own or owner (default owner unless an adapter is loaded).")
    var podDistantQuery: String?

    @Option(name: .long, help: "PoD adapter file from `podkv adapt` (made for this model and plan).")
    var podAdapter: String?

    @Option(name: .long, help: "PoD: skip the distant part when the proximal share of attention >= this (0, 1].")
    var podSkipThreshold: String?

    @Option(name: .long, help: "KV storage type: f16 (default) or f32.")
    var kvType: String?

    @Option(name: .long, help: "Token budget per layer and KV head for h2o, snapkv, pyramidkv, pod+snapkv.")
    var kvBudget: Int?

    /// The spec: `--kv-policy` text with the dedicated flags folded in.
    func spec() throws -> PolicySpec {
        var spec = try PolicySpec(parsing: kvPolicy)
        func set(_ key: String, _ value: String?) { if let v = value { spec = spec.setting(key, v) } }
        set("sink", sink.map(String.init))
        set("window", window.map(String.init))
        set("plan", podPlan)
        set("group-size", podGroupSize.map(String.init))
        set("distant-query", podDistantQuery)
        set("skip-threshold", podSkipThreshold)
        set("adapter", podAdapter)
        set("kv-type", kvType)
        set("budget", kvBudget.map(String.init))
        let descriptor = try KVPolicyRegistry.descriptor(named: spec.name)
        let known = Set(descriptor.options.map(\.key))
        for (key, _) in spec.options where !known.contains(key) {
            throw ValidationError("--\(flagName(key)) does not apply to the '\(spec.name)' policy (its options: \(descriptor.options.map(\.key).joined(separator: ", ")))")
        }
        return spec
    }

    private func flagName(_ key: String) -> String {
        switch key {
        case "plan": "pod-plan"
        case "group-size": "pod-group-size"
        case "distant-query": "pod-distant-query"
        case "skip-threshold": "pod-skip-threshold"
        case "adapter": "pod-adapter"
        case "budget": "kv-budget"
        default: key
        }
    }
}
