/// SentencePiece BPE (`tokenizer.ggml.model = llama`): Llama 2, TinyLlama, Mistral v0.1 style.
///
/// Follows llama.cpp's `llm_tokenizer_spm`: spaces become `▁` (U+2581), a `▁` is put in front of
/// the text and after every special token (`add_space_prefix`), then adjacent pieces are merged
/// greedily by the vocabulary score of the merged text (highest first, leftmost on ties) as long as
/// the merged text is a token. Pieces left that are not tokens are split back along the merges that
/// built them, and what is still unknown falls back to `<0xNN>` byte tokens.
public struct SentencePieceTokenizer: Tokenizer {
    let vocabulary: Vocabulary
    private let scores: [Float]
    /// `<0xNN>` token id for each byte, `[256]`; -1 when the vocabulary lacks it.
    private let byteTokenIDs: [Int]
    /// Whether a `▁` is put in front of the text (`tokenizer.ggml.add_space_prefix`, default true).
    public let addSpacePrefix: Bool

    /// Number of vocabulary entries.
    public var vocabularySize: Int { vocabulary.count }
    /// `tokenizer.ggml.bos_token_id`.
    public var bosID: Int? { vocabulary.bosID }
    /// `tokenizer.ggml.eos_token_id`.
    public var eosID: Int? { vocabulary.eosID }
    /// `tokenizer.ggml.padding_token_id`.
    public var paddingID: Int? { vocabulary.paddingID }
    /// `tokenizer.ggml.add_bos_token`, or the family default when the file does not say.
    public let addBOS: Bool
    /// EOS plus the end-of-turn tokens the vocabulary has.
    public var endOfGenerationIDs: Set<Int> { vocabulary.endOfGenerationIDs }

