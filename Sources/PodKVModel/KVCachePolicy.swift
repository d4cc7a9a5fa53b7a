import PodKVKernels

/// The shape of the attention a KV cache serves: fixed by the model.
public struct KVGeometry: Sendable, Equatable {
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    /// The model's trained context length; a cache never holds more tokens than this.
    public var contextLength: Int

    public init(layerCount: Int, headCount: Int, kvHeadCount: Int, headDim: Int, contextLength: Int) {
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.contextLength = contextLength
    }

    public init(_ config: ModelConfig) {
        self.init(
            layerCount: config.layerCount, headCount: config.headCount, kvHeadCount: config.kvHeadCount,
            headDim: config.headDim, contextLength: config.contextLength)
    }

    public var queriesPerKVHead: Int { headCount / kvHeadCount }
    /// 1 / sqrt(headDim), the attention logit scale.
    public var scale: Float { 1 / Float(headDim).squareRoot() }
}

/// One chunk of attention work handed by the model to the cache for one layer: `count` consecutive
/// tokens at positions `startPosition ..< startPosition + count`, already RoPE-rotated.
public struct AttentionRows: @unchecked Sendable {
    /// (count, headCount * headDim) query rows.
    public var queries: UnsafePointer<Float>
    /// (count, kvHeadCount * headDim) new key rows.
    public var keys: UnsafePointer<Float>
    /// (count, kvHeadCount * headDim) new value rows.
    public var values: UnsafePointer<Float>
    /// (count, headCount * headDim) where attention output is written.
    public var output: UnsafeMutablePointer<Float>
    public var count: Int
    public var startPosition: Int
    /// (count, inputWidth) the layer's normalised input rows (what the q/k/v projections read), when the
    /// caller provides them (the transformer does; a PoD adapter may read them).
    public var inputs: UnsafePointer<Float>?
    public var inputWidth: Int

    public init(
        queries: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, count: Int, startPosition: Int,
        inputs: UnsafePointer<Float>? = nil, inputWidth: Int = 0
    ) {
        self.inputs = inputs
        self.inputWidth = inputWidth
        self.queries = queries
        self.keys = keys
        self.values = values
        self.output = output
        self.count = count
        self.startPosition = startPosition
    }
}

/// Memory held by a cache for one layer.
public struct KVLayerMemory: Sendable, Equatable, Codable {
    /// Bytes allocated for keys of this layer (all KV heads).
    public var keyBytes: Int
    /// Bytes allocated for values of this layer (all KV heads).
    public var valueBytes: Int
    /// Key rows held, summed over KV heads.
    public var keyTokens: Int
    /// Value rows held, summed over KV heads.
    public var valueTokens: Int

    public init(keyBytes: Int, valueBytes: Int, keyTokens: Int, valueTokens: Int) {
        self.keyBytes = keyBytes
        self.valueBytes = valueBytes
        self.keyTokens = keyTokens
        self.valueTokens = valueTokens
    }
}

/// What a cache holds, measured from its storage, next to what its formula predicts.
public struct KVMemoryReport: Sendable, Equatable, Codable {
    /// Policy name as registered (`full`, `pod`, ...).
    public var policy: String
    /// Tokens appended to the cache so far.
    public var tokenCount: Int
    public var layers: [KVLayerMemory]
    /// Bytes the policy's formula predicts for the rows it holds (rows x row bytes, no allocation slack).
    public var formulaBytes: Int
    /// Bytes a full cache of the same element type would allocate for `tokenCount` tokens (formula).
    public var fullCacheBytes: Int
    /// Bytes of extra parameters the policy keeps besides the cache (a PoD adapter), nil when none.
    public var parameterBytes: Int?

    public init(policy: String, tokenCount: Int, layers: [KVLayerMemory], formulaBytes: Int, fullCacheBytes: Int,
                parameterBytes: Int? = nil) {
        self.parameterBytes = parameterBytes
        self.policy = policy
        self.tokenCount = tokenCount
        self.layers = layers
        self.formulaBytes = formulaBytes
        self.fullCacheBytes = fullCacheBytes
    }

    /// Bytes actually allocated, keys and values of every layer.
    public var allocatedBytes: Int { layers.reduce(0) { $0 + $1.keyBytes + $1.valueBytes } }
    /// Key/value rows actually held (summed over layers and heads).
    public var heldRows: Int { layers.reduce(0) { $0 + $1.keyTokens + $1.valueTokens } }
    /// Fraction of the full cache's bytes saved (by the formula of rows held), 0 for the full cache.
    public var saving: Double { fullCacheBytes == 0 ? 0 : 1 - Double(formulaBytes) / Double(fullCacheBytes) }
}

/// The contract between the model and a KV-cache policy.
///
/// The policy stores keys and values for every layer and computes attention over what it keeps: a
/// "give me back K and V" hook cannot express PoD, whose layers share keys and scores across a group.
/// The model calls `attend` once per layer for every chunk (a prefill chunk of many rows or a single
/// decode row), in layer order 0 ..< layerCount, then `advance(by:)` once the chunk went through every
/// layer. Attention is causal: row i sees positions 0 ... startPosition + i.
public protocol KVCachePolicy: AnyObject {
    /// Registered name of the policy (`full`, `pod`, ...).
    var name: String { get }
    var geometry: KVGeometry { get }
    /// Tokens whose keys/values have been appended, i.e. the position of the next token.
    var tokenCount: Int { get }
    /// Stores the chunk's keys/values for `layer` and writes the attention output of every query row.
    func attend(layer: Int, rows: AttentionRows, pool: ThreadPool)
    /// Marks the chunk handed to `attend` as complete in every layer.
    func advance(by count: Int)
    /// Bytes and rows held now.
    func memoryReport() -> KVMemoryReport
    /// Drops every token (a new conversation).
    func reset()
}
