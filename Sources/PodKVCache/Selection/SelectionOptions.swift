import PodKVModel

/// Options shared by the token-selection policies (h2o, snapkv, pyramidkv, pod+snapkv).
extension PolicyOption {
    /// `budget`: tokens kept per layer and KV head (the `--kv-budget N` of the evaluation harness).
    static func budget(_ defaultText: String, _ help: String) -> PolicyOption { PolicyOption("budget", defaultText, help) }
    /// `kernel`: SnapKV's max-pooling kernel (odd, >= 1).
    static let poolKernel = PolicyOption("kernel", "7", "max-pooling kernel over the observation votes (odd, >= 1; 1 = no pooling)")
}

extension PolicyOptionReader {
    /// An explicitly given `budget`, checked against `minimum ... contextLength`.
    func explicitBudget(minimum: Int, why: String, geometry: KVGeometry) throws -> Int? {
        guard let text = spec.value("budget") else { return nil }
        guard let v = Int(text) else {
            throw PolicyError.invalidOption(policy: descriptor.name, key: "budget", value: text, why: "not an integer")
        }
        guard v >= minimum, v <= geometry.contextLength else {
            throw PolicyError.invalidOption(
                policy: descriptor.name, key: "budget", value: text,
                why: "must be in \(minimum)...\(geometry.contextLength) (\(why), at most the model's context length)")
        }
        return v
    }

    /// The pooling kernel: odd so that pooling is centred on each token.
    func poolKernel() throws -> Int {
        let k = try int("kernel", default: 7, in: 1...1023)
        guard k % 2 == 1 else {
            throw PolicyError.invalidOption(policy: descriptor.name, key: "kernel", value: String(k), why: "must be odd (a centred window)")
        }
        return k
    }
}
