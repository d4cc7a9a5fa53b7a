/// PoD's offline grouping rule (POD.md §5): per KV head, bottom-up, a block opens at the lowest layer not
/// yet placed, and each next layer joins while its similarity to the block's owner is >= delta; the
/// first layer below delta opens the next block.
public enum GreedyGrouping {
    /// Owner layer of every layer for one KV head.
    /// - Parameters:
    ///   - similarity: (layerCount, layerCount) 1 - JSD, square.
    ///   - delta: threshold in [0, 1]. 0 gives one block, 1 joins only layers with identical attention
    ///     (in practice: all blocks of one layer, the full cache).
    /// - Returns: `[layer] -> owner`, owners ascending, each layer's owner is itself or its predecessor's.
    public static func owners(similarity: [[Double]], delta: Double) throws -> [Int] {
        try checkDelta(delta)
        let L = similarity.count
        guard L > 0, similarity.allSatisfy({ $0.count == L }) else {
            throw CalibrationError.invalidInput("similarity must be a non-empty square matrix, got \(L) rows of lengths \(Set(similarity.map(\.count)).sorted())")
        }
        var owners = [Int](repeating: 0, count: L)
        var owner = 0
        for l in 1..<max(1, L) {
            if similarity[owner][l] >= delta { owners[l] = owner } else { owner = l; owners[l] = l }
        }
        return owners
    }

    /// Owners for every KV head: `[kvHead][layer] -> owner` from `[kvHead][layer][layer]` similarity.
    public static func owners(similarity: [[[Double]]], delta: Double) throws -> [[Int]] {
        guard !similarity.isEmpty else { throw CalibrationError.invalidInput("no KV head similarity matrices") }
        return try similarity.map { try owners(similarity: $0, delta: delta) }
    }

    /// Mean similarity of every non-owner layer to its owner, over all KV heads: the quality a grouping
    /// gives up (1 when every block is a single layer). The loss proxy reported with a plan is 1 - this.
    public static func meanOwnerSimilarity(owners: [[Int]], similarity: [[[Double]]]) -> Double {
        var sum = 0.0, count = 0
        for (h, row) in owners.enumerated() {
            for (l, o) in row.enumerated() where o != l {
                sum += similarity[h][o][l]
                count += 1
            }
        }
        return count == 0 ? 1 : sum / Double(count)
    }

    static func checkDelta(_ delta: Double) throws {
        guard delta.isFinite, (0...1).contains(delta) else {
            throw CalibrationError.invalidOption("delta must be in [0, 1] (similarity is 1 - JSD in bits), got \(delta)")
        }
    }
}
