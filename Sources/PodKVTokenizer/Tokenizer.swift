/// A text <-> token id mapping for one model vocabulary.
///
/// Implementations are immutable after construction (any internal caches are synchronised), so one
/// tokenizer can be shared by every session of an engine.
public protocol Tokenizer: Sendable {
    /// Number of entries in the vocabulary; valid ids are `0..<vocabularySize`.
    var vocabularySize: Int { get }
    /// Beginning-of-sequence id (`tokenizer.ggml.bos_token_id`), if the model has one.
    var bosID: Int? { get }
    /// End-of-sequence id (`tokenizer.ggml.eos_token_id`), if the model has one.
    var eosID: Int? { get }
    /// Padding id (`tokenizer.ggml.padding_token_id`), if the model has one.
    var paddingID: Int? { get }
    /// Whether a prompt should start with `bosID` (`tokenizer.ggml.add_bos_token`).
    var addBOS: Bool { get }
    /// Ids whose generation ends a reply: EOS plus `<|im_end|>`, `<|eot_id|>`, `<|endoftext|>`, ...
    /// where the vocabulary has them.
    var endOfGenerationIDs: Set<Int> { get }

    /// Tokenizes `text` without adding BOS.
    ///
    /// - Parameter parseSpecial: when true, the text of control tokens (e.g. `<|im_start|>`) becomes
    ///   their id; when false it is tokenized as ordinary text. User-defined tokens (GGUF token type
    ///   4) are always matched, as in llama.cpp and Hugging Face `tokenizers`.
    /// - Returns: token ids, `[count]`.
    func encode(_ text: String, parseSpecial: Bool) -> [Int]

    /// Turns ids back into text; special tokens decode to their text. Invalid UTF-8 (e.g. a
    /// multi-byte character cut in half) becomes U+FFFD.
    func decode(_ ids: [Int]) -> String

    /// The raw vocabulary entry for `id` (e.g. `Ġthe`, `▁the`, `<0x0A>`), or nil if out of range.
    func tokenText(_ id: Int) -> String?

    /// The bytes `id` contributes to decoded text: `Ġthe` -> " the", `<0x0A>` -> [0x0A], a special
    /// token -> its text. Out-of-range ids give no bytes. May be an incomplete UTF-8 sequence.
    func pieceBytes(_ id: Int) -> [UInt8]

    /// Whether `id` is a control, user-defined or unknown token rather than ordinary text.
    func isSpecial(_ id: Int) -> Bool

    /// The id of a special (control or user-defined) token by its exact text, e.g. `"<|im_end|>"`.
    func id(forSpecial text: String) -> Int?
}

extension Tokenizer {
    /// Whether generating `id` should end the reply.
    public func isEndOfGeneration(_ id: Int) -> Bool {
        endOfGenerationIDs.contains(id)
    }

    /// Tokenizes a whole prompt: BOS first when the model asks for it (`addBOS`), then
    /// `encode(text, parseSpecial:)`. A prompt that already starts with BOS text does not get a
    /// second one.
    /// - Returns: token ids, `[count]`.
    public func encodePrompt(_ text: String, parseSpecial: Bool = true) -> [Int] {
        let body = encode(text, parseSpecial: parseSpecial)
        guard addBOS, let bos = bosID, body.first != bos else { return body }
        return [bos] + body
    }
}

/// Why a tokenizer could not be built from a vocabulary.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    /// `tokenizer.ggml.model` names a tokenizer family this library does not implement.
    case unsupportedModel(String)
    /// `tokenizer.ggml.pre` names a pre-tokenizer this library does not implement.
    case unsupportedPreTokenizer(String)
    /// A required metadata key is absent.
    case missingKey(String)
    /// The metadata is present but inconsistent (e.g. array lengths differ).
    case invalidVocabulary(String)

    /// A message naming the offending value.
    public var description: String {
        switch self {
        case .unsupportedModel(let name):
            return "unsupported tokenizer model '\(name)' (supported: gpt2, llama)"
        case .unsupportedPreTokenizer(let name):
            return "unsupported pre-tokenizer '\(name)' (supported: \(PreTokenizer.supportedNames.joined(separator: ", ")))"
        case .missingKey(let key):
            return "tokenizer metadata key '\(key)' is missing"
        case .invalidVocabulary(let reason):
            return "invalid tokenizer vocabulary: \(reason)"
        }
    }
}
