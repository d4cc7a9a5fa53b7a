import PodKVGGUF

/// Model architectures PodKV can run. Each reads its hyperparameters from GGUF metadata under its own
/// key prefix (`llama.*`, `qwen2.*`).
public enum Architecture: String, Sendable, CaseIterable {
    /// Llama family: Llama 2/3, TinyLlama, SmolLM2, Mistral-style. Adjacent-pair RoPE, no q/k/v biases.
    case llama
    /// Qwen2 / Qwen2.5: q/k/v biases and NEOX-style RoPE.
    case qwen2
}

/// How RoPE pairs up the dimensions of a head.
public enum RopeStyle: Sendable {
    /// Dimensions (2i, 2i+1) rotate together (ggml "normal" mode; llama.cpp permutes Llama's q/k weights
    /// on conversion so that this equals Hugging Face's rotate-half).
    case adjacentPairs
    /// Dimensions (i, i + d/2) rotate together (ggml NEOX mode, used by Qwen2).
    case neox
}

/// Everything that shapes the forward pass, read from GGUF metadata alone.
public struct ModelConfig: Sendable, Equatable {
    public var architecture: Architecture
    /// `general.name`, for display.
    public var name: String
    public var layerCount: Int
    /// Width of the residual stream (`embedding_length`).
    public var modelDim: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var ffnDim: Int
    public var vocabSize: Int
    /// Longest context the model was trained for; prompts beyond it are refused.
    public var contextLength: Int
    public var ropeBase: Float
    /// Dimensions of each head that RoPE rotates (normally `headDim`).
    public var ropeDim: Int
    public var ropeStyle: RopeStyle
    /// Linear RoPE scaling factor (`rope.scaling.type = linear`): positions are divided by it. 1 = none.
    public var ropeLinearScale: Float
    public var rmsEps: Float
    /// q/k/v projections carry biases (Qwen2).
    public var hasQKVBias: Bool

    /// Query heads that share one KV head (grouped-query attention).
    public var queriesPerKVHead: Int { headCount / kvHeadCount }
    /// Width of all query heads together.
    public var qDim: Int { headCount * headDim }
    /// Width of all KV heads together.
    public var kvDim: Int { kvHeadCount * headDim }

    /// Reads the hyperparameters of `file`, refusing an unsupported architecture or inconsistent values.
    public init(gguf file: GGUFFile) throws {
        guard let archName = file.string("general.architecture") else {
            throw ModelLoadError.missingMetadata("general.architecture")
        }
        guard let arch = Architecture(rawValue: archName) else {
            throw ModelLoadError.unsupportedArchitecture(archName)
        }
        let p = archName + "."
        func required(_ key: String) throws -> Int {
            guard let v = file.int(p + key) else { throw ModelLoadError.missingMetadata(p + key) }
            guard v > 0 else { throw ModelLoadError.invalidMetadata(p + key, "must be positive, is \(v)") }
            return v
        }
        architecture = arch
        name = file.string("general.name") ?? archName
        layerCount = try required("block_count")
        modelDim = try required("embedding_length")
        headCount = try required("attention.head_count")
        kvHeadCount = file.int(p + "attention.head_count_kv") ?? headCount
        ffnDim = try required("feed_forward_length")
        contextLength = try required("context_length")
        guard kvHeadCount > 0, headCount % kvHeadCount == 0 else {
            throw ModelLoadError.invalidMetadata(
                p + "attention.head_count_kv", "\(kvHeadCount) does not divide head_count \(headCount)")
        }
        headDim = file.int(p + "attention.key_length") ?? (modelDim / headCount)
        guard headDim > 0, headDim % 2 == 0 else {
            throw ModelLoadError.invalidMetadata(p + "attention.key_length", "head size \(headDim) must be even")
        }
        if let vlen = file.int(p + "attention.value_length"), vlen != headDim {
            throw ModelLoadError.invalidMetadata(
                p + "attention.value_length", "value head size \(vlen) differs from key head size \(headDim)")
        }
        ropeDim = file.int(p + "rope.dimension_count") ?? headDim
        guard ropeDim > 0, ropeDim <= headDim, ropeDim % 2 == 0 else {
            throw ModelLoadError.invalidMetadata(p + "rope.dimension_count", "\(ropeDim) for head size \(headDim)")
        }
        ropeBase = Float(file.double(p + "rope.freq_base") ?? 10000)
        guard ropeBase > 1 else { throw ModelLoadError.invalidMetadata(p + "rope.freq_base", "\(ropeBase)") }
        ropeLinearScale = 1
        if let type = file.string(p + "rope.scaling.type"), type != "none" {
            let factor = Float(file.double(p + "rope.scaling.factor") ?? 1)
            switch type {
            case "linear":
                guard factor >= 1 else {
                    throw ModelLoadError.invalidMetadata(p + "rope.scaling.factor", "\(factor)")
                }
                ropeLinearScale = factor
            case "llama3":
                break  // llama.cpp stores the Llama-3 factors as the `rope_freqs.weight` tensor, read with the weights.
            default:
                throw ModelLoadError.unsupportedFeature("RoPE scaling type '\(type)'")
            }
        }
        rmsEps = Float(file.double(p + "attention.layer_norm_rms_epsilon") ?? 1e-5)
        ropeStyle = arch == .qwen2 ? .neox : .adjacentPairs
        hasQKVBias = arch == .qwen2
        if let v = file.int(p + "vocab_size") {
            vocabSize = v
        } else if let embd = file.tensor(named: "token_embd.weight"), embd.dimensions.count == 2 {
            vocabSize = embd.dimensions[1]
        } else {
            throw ModelLoadError.missingTensor("token_embd.weight")
        }
    }

    /// A configuration built in code (tests, tiny random models).
    public init(
        architecture: Architecture, name: String = "test", layerCount: Int, modelDim: Int, headCount: Int,
        kvHeadCount: Int, headDim: Int, ffnDim: Int, vocabSize: Int, contextLength: Int,
        ropeBase: Float = 10000, rmsEps: Float = 1e-5
    ) {
        self.architecture = architecture
        self.name = name
        self.layerCount = layerCount
        self.modelDim = modelDim
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.ffnDim = ffnDim
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.ropeBase = ropeBase
        self.ropeDim = headDim
        self.ropeStyle = architecture == .qwen2 ? .neox : .adjacentPairs
        self.ropeLinearScale = 1
        self.rmsEps = rmsEps
        self.hasQKVBias = architecture == .qwen2
    }
}

/// Why a model could not be loaded from a GGUF file.
public enum ModelLoadError: Error, CustomStringConvertible, Equatable {
    case missingMetadata(String)
    case invalidMetadata(String, String)
    case unsupportedArchitecture(String)
    case unsupportedFeature(String)
    case missingTensor(String)
    case shapeMismatch(tensor: String, expected: [Int], found: [Int])
    case unsupportedTensorType(tensor: String, type: String)

    public var description: String {
        switch self {
        case .missingMetadata(let key): "model metadata key '\(key)' is missing"
        case .invalidMetadata(let key, let why): "model metadata key '\(key)' is invalid: \(why)"
        case .unsupportedArchitecture(let a):
            "architecture '\(a)' is not supported (supported: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .unsupportedFeature(let f): "\(f) is not supported"
        case .missingTensor(let t): "tensor '\(t)' is missing from the model file"
        case .shapeMismatch(let t, let e, let f): "tensor '\(t)' has shape \(f), expected \(e) from the hyperparameters"
        case .unsupportedTensorType(let t, let type): "tensor '\(t)' has type \(type), which this operation does not support"
        }
    }
}
