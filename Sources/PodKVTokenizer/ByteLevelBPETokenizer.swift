/// Byte-level BPE (`tokenizer.ggml.model = gpt2`): GPT-2, SmolLM, Qwen2, Llama 3 vocabularies.
///
/// Encoding: cut out special tokens, split each text run into words with the model's
/// `PreTokenizer`, map each word's UTF-8 bytes to their vocabulary characters and apply the ranked
/// merges. Results are cached per word. Decoding maps vocabulary characters back to bytes.
public struct ByteLevelBPETokenizer: Tokenizer {
    let vocabulary: Vocabulary
    /// The pre-tokenizer chosen by `tokenizer.ggml.pre`.
    public let preTokenizer: PreTokenizer
    private let merges: BPEMerges
    /// The id of each single byte's vocabulary character, `[256]`; -1 when missing.
    private let byteTokenIDs: [Int32]
    private let cache = WordCache()

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
    /// - Throws: `TokenizerError.missingKey("tokenizer.ggml.merges")` without merges,
    ///   `.unsupportedPreTokenizer` for an unknown `tokenizer.ggml.pre`, `.invalidVocabulary` for
    ///   inconsistent arrays.
    public init(_ data: TokenizerData) throws {
        guard let merges = data.merges else { throw TokenizerError.missingKey("tokenizer.ggml.merges") }
        let preTokenizer = try PreTokenizer(name: data.preTokenizer)
        let vocabulary = try Vocabulary(data)
        self.vocabulary = vocabulary
        self.preTokenizer = preTokenizer
        self.merges = BPEMerges(merges: merges, idForText: vocabulary.idForText)
        self.byteTokenIDs = ByteLevelEncoding.scalarForByte.map { scalar in
            Int32(vocabulary.idForText[String(scalar)] ?? -1)
        }
        // llama.cpp adds BOS for Llama 3 vocabularies unless the file says otherwise.
        self.addBOS = data.addBOS ?? (preTokenizer == .llama3)
    }

    /// Tokenizes `text` without BOS; see `Tokenizer.encode`.
    /// - Returns: token ids, `[count]`.
    public func encode(_ text: String, parseSpecial: Bool) -> [Int] {
        let bytes = Array(text.utf8)
        var output: [Int] = []
        output.reserveCapacity(bytes.count / 3 + 1)
        for fragment in vocabulary.specialMatcher.partition(bytes, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id):
                output.append(id)
            case .text(let range):
                encodeText(bytes[range], into: &output)
            }
        }
        return output
    }

    /// Pre-tokenizes and merges one run of text that holds no special tokens.
    private func encodeText(_ bytes: ArraySlice<UInt8>, into output: inout [Int]) {
        let text = ScalarText(String(decoding: bytes, as: UTF8.self).unicodeScalars)
        var word: [UInt8] = []
        for range in preTokenizer.split(text) {
            word.removeAll(keepingCapacity: true)
            for i in range { word.appendUTF8(text.values[i]) }
            for id in encodeWord(word) { output.append(Int(id)) }
        }
    }

    /// Token ids of one pre-tokenized word (its UTF-8 bytes).
    private func encodeWord(_ word: [UInt8]) -> [Int32] {
        if word.count == 1 {
            let id = byteTokenIDs[Int(word[0])]
            return id >= 0 ? [id] : []
        }
        if let cached = cache.get(word) { return cached }
        let ids: [Int32]
        if preTokenizer.ignoresMerges, let whole = vocabulary.idForText[ByteLevelEncoding.encode(word)] {
            ids = [Int32(whole)]
        } else {
            ids = merges.merge(word.map { byteTokenIDs[Int($0)] })
        }
        cache.set(word, ids)
        return ids
    }

    /// Concatenates the pieces of `ids`; invalid UTF-8 becomes U+FFFD.
    public func decode(_ ids: [Int]) -> String {
        var bytes: [UInt8] = []
        for id in ids { bytes.append(contentsOf: pieceBytes(id)) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The raw vocabulary entry for `id`, nil when out of range.
    public func tokenText(_ id: Int) -> String? { vocabulary.text(id) }

    /// The bytes of one token: vocabulary characters mapped back to bytes, special tokens as
    /// their text, unused entries as nothing.
    public func pieceBytes(_ id: Int) -> [UInt8] {
        guard let text = vocabulary.text(id) else { return [] }
        switch vocabulary.types[id] {
        case .control, .userDefined, .unknown:
            return Array(text.utf8)
        case .unused:
            return []
        case .normal, .undefined, .byte:
            return ByteLevelEncoding.decode(text)
        }
    }

    /// Whether `id` is a control, user-defined or unknown token.
    public func isSpecial(_ id: Int) -> Bool { vocabulary.isSpecial(id) }

    /// The id of the control or user-defined token spelled `text`.
    public func id(forSpecial text: String) -> Int? { vocabulary.specialIDForText[text] }
}
