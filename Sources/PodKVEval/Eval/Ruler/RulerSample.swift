import PodKV

/// One generated task instance, tokenized for a model.
public struct RulerSample: Sendable {
    public var task: RulerTask
    /// Prompt token ids (chat-formatted, answer prefix included), `[count]`.
    public var tokens: [Int]
    /// The whole prompt text (for inspection).
    public var text: String
    /// Every one of these must appear in the reply for full credit (score = fraction present).
    public var expected: [String]
    public var maxTokens: Int

    /// Builds sample `seed` of `task` with a prompt of at most `length` tokens for `model`.
    public static func make(_ task: RulerTask, length: Int, seed: UInt64, model: LanguageModel) throws -> RulerSample {
        let c = task.content(length: length, seed: seed)
        func text(_ n: Int) -> String {
            let user = "Read the text below and answer the question after it.\n\n\(c.context(n))\n\n\(c.question)"
            return model.chatTemplate.render([.user(user)], addGenerationPrompt: true) + c.answerPrefix
        }
        let n = try largestFitting(target: length, upperBound: c.maxUnits) { model.tokenizer.encodePrompt(text($0)).count }
        let t = text(n)
        return RulerSample(task: task, tokens: model.tokenizer.encodePrompt(t), text: t, expected: c.expected, maxTokens: c.maxTokens)
    }
}
