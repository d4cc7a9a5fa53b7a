import Foundation
import PodKV

/// One needle-in-a-haystack prompt, tokenized, with where the needle landed.
public struct NIAHPrompt: Sendable {
    /// Prompt token ids (BOS and chat formatting included), `[count]`.
    public var tokens: [Int]
    /// Token index where the needle sentence starts.
    public var needlePosition: Int
    /// Token span of the document (haystack with the needle) inside the prompt.
    public var documentTokens: Range<Int>
    /// Tokens of the needle sentence.
    public var needleTokens: Int
    /// Percent of the haystack's tokens that precede the needle (0 = first, 100 = last), measured on
    /// the tokenized prompt.
    public var measuredDepth: Double
    /// Haystack sentences used.
    public var sentenceCount: Int
}

/// Builds chat-formatted NIAH prompts of a requested token length with the needle at a requested depth.
///
/// The user turn is `instructions`, the document (haystack sentences with the needle inserted between
/// two of them), then the question; `answerPrefix` (optional) is appended after the assistant turn
/// opens. The number of sentences is the largest that keeps the prompt within the length; the needle
/// goes after the sentence whose cumulative token count is nearest to `depth` of the haystack's tokens.
public struct NIAHPromptBuilder {
    public let model: LanguageModel
    public let haystack: Haystack
    public let needle: Needle
    public var instructions: String
    public var answerPrefix: String

    public static let defaultInstructions =
        "Below is a long document. Somewhere in it is one fact that you will be asked about. Read the document, then answer the question after it."

    public init(model: LanguageModel, haystack: Haystack, needle: Needle,
                instructions: String = NIAHPromptBuilder.defaultInstructions, answerPrefix: String = "") {
        self.model = model
        self.haystack = haystack
        self.needle = needle
        self.instructions = instructions
        self.answerPrefix = answerPrefix
    }

    /// A prompt of at most `length` tokens with the needle at `depth` percent (0...100).
    public func build(length: Int, depth: Double) throws -> NIAHPrompt {
        guard (0...100).contains(depth) else { throw EvalError.badInput("depth \(depth) is outside 0...100 percent") }
        guard length >= 1 else { throw EvalError.badInput("length \(length) must be positive") }
        let tok = model.tokenizer
        // Token counts per sentence (with the separating space) bound the search and place the needle.
        let pool = try haystack.sentences(length + 1)
        var counts: [Int] = []
        var total = 0
        for s in pool {
            let c = tok.encode(" " + s, parseSpecial: false).count
            counts.append(c)
            total += c
            if total > length { break }
        }
        let sentences = Array(pool.prefix(counts.count))
        let n = try largestFitting(target: length, upperBound: sentences.count) { n in
            tok.encodePrompt(render(sentences: Array(sentences[0..<n]), counts: Array(counts[0..<n]), depth: depth).text).count
        }
        guard n >= 1 else {
            throw EvalError.cannotFit("a \(length)-token prompt has no room for any haystack sentence next to the instructions, needle and question")
        }
        let r = render(sentences: Array(sentences[0..<n]), counts: Array(counts[0..<n]), depth: depth)
        let tokens = tok.encodePrompt(r.text)
        // Token positions of the document start, the needle and the document end, by tokenizing prefixes.
        func position(_ offset: String.Index) -> Int { tok.encodePrompt(String(r.text[..<offset])).count }
        let docStart = position(r.documentStart), needleAt = position(r.needleStart)
        let needleEnd = position(r.needleEnd), docEnd = position(r.documentEnd)
        let haystackTokens = max(1, (docEnd - docStart) - (needleEnd - needleAt))
        return NIAHPrompt(
            tokens: tokens, needlePosition: needleAt, documentTokens: docStart..<docEnd, needleTokens: needleEnd - needleAt,
            measuredDepth: 100 * Double(needleAt - docStart) / Double(haystackTokens), sentenceCount: n)
    }

    private struct Rendered {
        var text: String
        var documentStart: String.Index, needleStart: String.Index, needleEnd: String.Index, documentEnd: String.Index
    }

    /// The whole prompt text with the needle after the sentence nearest `depth` percent of the tokens.
    private func render(sentences: [String], counts: [Int], depth: Double) -> Rendered {
        let total = counts.reduce(0, +)
        var k = 0, best = Double.infinity, cum = 0
        for i in 0...sentences.count {
            let d = abs(Double(cum) - depth / 100 * Double(total))
            if d < best { best = d; k = i }
            if i < counts.count { cum += counts[i] }
        }
        let before = sentences[0..<k].joined(separator: " ")
        let after = sentences[k...].joined(separator: " ")
        let docMarker = "\u{1}DOC\u{1}", needleMarker = "\u{1}NEEDLE\u{1}", endMarker = "\u{1}END\u{1}", docEndMarker = "\u{1}DEND\u{1}"
        let document = [before, needleMarker + needle.text + endMarker, after].filter { !$0.isEmpty }.joined(separator: " ")
        let user = "\(instructions)\n\n\(docMarker)\(document)\(docEndMarker)\n\n\(needle.question)"
        var text = model.chatTemplate.render([.user(user)], addGenerationPrompt: true) + answerPrefix
        // Markers are removed again; their offsets are where the spans begin and end.
        var offsets: [Int] = []
        for m in [docMarker, needleMarker, endMarker, docEndMarker] {
            let range = text.range(of: m)!
            offsets.append(text.distance(from: text.startIndex, to: range.lowerBound))
            text.removeSubrange(range)
        }
        let idx = offsets.map { text.index(text.startIndex, offsetBy: $0) }
        return Rendered(text: text, documentStart: idx[0], needleStart: idx[1], needleEnd: idx[2], documentEnd: idx[3])
    }
}
