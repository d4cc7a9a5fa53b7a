/// One run of input after special tokens have been cut out: either plain text (a byte range of
/// the input's UTF-8) or a special token id.
enum TextFragment: Equatable {
    case text(Range<Int>)
    case token(Int)
}

/// Finds special-token texts in raw input before pre-tokenization.
///
/// Matching follows llama.cpp's `tokenizer_st_partition`: special tokens are taken longest first
/// (ties: lower id first), each one claiming its leftmost non-overlapping occurrences in the text
/// not yet claimed. All occurrences are found in one pass with a byte trie, then claimed in that
/// order, so the cost does not grow with the number of special tokens.
struct SpecialTokenMatcher: Sendable {
    private struct Node: Sendable {
        var children: [UInt8: Int32] = [:]
        var tokenID: Int32 = -1
    }

    private struct Entry: Sendable {
        let id: Int
        let length: Int
        /// Matched only when the caller asks for special-token parsing (control and unknown
        /// tokens); user-defined tokens are always matched.
        let needsParseSpecial: Bool
    }

    private var nodes: [Node] = [Node()]
    private var entries: [Int: Entry] = [:]
    private var isFirstByte = [Bool](repeating: false, count: 256)

    /// - Parameter tokens: `(id, text, needsParseSpecial)` for every special token.
    init(_ tokens: [(id: Int, text: String, needsParseSpecial: Bool)]) {
        for token in tokens where !token.text.isEmpty {
            var node = 0
            for byte in token.text.utf8 {
                if let child = nodes[node].children[byte] {
                    node = Int(child)
                } else {
                    nodes.append(Node())
                    nodes[node].children[byte] = Int32(nodes.count - 1)
                    node = nodes.count - 1
                }
            }
            // Two ids with the same text: keep the lower one, deterministically.
            if nodes[node].tokenID < 0 {
                nodes[node].tokenID = Int32(token.id)
                entries[token.id] = Entry(id: token.id, length: token.text.utf8.count, needsParseSpecial: token.needsParseSpecial)
            }
            isFirstByte[Int(token.text.utf8.first!)] = true
        }
    }

    /// Cuts `bytes` (the UTF-8 of the input) into text and special-token fragments, in order.
    func partition(_ bytes: [UInt8], parseSpecial: Bool) -> [TextFragment] {
        var candidates: [(start: Int, entry: Entry)] = []
        for start in bytes.indices where isFirstByte[Int(bytes[start])] {
            var node = 0
            var i = start
            while i < bytes.count, let child = nodes[node].children[bytes[i]] {
                node = Int(child)
                i += 1
                let id = nodes[node].tokenID
                if id >= 0, let entry = entries[Int(id)], parseSpecial || !entry.needsParseSpecial {
                    candidates.append((start, entry))
                }
            }
        }
        if candidates.isEmpty {
            return bytes.isEmpty ? [] : [.text(0..<bytes.count)]
        }

        candidates.sort { a, b in
            if a.entry.length != b.entry.length { return a.entry.length > b.entry.length }
            if a.entry.id != b.entry.id { return a.entry.id < b.entry.id }
            return a.start < b.start
        }
        var claimed = [Bool](repeating: false, count: bytes.count)
        var accepted: [(start: Int, entry: Entry)] = []
        for candidate in candidates {
            let span = candidate.start..<(candidate.start + candidate.entry.length)
            if span.contains(where: { claimed[$0] }) { continue }
            for i in span { claimed[i] = true }
            accepted.append(candidate)
        }
        accepted.sort { $0.start < $1.start }

        var fragments: [TextFragment] = []
        var cursor = 0
        for match in accepted {
            if cursor < match.start { fragments.append(.text(cursor..<match.start)) }
            fragments.append(.token(match.entry.id))
            cursor = match.start + match.entry.length
        }
        if cursor < bytes.count { fragments.append(.text(cursor..<bytes.count)) }
        return fragments
    }
}
