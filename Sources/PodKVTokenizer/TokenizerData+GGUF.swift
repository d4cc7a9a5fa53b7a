import PodKVGGUF

// The only file that knows the GGUF reader: key names are from the GGUF spec ("tokenizer.ggml.*").

extension TokenizerData {
    /// Reads the tokenizer keys of a GGUF file.
    /// - Throws: `TokenizerError.missingKey` without `tokenizer.ggml.model` or `.tokens`,
    ///   `.invalidVocabulary` for a token type number outside 0...6.
    public init(gguf file: GGUFFile) throws {
        guard let model = file.string("tokenizer.ggml.model") else {
            throw TokenizerError.missingKey("tokenizer.ggml.model")
        }
        guard let tokens = file.strings("tokenizer.ggml.tokens") else {
            throw TokenizerError.missingKey("tokenizer.ggml.tokens")
        }
        var types: [TokenType]?
        if let raw = file.ints("tokenizer.ggml.token_type") {
            types = try raw.map { value in
                guard let type = TokenType(rawValue: value) else {
                    throw TokenizerError.invalidVocabulary("unknown token type \(value)")
                }
                return type
            }
        }
        self.init(
            model: model,
            preTokenizer: file.string("tokenizer.ggml.pre"),
            tokens: tokens,
            tokenTypes: types,
            merges: file.strings("tokenizer.ggml.merges"),
            scores: file.floats("tokenizer.ggml.scores"),
            bosID: file.int("tokenizer.ggml.bos_token_id"),
            eosID: file.int("tokenizer.ggml.eos_token_id"),
            unknownID: file.int("tokenizer.ggml.unknown_token_id"),
            paddingID: file.int("tokenizer.ggml.padding_token_id"),
            addBOS: file.bool("tokenizer.ggml.add_bos_token"),
            addSpacePrefix: file.bool("tokenizer.ggml.add_space_prefix"),
            chatTemplate: file.string("tokenizer.chat_template"))
    }
}

extension ChatTemplate {
    /// The chat template of a GGUF file (`tokenizer.chat_template`); ChatML with `isFallback` set
    /// when the file has none or it is not recognised.
    public init(gguf file: GGUFFile) {
        self.init(template: file.string("tokenizer.chat_template"))
    }
}

/// Builds the tokenizer a GGUF file describes (`tokenizer.ggml.model`: `gpt2` or `llama`).
/// - Throws: `TokenizerError.unsupportedModel` / `.unsupportedPreTokenizer` naming the value, or
///   `.missingKey` / `.invalidVocabulary` for incomplete metadata.
public func loadTokenizer(from gguf: GGUFFile) throws -> any Tokenizer {
    try makeTokenizer(TokenizerData(gguf: gguf))
}
