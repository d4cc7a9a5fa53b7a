/// GGUF token types (`tokenizer.ggml.token_type`), numbered as in llama.cpp's `llama_token_type`.
public enum TokenType: Int, Sendable {
    case undefined = 0
    case normal = 1
    case unknown = 2
    /// Chat-format and document markers such as `<|im_start|>`; matched in text only when asked.
    case control = 3
    /// Added tokens that are always matched in text before pre-tokenization.
    case userDefined = 4
    case unused = 5
    /// SentencePiece byte-fallback tokens `<0x00>` ... `<0xFF>`.
    case byte = 6
}

/// Everything a tokenizer needs from a model file, as plain values.
///
/// Field names follow the GGUF keys (`tokenizer.ggml.*`); `TokenizerData(gguf:)` fills it from a
/// file, tests can build one by hand.
public struct TokenizerData: Sendable {
    /// `tokenizer.ggml.model`: `gpt2` (byte-level BPE) or `llama` (SentencePiece).
    public var model: String
    /// `tokenizer.ggml.pre`: pre-tokenizer name for byte-level BPE (nil: `default`).
    public var preTokenizer: String?
    /// `tokenizer.ggml.tokens`: the text of every id, `[vocabularySize]`.
    public var tokens: [String]
    /// `tokenizer.ggml.token_type`, `[vocabularySize]`; nil means all normal.
    public var tokenTypes: [TokenType]?
    /// `tokenizer.ggml.merges`: "left right" pairs, highest priority first (BPE only).
    public var merges: [String]?
    /// `tokenizer.ggml.scores`, `[vocabularySize]`: merge priorities for SentencePiece.
    public var scores: [Float]?
    /// `tokenizer.ggml.bos_token_id`.
    public var bosID: Int?
    /// `tokenizer.ggml.eos_token_id`.
    public var eosID: Int?
    /// `tokenizer.ggml.unknown_token_id`.
    public var unknownID: Int?
    /// `tokenizer.ggml.padding_token_id`.
    public var paddingID: Int?
    /// `tokenizer.ggml.add_bos_token`; nil means the model family's default (SentencePiece: true).
    public var addBOS: Bool?
    /// `tokenizer.ggml.add_space_prefix`; nil means the family default (SentencePiece: true).
    public var addSpacePrefix: Bool?
    /// `tokenizer.chat_template`: the Jinja chat template, if the file carries one.
    public var chatTemplate: String?

    /// Creates the data from values; see the property docs for each field.
    public init(
        model: String, preTokenizer: String? = nil, tokens: [String], tokenTypes: [TokenType]? = nil,
        merges: [String]? = nil, scores: [Float]? = nil, bosID: Int? = nil, eosID: Int? = nil,
        unknownID: Int? = nil, paddingID: Int? = nil, addBOS: Bool? = nil, addSpacePrefix: Bool? = nil,
        chatTemplate: String? = nil
    ) {
        self.model = model
        self.preTokenizer = preTokenizer
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.merges = merges
        self.scores = scores
        self.bosID = bosID
        self.eosID = eosID
        self.unknownID = unknownID
        self.paddingID = paddingID
        self.addBOS = addBOS
        self.addSpacePrefix = addSpacePrefix
        self.chatTemplate = chatTemplate
    }
}

/// Builds the tokenizer `data.model` names.
///
/// - Throws: `TokenizerError.unsupportedModel` / `.unsupportedPreTokenizer` naming the value, or
///   `.invalidVocabulary` / `.missingKey` when the vocabulary is inconsistent.
public func makeTokenizer(_ data: TokenizerData) throws -> any Tokenizer {
    switch data.model {
    case "gpt2":
        return try ByteLevelBPETokenizer(data)
    case "llama":
        return try SentencePieceTokenizer(data)
    default:
        throw TokenizerError.unsupportedModel(data.model)
    }
}
