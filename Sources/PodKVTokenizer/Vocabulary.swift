/// The parts of a vocabulary every tokenizer family shares: id <-> text, token types, the special
/// ids, and the special-token matcher. Built once from `TokenizerData` and validated there.
struct Vocabulary: Sendable {
    /// Token texts, `[count]`.
    let tokens: [String]
    /// Token types, `[count]`.
    let types: [TokenType]
    /// Text -> id for every token (a repeated text maps to its last id, as in llama.cpp).
    let idForText: [String: Int]
    /// Text -> id for control, user-defined and unknown tokens.
    let specialIDForText: [String: Int]
    let bosID: Int?
    let eosID: Int?
    let unknownID: Int?
    let paddingID: Int?
    let endOfGenerationIDs: Set<Int>
    let specialMatcher: SpecialTokenMatcher

    /// Token texts that end a reply when the vocabulary has them (besides EOS): ChatML, Llama 3,
    /// GPT-style document end, Phi-3, Gemma, and the end-of-text spellings of other families.
    static let endOfGenerationTexts: Set<String> = [
        "<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<|end_of_text|>", "<|eom_id|>", "<|end|>",
        "<end_of_turn>", "<EOT>",
    ]

    var count: Int { tokens.count }

    /// - Throws: `TokenizerError.invalidVocabulary` when array lengths or special ids do not fit
    ///   the token list.
    init(_ data: TokenizerData) throws {
        let count = data.tokens.count
        guard count > 0 else { throw TokenizerError.invalidVocabulary("the token list is empty") }
        if let types = data.tokenTypes, types.count != count {
            throw TokenizerError.invalidVocabulary("token_type has \(types.count) entries for \(count) tokens")
        }
        if let scores = data.scores, scores.count != count {
            throw TokenizerError.invalidVocabulary("scores has \(scores.count) entries for \(count) tokens")
        }
        for (name, id) in [("bos_token_id", data.bosID), ("eos_token_id", data.eosID),
                           ("unknown_token_id", data.unknownID), ("padding_token_id", data.paddingID)] {
            if let id, !(0..<count).contains(id) {
                throw TokenizerError.invalidVocabulary("\(name) \(id) is outside the vocabulary of \(count) tokens")
            }
        }

        tokens = data.tokens
        types = data.tokenTypes ?? Array(repeating: .normal, count: count)
        bosID = data.bosID
        eosID = data.eosID
        unknownID = data.unknownID
        paddingID = data.paddingID

        var idForText: [String: Int] = [:]
        idForText.reserveCapacity(count)
        var specialIDForText: [String: Int] = [:]
        var matcherTokens: [(id: Int, text: String, needsParseSpecial: Bool)] = []
        var endOfGeneration = Set<Int>()
        if let eos = data.eosID { endOfGeneration.insert(eos) }
        for (id, text) in data.tokens.enumerated() {
            idForText[text] = id
            let type = types[id]
            switch type {
            case .control, .userDefined, .unknown:
                if specialIDForText[text] == nil { specialIDForText[text] = id }
                matcherTokens.append((id, text, type != .userDefined))
                if Vocabulary.endOfGenerationTexts.contains(text) { endOfGeneration.insert(id) }
            default:
                break
            }
        }
        self.idForText = idForText
        self.specialIDForText = specialIDForText
        self.endOfGenerationIDs = endOfGeneration
        self.specialMatcher = SpecialTokenMatcher(matcherTokens)
    }

    func isSpecial(_ id: Int) -> Bool {
        guard types.indices.contains(id) else { return false }
        switch types[id] {
        case .control, .userDefined, .unknown: return true
        default: return false
        }
    }

    func text(_ id: Int) -> String? {
        tokens.indices.contains(id) ? tokens[id] : nil
    }
}
