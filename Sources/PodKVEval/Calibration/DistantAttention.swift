/// What the attention of one query position put on the distant region, in every layer and KV head.
///
/// For query position t, the distant region is D(t) = [sink, t - window] (POD.md §2). Each distribution is
/// the layer's full-cache attention restricted to D(t) and renormalised to sum to 1 over it, averaged
/// over the query heads that read the KV head (POD.md §5).
public struct DistantAttention: Sendable {
    /// The query position t.
    public let position: Int
    /// Token positions of D(t), never empty.
    public let distant: Range<Int>
    public let layerCount: Int
    public let kvHeadCount: Int
    /// (layerCount, kvHeadCount, distant.count) probabilities; each innermost row sums to 1.
    public let probabilities: [Float]

    /// Builds a record; `probabilities` must hold layerCount * kvHeadCount * distant.count values.
    public init(position: Int, distant: Range<Int>, layerCount: Int, kvHeadCount: Int, probabilities: [Float]) throws {
        guard !distant.isEmpty else { throw CalibrationError.invalidInput("the distant region of position \(position) is empty") }
        guard probabilities.count == layerCount * kvHeadCount * distant.count else {
            throw CalibrationError.invalidInput(
                "\(probabilities.count) probabilities for \(layerCount) layers x \(kvHeadCount) KV heads x \(distant.count) tokens")
        }
        self.position = position
        self.distant = distant
        self.layerCount = layerCount
        self.kvHeadCount = kvHeadCount
        self.probabilities = probabilities
    }

    /// The distribution of `layer` and `kvHead`, `distant.count` values.
    public func distribution(layer: Int, kvHead: Int) -> ArraySlice<Float> {
        let n = distant.count
        let start = (layer * kvHeadCount + kvHead) * n
        return probabilities[start..<(start + n)]
    }
}
