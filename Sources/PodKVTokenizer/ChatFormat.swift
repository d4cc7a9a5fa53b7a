/// The prompt layouts PodKV can render. Rendering is written out per format rather than by
/// evaluating the model's Jinja template; `ChatTemplate` picks the format from the template text.
public enum ChatFormat: String, Sendable, CaseIterable {
    /// `<|im_start|>role\ncontent<|im_end|>\n` (Qwen, SmolLM, many others).
    case chatml
    /// `<|begin_of_text|><|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>`.
    case llama3
    /// `<s>[INST] <<SYS>>\nsystem\n<</SYS>>\n\nuser [/INST] assistant </s>`.
    case llama2

    /// Picks the format from a `tokenizer.chat_template` text by its marker tokens.
    /// - Returns: nil when the template is missing or shows none of the markers.
    public static func detect(template: String?) -> ChatFormat? {
        guard let template else { return nil }
        if template.contains("<|im_start|>") { return .chatml }
        if template.contains("<|start_header_id|>") { return .llama3 }
        if template.contains("[INST]") { return .llama2 }
        return nil
    }

    /// Texts that end an assistant turn in this format; generation should stop at them.
    public var stopStrings: [String] {
        switch self {
        case .chatml: return ["<|im_end|>", "<|endoftext|>"]
        case .llama3: return ["<|eot_id|>", "<|end_of_text|>"]
        case .llama2: return ["</s>"]
        }
    }

    /// Whether the rendered prompt already starts with the BOS token's text, so the caller must
    /// not add a BOS id in front (encode it with `encode(_:parseSpecial: true)`).
    public var rendersBOS: Bool {
        switch self {
        case .chatml: return false
        case .llama3, .llama2: return true
        }
    }

    /// Renders a conversation as prompt text.
    ///
    /// - Parameters:
    ///   - messages: the turns, oldest first.
    ///   - addGenerationPrompt: append the opening of an assistant turn, so the model answers next.
    ///   - defaultSystemPrompt: system text inserted first when `messages` does not start with a
    ///     system message (both the Qwen2.5 and SmolLM2 templates do this); nil inserts nothing.
    public func render(
        _ messages: [ChatMessage], addGenerationPrompt: Bool, defaultSystemPrompt: String? = nil
    ) -> String {
        var turns = messages
        if let defaultSystemPrompt, let first = turns.first, first.role != "system" {
            turns.insert(.system(defaultSystemPrompt), at: 0)
        }
        switch self {
        case .chatml: return renderChatML(turns, addGenerationPrompt: addGenerationPrompt)
        case .llama3: return renderLlama3(turns, addGenerationPrompt: addGenerationPrompt)
        case .llama2: return renderLlama2(turns)
        }
    }

    private func renderChatML(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        var out = ""
        for message in messages {
            out += "<|im_start|>\(message.role)\n\(message.content)<|im_end|>\n"
        }
        if addGenerationPrompt { out += "<|im_start|>assistant\n" }
        return out
    }

    // Meta's Llama 3 template: contents are trimmed, BOS text opens the conversation.
    private func renderLlama3(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        var out = "<|begin_of_text|>"
        for message in messages {
            out += "<|start_header_id|>\(message.role)<|end_header_id|>\n\n\(message.content.trimmed())<|eot_id|>"
        }
        if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }
        return out
    }

    // Meta's Llama 2 template: the system text is folded into the first user turn; every user
    // turn opens with BOS text, every assistant turn closes with EOS text. The prompt already
    // ends where the assistant speaks, so there is no separate generation prompt.
    private func renderLlama2(_ messages: [ChatMessage]) -> String {
        var turns = messages
        var system: String?
        if let first = turns.first, first.role == "system" {
            system = first.content
            turns.removeFirst()
        }
        var out = ""
        for (index, message) in turns.enumerated() {
            var content = message.content
            if index == 0, let system {
                content = "<<SYS>>\n\(system)\n<</SYS>>\n\n\(content)"
            }
            switch message.role {
            case "user": out += "<s>[INST] \(content.trimmed()) [/INST]"
            case "assistant": out += " \(content.trimmed()) </s>"
            default: break  // the Llama 2 template has no place for other roles
            }
        }
        return out
    }
}

extension String {
    /// Without leading and trailing whitespace, like Jinja's `trim` / Python's `strip()`.
    func trimmed() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
