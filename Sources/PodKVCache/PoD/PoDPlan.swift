import Foundation
import PodKVModel

/// PoD layer groups: for each KV head, the owner layer of every layer (POD.md §3, §5).
///
/// Blocks are contiguous runs of layers; the lowest layer of a block is its owner and stores the keys of
/// every token, the other layers of the block read the owner's keys for distant tokens.
///
/// On disk (versioned JSON, written by `podkv calibrate`, read by `--pod-plan`):
/// ```
/// { "format": "podkv-pod-plan", "version": 1,
///   "model": { "architecture", "layerCount", "headCount", "kvHeadCount", "headDim", "digest" },
///   "owners": [[Int]]            // [kvHead][layer] -> owner layer
///   "settings": { String: String }   // how it was made (delta, samples, sink, window, ...), informative
///   "similarity": [[[Double]]]?  // [kvHead][layer][layer] 1 - JSD, when calibrated
///   "savings": [{ "contextLength": Int, "saving": Double }]? }
/// ```
public struct PoDPlan: Sendable, Equatable, Codable {
    public static let format = "podkv-pod-plan"
    public static let currentVersion = 1

    /// Expected KV saving of the plan at one context length.
    public struct Saving: Sendable, Equatable, Codable {
        public var contextLength: Int
        public var saving: Double
        public init(contextLength: Int, saving: Double) {
            self.contextLength = contextLength
            self.saving = saving
        }
    }

    public var format: String = PoDPlan.format
    public var version: Int = PoDPlan.currentVersion
    /// The model the plan was made for; `digest` may be empty for plans built in code.
    public var model: ModelFingerprint
    /// [kvHead][layer] -> owner layer.
    public var owners: [[Int]]
    public var settings: [String: String]
    public var similarity: [[[Double]]]?
    public var savings: [Saving]?

    public init(model: ModelFingerprint, owners: [[Int]], settings: [String: String] = [:],
                similarity: [[[Double]]]? = nil, savings: [Saving]? = nil) {
        self.model = model
        self.owners = owners
        self.settings = settings
        self.similarity = similarity
        self.savings = savings
    }

    /// Uniform contiguous groups of `groupSize` layers, the same for every KV head.
    public static func uniform(groupSize: Int, model: ModelFingerprint) throws -> PoDPlan {
        guard groupSize >= 1 else { throw PoDPlanError.invalid("group size must be at least 1, got \(groupSize)") }
        guard groupSize <= model.layerCount else {
            throw PoDPlanError.invalid("group size \(groupSize) is larger than the model's \(model.layerCount) layers")
        }
        let row = (0..<model.layerCount).map { $0 / groupSize * groupSize }
        return PoDPlan(model: model, owners: Array(repeating: row, count: model.kvHeadCount),
                       settings: ["rule": "uniform", "group-size": String(groupSize)])
    }

    /// Number of blocks (owner layers) of each KV head.
    public var blockCounts: [Int] { owners.map { row in row.enumerated().filter { $0.offset == $0.element }.count } }

    /// Blocks of one KV head as layer ranges.
    public func blocks(kvHead: Int) -> [ClosedRange<Int>] {
        var result: [ClosedRange<Int>] = []
        for (l, o) in owners[kvHead].enumerated() {
            if o == l { result.append(l...l) } else { result[result.count - 1] = result.last!.lowerBound...l }
        }
        return result
    }

    /// Checks the structure, and that the plan fits `model` (layer/head counts, digest when both have one).
    public func validate(for model: ModelFingerprint) throws {
        guard format == PoDPlan.format else { throw PoDPlanError.invalid("format is '\(format)', expected '\(PoDPlan.format)'") }
        guard version == PoDPlan.currentVersion else {
            throw PoDPlanError.invalid("version \(version) is not supported (this PodKV reads version \(PoDPlan.currentVersion))")
        }
        if let why = self.model.mismatch(with: model) { throw PoDPlanError.wrongModel(why) }
        guard owners.count == model.kvHeadCount else {
            throw PoDPlanError.invalid("owners has \(owners.count) KV heads, the model has \(model.kvHeadCount)")
        }
        for (h, row) in owners.enumerated() {
            guard row.count == model.layerCount else {
                throw PoDPlanError.invalid("owners[\(h)] has \(row.count) layers, the model has \(model.layerCount)")
            }
            for (l, o) in row.enumerated() {
                let ok = o == l || (l > 0 && o == row[l - 1])
                guard ok else {
                    throw PoDPlanError.invalid(
                        "owners[\(h)][\(l)] = \(o): a layer's owner must be itself or the owner of the layer below (contiguous blocks)")
                }
            }
        }
        if let sim = similarity {
            guard sim.count == model.kvHeadCount, sim.allSatisfy({ $0.count == model.layerCount && $0.allSatisfy { $0.count == model.layerCount } })
            else { throw PoDPlanError.invalid("similarity matrices do not have the model's KV head and layer counts") }
        }
    }

    /// Reads and decodes a plan file (validation against a model is separate: `validate(for:)`).
    public static func load(path: String) throws -> PoDPlan {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw PoDPlanError.unreadable(path, error.localizedDescription)
        }
        do { return try JSONDecoder().decode(PoDPlan.self, from: data) } catch let e as DecodingError {
            throw PoDPlanError.malformed(path, Self.describe(e))
        }
    }

    /// Writes the plan as pretty JSON, atomically (a crash never leaves half a file).
    public func save(path: String) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    private static func describe(_ e: DecodingError) -> String {
        func at(_ path: [CodingKey]) -> String { path.isEmpty ? "top level" : path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") }
        switch e {
        case .dataCorrupted(let c): return "not valid JSON at \(at(c.codingPath)): \(c.debugDescription)"
        case .keyNotFound(let k, let c): return "missing key '\(k.stringValue)' at \(at(c.codingPath))"
        case .typeMismatch(_, let c): return "wrong type at \(at(c.codingPath)): \(c.debugDescription)"
        case .valueNotFound(_, let c): return "missing value at \(at(c.codingPath))"
        @unknown default: return "\(e)"
        }
    }
}

/// Why a PoD plan was refused.
public enum PoDPlanError: Error, CustomStringConvertible, Equatable {
    case unreadable(String, String)
    case malformed(String, String)
    case invalid(String)
    case wrongModel(String)

    public var description: String {
        switch self {
        case .unreadable(let p, let why): "cannot read PoD plan '\(p)': \(why)"
        case .malformed(let p, let why): "PoD plan '\(p)' is malformed: \(why)"
        case .invalid(let why): "invalid PoD plan: \(why)"
        case .wrongModel(let why): "the PoD plan was made for another model: \(why)"
        }
    }
}