    /// Builds the tokenizer from vocabulary data.
    /// - Throws: `TokenizerError.missingKey("tokenizer.ggml.scores")` without scores,
    ///   `.invalidVocabulary` for inconsistent arrays.
    public init(_ data: TokenizerData) throws {
        guard let scores = data.scores else { throw TokenizerError.missingKey("tokenizer.ggml.scores") }
        let vocabulary = try Vocabulary(data)
        self.vocabulary = vocabulary
        self.scores = scores
        self.byteTokenIDs = (0..<256).map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            let text = "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
            return vocabulary.idForText[text] ?? -1
        }
        self.addSpacePrefix = data.addSpacePrefix ?? true
        self.addBOS = data.addBOS ?? true
    }

    /// Tokenizes `text` without BOS; see `Tokenizer.encode`.
    /// - Returns: token ids, `[count]`.
    public func encode(_ text: String, parseSpecial: Bool) -> [Int] {
        let bytes = Array(text.utf8)
        var output: [Int] = []
        // Like llama.cpp: the text start counts as "after a special token", so it gets the prefix.
        var afterSpecial = true
        for fragment in vocabulary.specialMatcher.partition(bytes, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id):
                output.append(id)
                afterSpecial = true
            case .text(let range):
                var piece = String(decoding: bytes[range], as: UTF8.self)
                if addSpacePrefix && afterSpecial { piece = " " + piece }
                encodeText(piece.replacingSpaces(), into: &output)
                afterSpecial = false
            }
        }
        return output
    }

    /// One symbol of the merge list: a byte range of the text, linked to its neighbours.
    private struct Symbol {
        var start: Int
        var length: Int
        var prev: Int
        var next: Int
    }

    /// Merges one escaped text run (no special tokens) and appends its ids.
    private func encodeText(_ text: String, into output: inout [Int]) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return }

        // One symbol per UTF-8 character.
        var symbols: [Symbol] = []
        var offset = 0
        while offset < bytes.count {
            let length = min(utf8Length(leadByte: bytes[offset]), bytes.count - offset)
            symbols.append(Symbol(start: offset, length: length, prev: symbols.count - 1, next: -1))
            offset += length
        }
        for i in 0..<(symbols.count - 1) { symbols[i].next = i + 1 }

        func textOf(_ start: Int, _ length: Int) -> String {
            String(decoding: bytes[start..<(start + length)], as: UTF8.self)
        }

        // Candidate merges, best score first, then leftmost. `size` detects stale entries: a
        // symbol only ever grows by absorbing its right neighbour, so a changed length means the
        // pair is gone.
        struct Bigram { let score: Float; let left: Int; let right: Int; let size: Int }
        var queue = MinHeap<Bigram> { a, b in a.score > b.score || (a.score == b.score && a.left < b.left) }
        // Merged text -> the two symbols it came from, to split pieces that are not tokens.
        var reverseMerges: [String: (Int, Int)] = [:]

        func tryAddBigram(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let size = symbols[left].length + symbols[right].length
            let merged = textOf(symbols[left].start, size)
            guard let id = vocabulary.idForText[merged] else { return }
            queue.push(Bigram(score: scores[id], left: left, right: right, size: size))
            reverseMerges[merged] = (left, right)
        }

        for i in 1..<symbols.count { tryAddBigram(i - 1, i) }

        while let bigram = queue.pop() {
            let left = symbols[bigram.left], right = symbols[bigram.right]
            guard left.length > 0, right.length > 0, left.length + right.length == bigram.size else { continue }
            symbols[bigram.left].length += right.length
            symbols[bigram.right].length = 0
            symbols[bigram.left].next = right.next
            if right.next >= 0 { symbols[right.next].prev = bigram.left }
            tryAddBigram(symbols[bigram.left].prev, bigram.left)
            tryAddBigram(bigram.left, symbols[bigram.left].next)
        }

        func resegment(_ symbol: Symbol) {
            let text = textOf(symbol.start, symbol.length)
            if let id = vocabulary.idForText[text] {
                output.append(id)
            } else if let (left, right) = reverseMerges[text] {
                resegment(symbols[left])
                resegment(symbols[right])
            } else {
                // Byte fallback; a vocabulary without byte tokens gets the unknown token instead.
                for byte in bytes[symbol.start..<(symbol.start + symbol.length)] {
                    let id = byteTokenIDs[Int(byte)]
                    if id >= 0 {
                        output.append(id)
                    } else if let unknown = vocabulary.unknownID {
                        output.append(unknown)
                    }
                }
            }
        }

        var i = 0
        while i >= 0 {
            resegment(symbols[i])
            i = symbols[i].next
        }
    }

    /// Joins the pieces of `ids`. The space that `addSpacePrefix` put in front of the text is
    /// removed again from the first text piece, so `decode(encode(s)) == s`.
    public func decode(_ ids: [Int]) -> String {
        var bytes: [UInt8] = []
        var atStart = true
        for id in ids {
            var piece = pieceBytes(id)
            if atStart && !vocabulary.isSpecial(id) && !piece.isEmpty {
                if addSpacePrefix && piece.first == 0x20 { piece.removeFirst() }
                atStart = false
            }
            bytes.append(contentsOf: piece)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The raw vocabulary entry for `id`, nil when out of range.
    public func tokenText(_ id: Int) -> String? { vocabulary.text(id) }

    /// The bytes of one piece: `▁` becomes a space, `<0xNN>` the byte NN, special tokens their
    /// text. No leading space is removed here: for streamed generation every piece is a
    /// continuation.
    public func pieceBytes(_ id: Int) -> [UInt8] {
        guard let text = vocabulary.text(id) else { return [] }
        switch vocabulary.types[id] {
        case .byte:
            // "<0xNN>": the two hex digits are the byte.
            let utf8 = Array(text.utf8)
            if utf8.count == 6, let byte = UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16) {
                return [byte]
            }
            return utf8
        case .control, .userDefined, .unknown:
            return Array(text.utf8)
        case .unused:
            return []
        case .normal, .undefined:
            return Array(text.replacingSpaceMarks().utf8)
        }
    }

    /// Whether `id` is a control, user-defined or unknown token.
    public func isSpecial(_ id: Int) -> Bool { vocabulary.isSpecial(id) }

    /// The id of the control or user-defined token spelled `text`.
    public func id(forSpecial text: String) -> Int? { vocabulary.specialIDForText[text] }
}

/// Bytes in the UTF-8 sequence a lead byte starts (1 for stray continuation bytes and bytes that
/// can never start a sequence).
@inline(__always)
func utf8Length(leadByte: UInt8) -> Int {
    switch leadByte {
    case 0xF8...: return 1
    case 0xF0...: return 4
    case 0xE0...: return 3
    case 0xC0...: return 2
    default: return 1
    }
}

extension String {
    /// Spaces as SentencePiece writes them (`▁`).
    fileprivate func replacingSpaces() -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            scalars.append(scalar == " " ? "\u{2581}" : scalar)
        }
        return String(scalars)
    }

    /// Spaces as text (`▁` back to a space).
    fileprivate func replacingSpaceMarks() -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            scalars.append(scalar == "\u{2581}" ? " " : scalar)
        }
        return String(scalars)
    }
}
