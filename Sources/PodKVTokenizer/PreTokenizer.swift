/// How byte-level BPE text is cut into words before merging (`tokenizer.ggml.pre`).
///
/// Each case reproduces the regex llama.cpp (`llama-vocab.cpp`, `unicode.cpp`) applies for that
/// name, implemented as a scanner over Unicode scalars: regex engines are slower and disagree on
/// Unicode classes in corner cases.
public enum PreTokenizer: String, Sendable, CaseIterable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// SmolLM (and StarCoder, Refact, Command-R ...): first every `\p{N}` scalar is split off on its
    /// own, then each piece gets the GPT-2 regex. So numbers become single digits and a space before
    /// a digit stays a separate word.
    case smollm
    /// Qwen2: the Llama-3 regex with single-digit numbers (`\p{N}` instead of `\p{N}{1,3}`).
    case qwen2
    /// Llama 3 (`llama-bpe`): `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
    /// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    case llama3

    /// Every `tokenizer.ggml.pre` value accepted, for error messages.
    public static let supportedNames = ["default", "gpt2", "gpt-2", "smollm", "qwen2", "llama3", "llama-bpe", "llama-v3"]

    /// Maps a `tokenizer.ggml.pre` value to its pre-tokenizer; nil or `default` means GPT-2.
    /// - Throws: `TokenizerError.unsupportedPreTokenizer` naming any other value.
    public init(name: String?) throws {
        switch name ?? "default" {
        case "default", "gpt2", "gpt-2": self = .gpt2
        case "smollm": self = .smollm
        case "qwen2": self = .qwen2
        case "llama3", "llama-bpe", "llama-v3": self = .llama3
        case let other: throw TokenizerError.unsupportedPreTokenizer(other)
        }
    }

    /// Whether a word that is itself a vocabulary entry is taken whole instead of merged, as
    /// llama.cpp does for Llama 3 (`ignore_merges`).
    var ignoresMerges: Bool { self == .llama3 }

    /// Splits `text` into words; concatenated they give back `text`.
    public func split(_ text: String) -> [String] {
        let scalarText = ScalarText(text.unicodeScalars)
        let scalars = Array(text.unicodeScalars)
        return split(scalarText).map { range in
            var word = String.UnicodeScalarView()
            word.append(contentsOf: scalars[range])
            return String(word)
        }
    }

    /// Splits scanned text into word ranges (scalar indices) covering it in order.
    func split(_ text: ScalarText) -> [Range<Int>] {
        var words: [Range<Int>] = []
        words.reserveCapacity(text.count / 3 + 1)
        let all = 0..<text.count
        switch self {
        case .gpt2:
            splitGPT2(text, all, into: &words)
        case .qwen2:
            splitLlama3(text, all, maxDigits: 1, into: &words)
        case .llama3:
            splitLlama3(text, all, maxDigits: 3, into: &words)
        case .smollm:
            // Pass 1 (`\p{N}`): each number scalar is its own piece, the text between them another.
            // Pass 2: GPT-2 on every piece, which sees each piece as a whole text.
            var pieceStart = 0
            for i in all where text.classes[i].contains(.number) {
                if pieceStart < i { splitGPT2(text, pieceStart..<i, into: &words) }
                words.append(i..<(i + 1))
                pieceStart = i + 1
            }
            if pieceStart < text.count { splitGPT2(text, pieceStart..<text.count, into: &words) }
        }
        return words
    }
}
