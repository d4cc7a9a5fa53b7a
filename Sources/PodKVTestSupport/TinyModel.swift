import Foundation
import PodKVGGUF
import PodKVKernels
import PodKVModel

/// Builds small random GGUF models for tests: real files through the real loader, in milliseconds.
public enum TinyModel {
    /// Hyperparameters of a tiny model.
    public struct Shape: Sendable {
        public var architecture: Architecture = .llama
        public var layerCount = 4
        public var modelDim = 64
        public var headCount = 4
        public var kvHeadCount = 2
        public var ffnDim = 96
        public var contextLength = 1024
        public var tiedOutput = true
        public var matrixType: TensorType = .f32
        public init() {}
    }

    /// The GPT-2 byte-to-character map: printable bytes stand for themselves, the rest are shifted past 255.
    static func byteCharacters() -> [String] {
        var printable = Array(33...126) + Array(161...172) + Array(174...255)
        var extra = 0
        var map = [String](repeating: "", count: 256)
        for b in 0..<256 {
            if printable.contains(b) {
                map[b] = String(UnicodeScalar(UInt8(b)))
            } else {
                map[b] = String(UnicodeScalar(UInt32(256 + extra))!)
                extra += 1
            }
        }
        printable.removeAll()
        return map
    }

    /// GGUF bytes of a random model with a byte-level vocabulary (256 bytes, `<|im_start|>`, `<|im_end|>`, one merge).
    public static func bytes(_ shape: Shape = Shape(), seed: UInt64 = 1) throws -> [UInt8] {
        var rng = SplitMix(seed)
        let s = shape
        let headDim = s.modelDim / s.headCount
        let arch = s.architecture.rawValue
        var w = GGUFWriter()
        w.set("general.architecture", .string(arch))
        w.set("general.name", .string("tiny-\(arch)"))
        w.set("\(arch).block_count", .uint32(UInt32(s.layerCount)))
        w.set("\(arch).embedding_length", .uint32(UInt32(s.modelDim)))
        w.set("\(arch).attention.head_count", .uint32(UInt32(s.headCount)))
        w.set("\(arch).attention.head_count_kv", .uint32(UInt32(s.kvHeadCount)))
        w.set("\(arch).feed_forward_length", .uint32(UInt32(s.ffnDim)))
        w.set("\(arch).context_length", .uint32(UInt32(s.contextLength)))
        w.set("\(arch).rope.freq_base", .float32(10000))
        w.set("\(arch).attention.layer_norm_rms_epsilon", .float32(1e-5))
        let tokens = byteCharacters() + ["<|im_start|>", "<|im_end|>", "ab"]
        w.set("tokenizer.ggml.model", .string("gpt2"))
        w.set("tokenizer.ggml.pre", .string("gpt2"))
        w.set("tokenizer.ggml.tokens", .array(tokens.map { .string($0) }))
        w.set("tokenizer.ggml.token_type", .array(tokens.indices.map { .int32($0 == 256 || $0 == 257 ? 3 : 1) }))
        w.set("tokenizer.ggml.merges", .array([.string("a b")]))
        w.set("tokenizer.ggml.eos_token_id", .uint32(257))
        w.set("tokenizer.ggml.bos_token_id", .uint32(256))
        w.set("tokenizer.ggml.add_bos_token", .bool(false))
        w.set("tokenizer.chat_template", .string("{% for message in messages %}<|im_start|>{{ message.role }}\n{{ message.content }}<|im_end|>\n{% endfor %}"))
        let vocab = tokens.count

        func matrix(_ name: String, rows: Int, cols: Int, scale: Float) throws {
            let values = (0..<(rows * cols)).map { _ in rng.float() * scale }
            try w.addTensor(name: name, dimensions: [cols, rows], floats: values)
        }
        func vector(_ name: String, _ n: Int, around base: Float, spread: Float) throws {
            try w.addTensor(name: name, dimensions: [n], floats: (0..<n).map { _ in base + rng.float() * spread })
        }
        let d = s.modelDim, kvDim = s.kvHeadCount * headDim
        try matrix("token_embd.weight", rows: vocab, cols: d, scale: 1)
        try vector("output_norm.weight", d, around: 1, spread: 0.1)
        if !s.tiedOutput { try matrix("output.weight", rows: vocab, cols: d, scale: 0.5) }
        let ws = 1 / Float(d).squareRoot() * 1.7
        for l in 0..<s.layerCount {
            let b = "blk.\(l)."
            try vector(b + "attn_norm.weight", d, around: 1, spread: 0.1)
            try matrix(b + "attn_q.weight", rows: d, cols: d, scale: ws)
            try matrix(b + "attn_k.weight", rows: kvDim, cols: d, scale: ws)
            try matrix(b + "attn_v.weight", rows: kvDim, cols: d, scale: ws)
            try matrix(b + "attn_output.weight", rows: d, cols: d, scale: ws)
            if s.architecture == .qwen2 {
                try vector(b + "attn_q.bias", d, around: 0, spread: 0.2)
                try vector(b + "attn_k.bias", kvDim, around: 0, spread: 0.2)
                try vector(b + "attn_v.bias", kvDim, around: 0, spread: 0.2)
            }
            try vector(b + "ffn_norm.weight", d, around: 1, spread: 0.1)
            try matrix(b + "ffn_gate.weight", rows: s.ffnDim, cols: d, scale: ws)
            try matrix(b + "ffn_up.weight", rows: s.ffnDim, cols: d, scale: ws)
            try matrix(b + "ffn_down.weight", rows: d, cols: s.ffnDim, scale: 1 / Float(s.ffnDim).squareRoot())
        }
        return try w.bytes()
    }

    /// Writes a tiny model to a temporary file and returns its path.
    public static func file(_ shape: Shape = Shape(), seed: UInt64 = 1) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("podkv-tiny-\(shape.architecture.rawValue)-\(seed)-\(UUID().uuidString).gguf").path
        try Data(try bytes(shape, seed: seed)).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// SplitMix64: a tiny seeded generator for test data.
public struct SplitMix: RandomNumberGenerator {
    private var state: UInt64
    public init(_ seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    public mutating func float() -> Float { Float(next() >> 40) / Float(1 << 24) * 2 - 1 }
}
