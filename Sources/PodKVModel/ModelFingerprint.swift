import PodKVGGUF

/// Identifies the model a plan, an adapter or a saved cache was made for.
///
/// `digest` is a 64-bit FNV-1a hash over the file's metadata keys, tensor table (names, types, shapes)
/// and the first bytes of every tensor's data: cheap to compute on open (no full-file hash of a
/// half-gigabyte file per load), yet different for any re-quantisation or fine-tune.
public struct ModelFingerprint: Sendable, Equatable, Codable, CustomStringConvertible {
    public var architecture: String
    public var layerCount: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    /// Hex digest of the file's structure and tensor heads; empty when unknown (models built in code).
    public var digest: String

    public init(architecture: String, layerCount: Int, headCount: Int, kvHeadCount: Int, headDim: Int, digest: String) {
        self.architecture = architecture
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDim = headDim
        self.digest = digest
    }

    /// Fingerprint of a model configuration, digest taken from `file` when given.
    public init(config: ModelConfig, file: GGUFFile?) {
        self.init(
            architecture: config.architecture.rawValue, layerCount: config.layerCount, headCount: config.headCount,
            kvHeadCount: config.kvHeadCount, headDim: config.headDim, digest: file.map(Self.digest(of:)) ?? "")
    }

    public var description: String {
        "\(architecture), \(layerCount) layers, \(headCount) heads, \(kvHeadCount) KV heads, head size \(headDim)"
            + (digest.isEmpty ? "" : ", digest \(digest)")
    }

    /// Explains why a thing made for `self` cannot be used with `model`, or nil when it fits.
    public func mismatch(with model: ModelFingerprint) -> String? {
        if architecture != model.architecture { return "architecture \(architecture) vs model's \(model.architecture)" }
        if layerCount != model.layerCount { return "\(layerCount) layers vs model's \(model.layerCount)" }
        if headCount != model.headCount { return "\(headCount) heads vs model's \(model.headCount)" }
        if kvHeadCount != model.kvHeadCount { return "\(kvHeadCount) KV heads vs model's \(model.kvHeadCount)" }
        if headDim != model.headDim { return "head size \(headDim) vs model's \(model.headDim)" }
        if !digest.isEmpty, !model.digest.isEmpty, digest != model.digest {
            return "made for a different model file (digest \(digest) vs \(model.digest))"
        }
        return nil
    }

    /// FNV-1a over the structure of `file` and the first 256 bytes of each tensor.
    public static func digest(of file: GGUFFile) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
            for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        }
        for key in file.metadataKeys { mix(key.utf8) }
        for t in file.tensors {
            mix(t.name.utf8)
            mix(String(t.type.rawValue).utf8)
            for d in t.dimensions { mix(String(d).utf8) }
            mix(UnsafeRawBufferPointer(start: file.data(of: t), count: min(256, t.byteCount)))
        }
        return String(h, radix: 16)
    }
}
