import Foundation
import PodKV

/// The main job of PodKV: answer a question about a long document under one or more KV policies, and
/// report the answer next to the KV memory held (against the full cache) and the speed.
public struct DocumentQA {
    /// One policy's answer and costs.
    public struct Outcome: Sendable {
        public var policy: PolicySpec
        public var answer: String
        /// Whether the expected answer appears in the reply (nil when no answer is known).
        public var correct: Bool?
        public var stats: GenerationStats
    }

    public let model: LanguageModel

    public init(model: LanguageModel) { self.model = model }

    /// Chat-formatted prompt ids: the document, then the question.
    public func prompt(document: String, question: String) -> [Int] {
        let text = document + "\n\n" + question
        return model.tokenizer.encodePrompt(model.chatTemplate.render([.user(text)], addGenerationPrompt: true), parseSpecial: true)
    }

    /// Answers under `policy` (greedy, at most `maxTokens` tokens).
    public func answer(
        document: String, question: String, expected: String?, policy: PolicySpec, maxTokens: Int = 32,
        warn: @escaping @Sendable (String) -> Void = { _ in }, progress: ((Int, Int) -> Void)? = nil
    ) throws -> Outcome {
        let ids = prompt(document: document, question: question)
        guard ids.count + maxTokens <= model.config.contextLength else {
            throw EngineError.promptTooLong(tokens: ids.count, limit: model.config.contextLength)
        }
        let session = try Session(model: model, policy: policy, warn: warn)
        let result = try session.generate(prompt: ids, options: GenerationOptions(maxTokens: maxTokens)) { event in
            if case .prefill(let done, let total) = event { progress?(done, total) }
        }
        let text = result.text.trimmingCharacters(in: .whitespacesAndNewlines)
        return Outcome(policy: policy, answer: text, correct: expected.map { text.contains($0) }, stats: result.stats)
    }
}
