import PodKVModel

/// Which held tokens a SnapKV-style policy keeps: the observation-window vote, pooled, top-k.
enum SelectionVote {
    /// SnapKV selection for KV head `kvHead` (arXiv 2404.14469 §4.2): returns the `keep` slots of
    /// `candidates` (a slot range of `keys`, positions ascending) with the largest max-pooled votes of the
    /// observation queries in `observation`, ascending. All candidates when `keep >= candidates.count`.
    static func snapKV(
        observation obs: ObservationWindow, kvHead h: Int, geometry g: KVGeometry, keys: SelectedRows,
        candidates: Range<Int>, keep: Int, kernel: Int
    ) -> [Int] {
        guard keep < candidates.count else { return Array(candidates) }
        guard keep > 0 else { return [] }
        let votes = UnsafeMutablePointer<Float>.allocate(capacity: candidates.count)
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: max(1, keys.count))
        defer {
            votes.deallocate()
            logits.deallocate()
        }
        let qpk = g.queriesPerKVHead
        SelectionScoring.observationVotes(
            queryCount: obs.count, queryPositions: { obs.positions[$0] },
            query: { r, head in obs.query(r, offset: head * g.headDim) },
            heads: (h * qpk)..<((h + 1) * qpk), keys: keys, scale: g.scale, candidates: candidates,
            votes: votes, logits: logits)
        let pooled = SelectionScoring.maxPool(votes, count: candidates.count, kernel: kernel)
        return SelectionScoring.topIndices(pooled, count: keep).map { $0 + candidates.lowerBound }
    }
}
