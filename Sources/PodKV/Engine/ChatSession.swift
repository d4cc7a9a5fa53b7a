import PodKVTokenizer

/// A multi-turn conversation that keeps its KV cache between turns.
///
/// Each turn renders the whole conversation with the model's chat template; when the new prompt text
/// extends the text the cache already holds (previous prompt + reply), only the new part is tokenized
/// and computed. Otherwise (a template that rewrites earlier turns) the prompt is recomputed in full.
public final class ChatSession: @unchecked Sendable {
    public let session: Session
    public let template: ChatTemplate
    public private(set) var messages: [ChatMessage]
    /// Text represented by `heldIDs`.
    private var heldText = ""
    /// Token ids of the conversation so far (prompt and reply tokens).
    private var heldIDs: [Int] = []

    public init(session: Session, template: ChatTemplate? = nil, system: String? = nil) {
        self.session = session
        self.template = template ?? session.model.chatTemplate
        self.messages = system.map { [.system($0)] } ?? []
    }

    /// Adds a user message, generates the assistant's reply and records it in the conversation.
    public func send(_ text: String, options: GenerationOptions = GenerationOptions(),
                     onEvent: ((GenerationEvent) -> Void)? = nil) throws -> GenerationResult {
        let tokenizer = session.model.tokenizer
        let turn = messages + [.user(text)]
        let prompt = template.render(turn, addGenerationPrompt: true)
        let ids: [Int]
        if !heldIDs.isEmpty, prompt.hasPrefix(heldText) {
            ids = heldIDs + tokenizer.encode(String(prompt.dropFirst(heldText.count)), parseSpecial: true)
        } else {
            ids = tokenizer.encodePrompt(prompt, parseSpecial: true)
        }
        let result = try session.generate(prompt: ids, options: options, onEvent: onEvent)
        messages = turn + [.assistant(result.text)]
        heldIDs = ids + result.tokenIDs
        heldText = prompt + tokenizer.decode(result.tokenIDs)
        return result
    }

    /// Starts a new conversation (keeps the system message).
    public func reset() {
        messages = messages.first?.role == "system" ? [messages[0]] : []
        heldIDs = []
        heldText = ""
        session.reset()
    }
}
