import Foundation
import PodKV

/// Token counts of a response, OpenAI's `usage` plus PodKV's KV-cache fields.
struct Usage: Encodable, Sendable {
    var promptTokens: Int
    var completionTokens: Int
    var totalTokens: Int
    /// Prompt tokens restored from the prompt cache instead of computed.
    var promptTokensDetails: PromptTokensDetails
    /// KV-cache bytes allocated by the request's session at the end of generation.
    var kvBytes: Int
    /// Fraction of a full cache's bytes the policy saved (formula over rows held; 0 for `full`).
    var kvSaving: Double
    /// The KV policy used, as a spec string.
    var kvPolicy: String

    struct PromptTokensDetails: Encodable, Sendable {
        var cachedTokens: Int
        enum CodingKeys: String, CodingKey { case cachedTokens = "cached_tokens" }
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
        case promptTokensDetails = "prompt_tokens_details"
        case kvBytes = "kv_bytes"
        case kvSaving = "kv_saving"
        case kvPolicy = "kv_policy"
    }

    init(_ o: CompletionOutcome) {
        promptTokens = o.promptTokens
        completionTokens = o.completionTokens
        totalTokens = o.promptTokens + o.completionTokens
        promptTokensDetails = PromptTokensDetails(cachedTokens: o.cachedTokens)
        kvBytes = o.kv.allocatedBytes
        kvSaving = o.kv.saving
        kvPolicy = o.policy
    }
}

/// `chat.completion` response.
struct ChatCompletionResponse: Encodable, Sendable {
    var id: String
    var object = "chat.completion"
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: Usage

    struct Choice: Encodable, Sendable {
        var index = 0
        var message: Message
        var finishReason: String
        enum CodingKeys: String, CodingKey {
            case index, message
            case finishReason = "finish_reason"
        }
    }

    struct Message: Encodable, Sendable {
        var role = "assistant"
        var content: String
    }
}

/// `chat.completion.chunk` of a streamed chat.
struct ChatCompletionChunk: Encodable, Sendable {
    var id: String
    var object = "chat.completion.chunk"
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: Usage?

    struct Choice: Encodable, Sendable {
        var index = 0
        var delta: Delta
        var finishReason: String?
        enum CodingKeys: String, CodingKey {
            case index, delta
            case finishReason = "finish_reason"
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(delta, forKey: .delta)
            // OpenAI sends an explicit null until the last chunk.
            try c.encode(finishReason, forKey: .finishReason)
        }
    }

    struct Delta: Encodable, Sendable {
        var role: String?
        var content: String?
    }
}

/// `text_completion` response, and its streamed chunks (same object name, as OpenAI does).
struct TextCompletionResponse: Encodable, Sendable {
    var id: String
    var object = "text_completion"
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: Usage?

    struct Choice: Encodable, Sendable {
        var index = 0
        var text: String
        var finishReason: String?
        enum CodingKeys: String, CodingKey {
            case index, text, logprobs
            case finishReason = "finish_reason"
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encode(text, forKey: .text)
            try c.encodeNil(forKey: .logprobs)
            try c.encode(finishReason, forKey: .finishReason)
        }
    }
}

/// `GET /v1/models`.
struct ModelList: Encodable, Sendable {
    var object = "list"
    var data: [Model]

    struct Model: Encodable, Sendable {
        var id: String
        var object = "model"
        var created: Int
        var ownedBy = "podkv"
        var contextLength: Int
        var kvPolicies: [String]
        enum CodingKeys: String, CodingKey {
            case id, object, created
            case ownedBy = "owned_by"
            case contextLength = "context_length"
            case kvPolicies = "kv_policies"
        }
    }
}

/// OpenAI's finish reason for an engine one.
func openAIFinishReason(_ r: FinishReason) -> String {
    switch r {
    case .stop, .cancelled: "stop"
    case .length, .contextFull: "length"
    }
}

/// JSON encoding shared by every response (no escaped slashes, stable key order for tests and diffs).
enum ResponseJSON {
    static func encode<T: Encodable>(_ value: T) -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Every response type here is plain data; encoding cannot fail.
        return (try? e.encode(value)) ?? Data("{}".utf8)
    }

    /// One server-sent event carrying `value` as JSON: `data: {...}\n\n`.
    static func event<T: Encodable>(_ value: T) -> String {
        "data: " + String(decoding: encode(value), as: UTF8.self) + "\n\n"
    }

    /// The event that ends every stream.
    static let done = "data: [DONE]\n\n"
}
