import Foundation
import PodKV

/// `POST /v1/chat/completions` body (the fields PodKV reads; unknown fields are ignored as OpenAI's
/// clients send many optional ones).
struct ChatCompletionRequest: Decodable, Sendable {
    var model: String?
    var messages: [Message]
    var sampling: SamplingFields
    var stream: Bool?
    var streamOptions: StreamOptions?

    struct Message: Decodable, Sendable {
        var role: String
        var content: MessageContent?
    }

    enum CodingKeys: String, CodingKey {
        case model, messages, stream
        case streamOptions = "stream_options"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        messages = try c.decode([Message].self, forKey: .messages)
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream)
        streamOptions = try c.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        sampling = try SamplingFields(from: decoder)
    }
}

/// `POST /v1/completions` body.
struct CompletionRequest: Decodable, Sendable {
    var model: String?
    var prompt: PromptField
    var sampling: SamplingFields
    var stream: Bool?
    var streamOptions: StreamOptions?

    enum CodingKeys: String, CodingKey {
        case model, prompt, stream
        case streamOptions = "stream_options"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        prompt = try c.decode(PromptField.self, forKey: .prompt)
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream)
        streamOptions = try c.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        sampling = try SamplingFields(from: decoder)
    }
}

/// `stream_options`: accepted for compatibility; usage is always sent in the last chunk.
struct StreamOptions: Decodable, Sendable {
    var includeUsage: Bool?
    enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
}

/// Sampling and policy fields shared by both completion endpoints.
struct SamplingFields: Decodable, Sendable {
    var maxTokens: Int?
    var temperature: Double?
    var topP: Double?
    var seed: Int64?
    var stop: StopField?
    var n: Int?
    var kvPolicy: KVPolicyField?

    enum CodingKeys: String, CodingKey {
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case temperature
        case topP = "top_p"
        case seed, stop, n
        case kvPolicy = "kv_policy"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens)
            ?? c.decodeIfPresent(Int.self, forKey: .maxCompletionTokens)
        temperature = try c.decodeIfPresent(Double.self, forKey: .temperature)
        topP = try c.decodeIfPresent(Double.self, forKey: .topP)
        seed = try c.decodeIfPresent(Int64.self, forKey: .seed)
        stop = try c.decodeIfPresent(StopField.self, forKey: .stop)
        n = try c.decodeIfPresent(Int.self, forKey: .n)
        kvPolicy = try c.decodeIfPresent(KVPolicyField.self, forKey: .kvPolicy)
    }
}

/// Message content: a string, or an array of `{"type": "text", "text": ...}` parts (joined).
struct MessageContent: Decodable, Sendable {
    var text: String

    private struct Part: Decodable {
        var type: String
        var text: String?
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            text = s
            return
        }
        guard let parts = try? c.decode([Part].self) else {
            throw DecodingError.typeMismatch(String.self, .init(
                codingPath: decoder.codingPath, debugDescription: "expected a string or an array of text parts"))
        }
        if let other = parts.first(where: { $0.type != "text" }) {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "content part of type '\(other.type)' is not supported (text only)"))
        }
        text = parts.compactMap(\.text).joined()
    }
}

/// `prompt` of `/v1/completions`: a string, a one-element array of strings, or an array of token ids.
enum PromptField: Decodable, Sendable {
    case text(String)
    case tokens([Int])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            self = .text(s)
        } else if let ids = try? c.decode([Int].self) {
            self = .tokens(ids)
        } else if let list = try? c.decode([String].self) {
            guard list.count == 1 else {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: decoder.codingPath, debugDescription: "only one prompt per request is supported, got \(list.count)"))
            }
            self = .text(list[0])
        } else {
            throw DecodingError.typeMismatch(String.self, .init(
                codingPath: decoder.codingPath, debugDescription: "expected a string or an array of token ids"))
        }
    }
}

/// `stop`: a string or an array of up to 4 strings.
struct StopField: Decodable, Sendable {
    var strings: [String]

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            strings = [s]
        } else if let list = try? c.decode([String].self) {
            strings = list
        } else {
            throw DecodingError.typeMismatch(String.self, .init(
                codingPath: decoder.codingPath, debugDescription: "expected a string or an array of strings"))
        }
    }
}

/// The `kv_policy` extension field: a spec string (`"pod:group-size=4"`, the CLI's `--kv-policy` form)
/// or an object `{"name": "pod", "options": {"group-size": 4}}` with the same option keys.
struct KVPolicyField: Decodable, Sendable {
    var spec: PolicySpec

    private struct Object: Decodable {
        var name: String
        var options: [String: Scalar]?
    }

