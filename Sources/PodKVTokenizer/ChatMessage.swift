/// One turn of a conversation, as chat templates see it.
public struct ChatMessage: Sendable, Equatable {
    /// `system`, `user` or `assistant` (templates print other roles verbatim where they can).
    public var role: String
    /// The text of the turn.
    public var content: String

    /// A turn with any role.
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    /// A system message.
    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
    /// A user message.
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
    /// An assistant message.
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }
}
