import PodKVKernels

/// Running mean of inter-layer similarity, 1 - JSD (bits) of the distant-region attention
/// distributions, for every pair of layers and every KV head (POD.md §5). Each scored query position
/// of each sample counts once.
public struct LayerSimilarity: Sendable {
    public let layerCount: Int
    public let kvHeadCount: Int
    /// Query positions added so far.
    public private(set) var queryCount = 0
    /// (kvHeadCount, layerCount, layerCount) sums of 1 - JSD.
    private var sums: [Double]

    public init(layerCount: Int, kvHeadCount: Int) {
        self.layerCount = layerCount
        self.kvHeadCount = kvHeadCount
        sums = [Double](repeating: 0, count: kvHeadCount * layerCount * layerCount)
    }

    /// Adds the similarities of every layer pair (the diagonal included) of one query position.
    /// The L(L+1)/2 pairs per KV head are spread over `pool`.
    public mutating func add(_ record: DistantAttention, pool: ThreadPool? = nil) throws {
        guard record.layerCount == layerCount, record.kvHeadCount == kvHeadCount else {
            throw CalibrationError.invalidInput(
                "record has \(record.layerCount) layers x \(record.kvHeadCount) KV heads, expected \(layerCount) x \(kvHeadCount)")
        }
        let L = layerCount, H = kvHeadCount, n = record.distant.count
        // Pair index -> (i, j) with i <= j, per head.
        var pairs: [(Int, Int)] = []
        pairs.reserveCapacity(L * (L + 1) / 2)
        for i in 0..<L { for j in i..<L { pairs.append((i, j)) } }
        let items = H * pairs.count
        var result = [Double](repeating: 0, count: items)
        record.probabilities.withUnsafeBufferPointer { probs in
            result.withUnsafeMutableBufferPointer { out in
                let p = probs.baseAddress!, o = out.baseAddress!
                let work = { (range: Range<Int>) in
                    for item in range {
                        let h = item / pairs.count, (i, j) = pairs[item % pairs.count]
                        o[item] = 1 - JensenShannon.divergence(p + (i * H + h) * n, p + (j * H + h) * n, count: n)
                    }
                }
                if let pool { pool.parallelFor(items, work) } else { work(0..<items) }
            }
        }
        for item in 0..<items {
            let h = item / pairs.count, (i, j) = pairs[item % pairs.count]
            sums[(h * L + i) * L + j] += result[item]
            if i != j { sums[(h * L + j) * L + i] += result[item] }
        }
        queryCount += 1
    }

    /// Mean similarity, [kvHead][layer][layer]; symmetric, in [0, 1]. Throws when nothing was added.
    public func matrices() throws -> [[[Double]]] {
        guard queryCount > 0 else {
            throw CalibrationError.invalidInput("no query position was scored (are the samples longer than sink + window?)")
        }
        let L = layerCount, count = Double(queryCount)
        return (0..<kvHeadCount).map { h in
            (0..<L).map { i in (0..<L).map { j in sums[(h * L + i) * L + j] / count } }
        }
    }
}