    /// An option value: JSON strings, numbers and booleans are all given to the policy as text.
    private struct Scalar: Decodable {
        var text: String
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) {
                text = s
            } else if let i = try? c.decode(Int.self) {
                text = String(i)
            } else if let d = try? c.decode(Double.self) {
                text = String(d)
            } else if let b = try? c.decode(Bool.self) {
                text = String(b)
            } else {
                throw DecodingError.typeMismatch(String.self, .init(
                    codingPath: decoder.codingPath, debugDescription: "an option value must be a string, number or boolean"))
            }
        }
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            do { spec = try PolicySpec(parsing: s) } catch {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
            }
            return
        }
        let object: Object
        do { object = try c.decode(Object.self) } catch {
            throw DecodingError.typeMismatch(String.self, .init(
                codingPath: decoder.codingPath,
                debugDescription: "expected a spec string like \"pod:group-size=4\" or an object {\"name\": ..., \"options\": {...}}"))
        }
        guard !object.name.isEmpty else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "the policy name is empty"))
        }
        // Options sorted by key so that equal objects give equal specs.
        spec = PolicySpec(name: object.name, options: (object.options ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value.text) })
    }
}

/// `POST /tokenize` body (llama.cpp's server uses `content`; `prompt` is accepted too).
struct TokenizeRequest: Decodable, Sendable {
    var content: String?
    var prompt: String?
    /// Add the model's BOS token as a prompt would (default false).
    var addSpecial: Bool?
    /// Parse special-token text such as `<|im_start|>` (default true).
    var parseSpecial: Bool?

    enum CodingKeys: String, CodingKey {
        case content, prompt
        case addSpecial = "add_special"
        case parseSpecial = "parse_special"
    }
}

/// Body of `POST /slots/{name}/save`: which conversation to compute and save (prompt or messages),
/// and with which policy.
struct SlotSaveRequest: Decodable, Sendable {
    var prompt: String?
    var messages: [ChatCompletionRequest.Message]?
    var kvPolicy: KVPolicyField?
    enum CodingKeys: String, CodingKey {
        case prompt, messages
        case kvPolicy = "kv_policy"
    }
}

/// Body of `POST /slots/{name}/restore` (optional): the policy the state must restore into.
struct SlotRestoreRequest: Decodable, Sendable {
    var kvPolicy: KVPolicyField?
    enum CodingKeys: String, CodingKey { case kvPolicy = "kv_policy" }
}

/// Decodes a request body, turning every decoding failure into a 400 that names the field.
enum RequestDecoder {
    static func decode<T: Decodable>(_ type: T.Type, from data: Data, allowEmpty: Bool = false) throws -> T {
        if data.isEmpty {
            guard allowEmpty else { throw APIError.invalid("the request body is empty; expected a JSON object") }
            return try decode(type, from: Data("{}".utf8))
        }
        // Top-level must be an object; JSONDecoder would otherwise report a confusing type mismatch.
        guard (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil else {
            throw APIError.invalid("the request body is not valid JSON")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let e as DecodingError {
            throw describe(e)
        }
    }

    private static func path(_ keys: [CodingKey]) -> String {
        var out = ""
        for k in keys {
            if let i = k.intValue { out += "[\(i)]" } else { out += out.isEmpty ? k.stringValue : ".\(k.stringValue)" }
        }
        return out
    }

    static func describe(_ e: DecodingError) -> APIError {
        switch e {
        case .typeMismatch(let type, let ctx):
            let p = path(ctx.codingPath)
            let expected = ctx.debugDescription.hasPrefix("expected") || ctx.debugDescription.hasPrefix("an option")
                ? ctx.debugDescription : "expected \(jsonName(type))"
            return .invalid(p.isEmpty ? "the request body must be a JSON object" : "field '\(p)': \(expected)", param: p.isEmpty ? nil : p)
        case .valueNotFound(let type, let ctx):
            let p = path(ctx.codingPath)
            return .invalid("field '\(p)' is null; expected \(jsonName(type))", param: p)
        case .keyNotFound(let key, let ctx):
            let p = path(ctx.codingPath + [key])
            return .invalid("missing required field '\(p)'", param: p)
        case .dataCorrupted(let ctx):
            let p = path(ctx.codingPath)
            return .invalid(p.isEmpty ? "the request body is not valid JSON" : "field '\(p)': \(ctx.debugDescription)", param: p.isEmpty ? nil : p)
        @unknown default:
            return .invalid("the request body could not be decoded")
        }
    }

    private static func jsonName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is Bool.Type: "a boolean"
        default: type is any Collection.Type ? "an array" : "an object"
        }
    }
}
