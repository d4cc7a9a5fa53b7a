/// A model's chat template, reduced to what PodKV renders: the format, and the default system
/// prompt the template inserts when a conversation has none.
public struct ChatTemplate: Sendable, Equatable {
    /// The layout used to render prompts.
    public let format: ChatFormat
    /// System text inserted when the conversation does not start with a system message.
    public let defaultSystemPrompt: String?
    /// True when the template was missing or not recognised and ChatML was assumed; callers should
    /// log a warning.
    public let isFallback: Bool

    /// A template with an explicit format.
    public init(format: ChatFormat, defaultSystemPrompt: String? = nil) {
        self.format = format
        self.defaultSystemPrompt = defaultSystemPrompt
        self.isFallback = false
    }

    /// Reads a `tokenizer.chat_template` text. Missing or unrecognised templates give ChatML with
    /// `isFallback` set.
    public init(template: String?) {
        if let format = ChatFormat.detect(template: template) {
            self.format = format
            self.isFallback = false
        } else {
            self.format = .chatml
            self.isFallback = true
        }
        self.defaultSystemPrompt = format == .chatml ? template.flatMap(ChatTemplate.chatMLDefaultSystemPrompt) : nil
    }

    /// Renders a conversation; see `ChatFormat.render`.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        format.render(messages, addGenerationPrompt: addGenerationPrompt, defaultSystemPrompt: defaultSystemPrompt)
    }

    /// Texts that end an assistant turn; see `ChatFormat.stopStrings`.
    public var stopStrings: [String] { format.stopStrings }

    /// Ids that end an assistant turn in this vocabulary: EOS plus the format's stop texts that
    /// are special tokens.
    public func stopTokenIDs(_ tokenizer: any Tokenizer) -> Set<Int> {
        var ids = Set(stopStrings.compactMap { tokenizer.id(forSpecial: $0) })
        if let eos = tokenizer.eosID { ids.insert(eos) }
        return ids
    }

    /// Finds a literal default system turn in a ChatML Jinja template: a string constant
    /// `'<|im_start|>system\n...<|im_end|>'` whose body holds no template code. Templates write
    /// the newline either raw or as `\n`; Jinja escapes in the body are undone.
    static func chatMLDefaultSystemPrompt(_ template: String) -> String? {
        let marker = "<|im_start|>system"
        let end = "<|im_end|>"
        var searchStart = template.startIndex
        while let markerRange = template.range(of: marker, range: searchStart..<template.endIndex) {
            searchStart = markerRange.upperBound
            // The quote that opened the string constant the marker sits in.
            guard markerRange.lowerBound > template.startIndex else { continue }
            let quote = template[template.index(before: markerRange.lowerBound)]
            guard quote == "'" || quote == "\"" else { continue }
            var bodyStart = markerRange.upperBound
            if template[bodyStart...].hasPrefix("\\n") {
                bodyStart = template.index(bodyStart, offsetBy: 2)
            } else if template[bodyStart...].hasPrefix("\n") {
                bodyStart = template.index(after: bodyStart)
            } else {
                continue
            }
            guard let endRange = template.range(of: end, range: bodyStart..<template.endIndex) else { continue }
            let body = template[bodyStart..<endRange.lowerBound]
            if let text = unescapedLiteral(body, quote: quote), !text.isEmpty { return text }
        }
        return nil
    }

    /// Undoes Jinja string escapes; nil if `body` closes the string (an unescaped `quote`), i.e.
    /// the text is built from expressions rather than being a constant.
    private static func unescapedLiteral(_ body: Substring, quote: Character) -> String? {
        var out = ""
        var escaping = false
        for character in body {
            if escaping {
                switch character {
                case "n": out.append("\n")
                case "t": out.append("\t")
                default: out.append(character)
                }
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else if character == quote {
                return nil
            } else {
                out.append(character)
            }
        }
        return escaping ? nil : out
    }
}
