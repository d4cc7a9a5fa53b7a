/// Byte-level BPE merge table keyed by token ids, and the merge loop.
///
/// Merging works on ids, not strings: the rule "A B" (rank r) is stored as (id(A), id(B)) ->
/// (r, id(AB)), so the inner loop never builds a string. A rule whose halves or result are not in
/// the vocabulary can never produce a token and is dropped at load time.
struct BPEMerges: Sendable {
    private struct Rule: Sendable {
        let rank: Int32
        let result: Int32
    }

    private let rules: [UInt64: Rule]

    /// - Parameters:
    ///   - merges: `tokenizer.ggml.merges`, "left right", highest priority first.
    ///   - idForText: vocabulary text -> id.
    init(merges: [String], idForText: [String: Int]) {
        var rules: [UInt64: Rule] = [:]
        rules.reserveCapacity(merges.count)
        for (rank, line) in merges.enumerated() {
            // Byte-level vocabularies spell a space as "Ġ", so the first space is the separator.
            guard let space = line.firstIndex(of: " ") else { continue }
            let left = line[..<space]
            let right = line[line.index(after: space)...]
            guard let leftID = idForText[String(left)], let rightID = idForText[String(right)],
                  let resultID = idForText[String(left) + String(right)] else { continue }
            let key = BPEMerges.key(Int32(leftID), Int32(rightID))
            if rules[key] == nil { rules[key] = Rule(rank: Int32(rank), result: Int32(resultID)) }
        }
        self.rules = rules
    }

    @inline(__always) private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Applies the merge rules to one word, lowest rank first; equal ranks (the same pair at two
    /// places) merge leftmost first. This is the order llama.cpp's `llm_tokenizer_bpe_session` and
    /// Hugging Face use.
    ///
    /// - Parameter symbols: initial token ids (one per byte), `[n]`; a negative id marks a byte
    ///   the vocabulary lacks, which never merges and is dropped.
    /// - Returns: the merged ids, in order.
    func merge(_ symbols: [Int32]) -> [Int32] {
        let n = symbols.count
        if n < 2 { return symbols.filter { $0 >= 0 } }
        var ids = symbols
        var next = [Int32](unsafeUninitializedCapacity: n) { buffer, count in
            for i in 0..<n { buffer[i] = i + 1 < n ? Int32(i + 1) : -1 }
            count = n
        }
        var prev = [Int32](unsafeUninitializedCapacity: n) { buffer, count in
            for i in 0..<n { buffer[i] = Int32(i - 1) }
            count = n
        }

        // Heap entries: order = rank << 32 | left position, so ties go to the leftmost pair.
        // `pair` remembers which ids the entry was made for; a merge nearby makes it stale.
        var heap = MinHeap<(order: UInt64, pair: UInt64)>(capacity: n) { $0.order < $1.order }
        func push(_ left: Int32) {
            let right = next[Int(left)]
            guard right >= 0 else { return }
            let pair = BPEMerges.key(ids[Int(left)], ids[Int(right)])
            guard let rule = rules[pair] else { return }
            heap.push((UInt64(UInt32(rule.rank)) << 32 | UInt64(UInt32(left)), pair))
        }
        for i in 0..<(n - 1) { push(Int32(i)) }

        while let top = heap.pop() {
            let left = Int(top.order & 0xFFFF_FFFF)
            let right = next[left]
            // Stale: the left symbol was absorbed (ids set to a sentinel), or either side changed.
            guard right >= 0, ids[left] >= 0, BPEMerges.key(ids[left], ids[Int(right)]) == top.pair,
                  let rule = rules[top.pair] else { continue }
            ids[left] = rule.result
            ids[Int(right)] = Int32.min  // absorbed
            let after = next[Int(right)]
            next[left] = after
            if after >= 0 { prev[Int(after)] = Int32(left) }
            if prev[left] >= 0 { push(prev[left]) }
            push(Int32(left))
        }

        var output: [Int32] = []
        var i: Int32 = 0
        while i >= 0 {
            if ids[Int(i)] >= 0 { output.append(ids[Int(i)]) }
            i = next[Int(i)]
        }
        return output
    }
}
