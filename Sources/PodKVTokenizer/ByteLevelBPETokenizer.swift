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

    public var vocabularySize: Int { vocabulary.count }
    public var bosID: Int? { vocabulary.bosID }
    public var eosID: Int? { vocabulary.eosID }
    public var paddingID: Int? { vocabulary.paddingID }
    public let addBOS: Bool
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

    public func decode(_ ids: [Int]) -> String {
        var bytes: [UInt8] = []
        for id in ids { bytes.append(contentsOf: pieceBytes(id)) }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func tokenText(_ id: Int) -> String? { vocabulary.text(id) }

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

    public func isSpecial(_ id: Int) -> Bool { vocabulary.isSpecial(id) }

    public func id(forSpecial text: String) -> Int? { vocabulary.specialIDForText[text] }
}
