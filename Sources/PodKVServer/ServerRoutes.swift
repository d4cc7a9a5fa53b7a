import Foundation
import Hummingbird
import PodKV

/// The HTTP surface of `podkv serve`: OpenAI-compatible endpoints plus `/tokenize`, `/health`,
/// `/metrics` and named KV-state slots. Handlers only parse, validate and format; generation runs on the
/// engine's compute threads.
public enum PodKVServer {
    /// A router with every endpoint of the server bound to `engine`.
    public static func makeRouter(engine: CompletionEngine) -> Router<BasicRequestContext> {
        let router = Router()
        let h = Handlers(engine: engine)
        router.post("/v1/chat/completions") { req, ctx in await h.respond("chat_completions", req) { try await h.chat($0) } }
        router.post("/v1/completions") { req, ctx in await h.respond("completions", req) { try await h.completion($0) } }
        router.get("/v1/models") { req, ctx in await h.respond("models", req) { _ in h.models() } }
        router.get("/health") { req, ctx in await h.respond("health", req) { _ in h.health() } }
        router.post("/tokenize") { req, ctx in await h.respond("tokenize", req) { try h.tokenize($0) } }
        router.get("/metrics") { req, ctx in
            engine.metrics.countRequest("metrics")
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: engine.metricsText())))
        }
        router.post("/slots/:name/save") { req, ctx in
            let name = ctx.parameters.get("name") ?? ""
            return await h.respond("slot_save", req) { try await h.saveSlot(name, $0) }
        }
        router.post("/slots/:name/restore") { req, ctx in
            let name = ctx.parameters.get("name") ?? ""
            return await h.respond("slot_restore", req) { try await h.restoreSlot(name, $0) }
        }
        return router
    }

    /// Loads nothing itself: serves `engine` on `configuration.host:port` until the process is stopped.
    public static func run(engine: CompletionEngine, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let c = engine.configuration
        let app = Application(
            router: makeRouter(engine: engine),
            configuration: .init(address: .hostname(c.host, port: c.port), serverName: "podkv"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? c.port) })
        try await app.runService()
    }
}

/// The endpoint implementations.
struct Handlers: Sendable {
    let engine: CompletionEngine

    /// Collects the body, runs `body`, and turns any thrown error into an OpenAI-style error response;
    /// counts the request and its errors.
    func respond(_ endpoint: String, _ request: Request, _ body: (Data) async throws -> Response) async -> Response {
        engine.metrics.countRequest(endpoint)
        do {
            var req = request
            let buffer: ByteBuffer
            do { buffer = try await req.collectBody(upTo: engine.configuration.maxBodyBytes) } catch {
                throw APIError(status: .contentTooLarge, type: "invalid_request_error",
                               message: "the request body is larger than \(engine.configuration.maxBodyBytes) bytes")
            }
            return try await body(Data(buffer.readableBytesView))
        } catch {
            let e = APIError.from(error)
            engine.metrics.countError(status: e.status.code)
            return Response(status: e.status, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(bytes: e.body)))
        }
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: ResponseJSON.encode(value))))
    }

    static func now() -> Int { Int(Date().timeIntervalSince1970) }

    static func newID(_ prefix: String) -> String {
        prefix + String(UInt64.random(in: 0 ... .max), radix: 16)
    }

    // MARK: - Completions

    func chat(_ data: Data) async throws -> Response {
        let r = try RequestDecoder.decode(ChatCompletionRequest.self, from: data)
        guard !r.messages.isEmpty else { throw APIError.invalid("'messages' is empty; send at least one message", param: "messages") }
        let messages = try chatMessages(r.messages, field: "messages")
        let prompt = engine.model.tokenizer.encodePrompt(
            engine.model.chatTemplate.render(messages, addGenerationPrompt: true), parseSpecial: true)
        let job = try makeJob(prompt: prompt, r.sampling)
        let id = Self.newID("chatcmpl-"), created = Self.now(), model = engine.configuration.modelID
        if r.stream == true {
            return try stream(job) { event in
                switch event {
                case .start:
                    ResponseJSON.event(ChatCompletionChunk(id: id, created: created, model: model, choices: [
                        .init(delta: .init(role: "assistant", content: ""), finishReason: nil)]))
                case .text(let t):
                    ResponseJSON.event(ChatCompletionChunk(id: id, created: created, model: model, choices: [
                        .init(delta: .init(content: t), finishReason: nil)]))
                case .end(let o):
                    ResponseJSON.event(ChatCompletionChunk(id: id, created: created, model: model, choices: [
                        .init(delta: .init(), finishReason: openAIFinishReason(o.finishReason))], usage: Usage(o)))
                }
            }
        }
        let o = try await run(job)
        return Self.json(ChatCompletionResponse(
            id: id, created: created, model: model,
            choices: [.init(message: .init(content: o.text), finishReason: openAIFinishReason(o.finishReason))],
            usage: Usage(o)))
    }

    func completion(_ data: Data) async throws -> Response {
        let r = try RequestDecoder.decode(CompletionRequest.self, from: data)
        let prompt: [Int]
        switch r.prompt {
        case .text(let s):
            guard !s.isEmpty else { throw APIError.invalid("'prompt' is empty", param: "prompt") }
            prompt = engine.model.tokenizer.encodePrompt(s, parseSpecial: true)
        case .tokens(let ids):
            guard !ids.isEmpty else { throw APIError.invalid("'prompt' is an empty token list", param: "prompt") }
            let vocab = engine.model.config.vocabSize
            if let bad = ids.first(where: { $0 < 0 || $0 >= vocab }) {
                throw APIError.invalid("token id \(bad) in 'prompt' is outside the vocabulary (0..<\(vocab))", param: "prompt")
            }
            prompt = ids
        }
        let job = try makeJob(prompt: prompt, r.sampling)
        let id = Self.newID("cmpl-"), created = Self.now(), model = engine.configuration.modelID
        if r.stream == true {
            return try stream(job) { event in
                switch event {
                case .start: ""
                case .text(let t):
                    ResponseJSON.event(TextCompletionResponse(id: id, created: created, model: model, choices: [.init(text: t)]))
                case .end(let o):
                    ResponseJSON.event(TextCompletionResponse(
                        id: id, created: created, model: model,
                        choices: [.init(text: "", finishReason: openAIFinishReason(o.finishReason))], usage: Usage(o)))
                }
            }
        }
        let o = try await run(job)
        return Self.json(TextCompletionResponse(
            id: id, created: created, model: model,
            choices: [.init(text: o.text, finishReason: openAIFinishReason(o.finishReason))], usage: Usage(o)))
    }

    /// Engine chat messages from request messages; roles are checked, content must be present.
    func chatMessages(_ list: [ChatCompletionRequest.Message], field: String) throws -> [ChatMessage] {
        try list.enumerated().map { i, m in
            guard ["system", "user", "assistant", "developer", "tool"].contains(m.role) else {
                throw APIError.invalid("'\(field)[\(i)].role' is '\(m.role)'; expected system, user, assistant, developer or tool",
                                       param: "\(field)[\(i)].role")
            }
            guard let content = m.content else {
                throw APIError.invalid("'\(field)[\(i)].content' is missing", param: "\(field)[\(i)].content")
            }
            // OpenAI's "developer" role is the newer name of "system".
            return ChatMessage(role: m.role == "developer" ? "system" : m.role, content: content.text)
        }
    }

    /// Validates the sampling fields and the prompt length against the context limit.
    func makeJob(prompt: [Int], _ s: SamplingFields) throws -> CompletionJob {
        let limit = engine.contextLimit
        guard !prompt.isEmpty else { throw APIError.invalid("the prompt is empty", param: "prompt") }
        guard prompt.count < limit else {
            throw APIError.invalid(
                "the prompt has \(prompt.count) tokens; the context limit is \(limit) tokens (prompt plus at least one generated token)",
                param: "messages")
        }
        if let n = s.n, n != 1 { throw APIError.invalid("'n' must be 1 (got \(n)); one choice per request", param: "n") }
        let maxTokens = s.maxTokens ?? engine.configuration.defaultMaxTokens
        guard maxTokens >= 1, maxTokens <= limit else {
            throw APIError.invalid("'max_tokens' must be in 1...\(limit) (the context limit), got \(maxTokens)", param: "max_tokens")
        }
        let temperature = s.temperature ?? 1
        guard temperature.isFinite, (0...2).contains(temperature) else {
            throw APIError.invalid("'temperature' must be in [0, 2], got \(temperature)", param: "temperature")
        }
        let topP = s.topP ?? 1
        guard topP.isFinite, topP > 0, topP <= 1 else {
            throw APIError.invalid("'top_p' must be in (0, 1], got \(topP)", param: "top_p")
        }
        let stop = s.stop?.strings ?? []
        guard stop.count <= 4, stop.allSatisfy({ !$0.isEmpty }) else {
            throw APIError.invalid("'stop' takes at most 4 non-empty strings", param: "stop")
        }
        // OpenAI semantics: no top-k, no min-p, no repetition penalty unless asked.
        let sampling = SamplingOptions(
            temperature: Float(temperature), topK: 0, topP: Float(topP), minP: 0, repetitionPenalty: 1,
            seed: UInt64(bitPattern: s.seed ?? 0))
        // Generation stops at the context limit even when max_tokens would go past it.
        let options = GenerationOptions(maxTokens: min(maxTokens, limit - prompt.count), sampling: sampling, stop: stop)
        return CompletionJob(prompt: prompt, policy: try engine.policy(s.kvPolicy), options: options)
    }

    /// Runs a job to completion on a compute thread.
    func run(_ job: CompletionJob) async throws -> CompletionOutcome {
        let engine = engine
        return try await engine.queue.run { try engine.complete(job, cancel: CancellationFlag()) { _ in } }
    }

    /// Events of a streamed generation, formatted by each endpoint.
    enum StreamEvent {
        case start
        case text(String)
        case end(CompletionOutcome)
    }

    private enum Item: Sendable {
        case text(String)
        case end(CompletionOutcome)
        case failed(APIError)
    }

    /// Starts `job` on a compute thread (429 at once if the queue is full) and answers with server-sent
    /// events: `format`'s chunks, an error event if generation fails, then `data: [DONE]`. A client that
    /// disconnects makes the next write fail; the generation is then cancelled and its thread freed.
    func stream(_ job: CompletionJob, format: @escaping @Sendable (StreamEvent) -> String) throws -> Response {
        let (items, continuation) = AsyncStream<Item>.makeStream()
        let cancel = CancellationFlag()
        continuation.onTermination = { _ in cancel.cancel() }
        let engine = engine
        try engine.queue.submit({
            guard !cancel.isCancelled else { return }
            do {
                let outcome = try engine.complete(job, cancel: cancel) { continuation.yield(.text($0)) }
                continuation.yield(.end(outcome))
            } catch {
                continuation.yield(.failed(APIError.from(error)))
            }
        }, then: { continuation.finish() })
        let body = ResponseBody { writer in
            do {
                try await writer.write(ByteBuffer(string: format(.start)))
                for await item in items {
                    switch item {
                    case .text(let t): try await writer.write(ByteBuffer(string: format(.text(t))))
                    case .end(let o): try await writer.write(ByteBuffer(string: format(.end(o))))
                    case .failed(let e):
                        engine.metrics.countError(status: e.status.code)
                        try await writer.write(ByteBuffer(string: "data: " + String(decoding: e.body, as: UTF8.self) + "\n\n"))
                    }
                }
                try await writer.write(ByteBuffer(string: ResponseJSON.done))
                try await writer.finish(nil)
            } catch {
                cancel.cancel()
                throw error
            }
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    // MARK: - Other endpoints

    func models() -> Response {
        Self.json(ModelList(data: [.init(
            id: engine.configuration.modelID, created: Self.now(), contextLength: engine.contextLimit,
            kvPolicies: KVPolicyRegistry.names)]))
    }

    func health() -> Response {
        struct Health: Encodable {
            var status = "ok"
            var model: String
            var running: Int
            var queued: Int
            var parallel: Int
        }
        return Self.json(Health(
            model: engine.configuration.modelID, running: engine.queue.running, queued: engine.queue.queueDepth,
            parallel: engine.queue.workerCount))
    }

    func tokenize(_ data: Data) throws -> Response {
        let r = try RequestDecoder.decode(TokenizeRequest.self, from: data)
        guard let text = r.content ?? r.prompt else {
            throw APIError.invalid("missing required field 'content' (the text to tokenize)", param: "content")
        }
        let tokenizer = engine.model.tokenizer
        let parse = r.parseSpecial ?? true
        let ids = r.addSpecial == true ? tokenizer.encodePrompt(text, parseSpecial: parse) : tokenizer.encode(text, parseSpecial: parse)
        struct Tokens: Encodable {
            var tokens: [Int]
            var count: Int
        }
        return Self.json(Tokens(tokens: ids, count: ids.count))
    }

    // MARK: - Slots

    /// Computes (or resumes from the prompt cache) the KV state of a prompt or conversation and writes
    /// it to the slot file.
    func saveSlot(_ name: String, _ data: Data) async throws -> Response {
        _ = try engine.slots.path(name)
        let r = try RequestDecoder.decode(SlotSaveRequest.self, from: data)
        let prompt: [Int]
        switch (r.prompt, r.messages) {
        case (let p?, nil):
            guard !p.isEmpty else { throw APIError.invalid("'prompt' is empty", param: "prompt") }
            prompt = engine.model.tokenizer.encodePrompt(p, parseSpecial: true)
        case (nil, let m?):
            guard !m.isEmpty else { throw APIError.invalid("'messages' is empty; send at least one message", param: "messages") }
            prompt = engine.model.tokenizer.encodePrompt(
                engine.model.chatTemplate.render(try chatMessages(m, field: "messages"), addGenerationPrompt: true), parseSpecial: true)
        default:
            throw APIError.invalid("give exactly one of 'prompt' or 'messages'")
        }
        guard prompt.count < engine.contextLimit else {
            throw APIError.invalid("the prompt has \(prompt.count) tokens; the context limit is \(engine.contextLimit)", param: "prompt")
        }
        let spec = try engine.policy(r.kvPolicy)
        let engine = engine
        struct Saved: Encodable {
            var slot: String
            var tokens: Int
            var computedTokens: Int
            var kvPolicy: String
            var fileBytes: Int
            var kvBytes: Int
            enum CodingKeys: String, CodingKey {
                case slot, tokens
                case computedTokens = "computed_tokens"
                case kvPolicy = "kv_policy"
                case fileBytes = "file_bytes"
                case kvBytes = "kv_bytes"
            }
        }
        let saved = try await engine.queue.run {
            let (session, key, _) = try engine.makeSession(spec: spec, prompt: prompt)
            let (_, computed) = try session.prefill(prompt)
            if computed > 0 { engine.remember(session, key: key) }
            let bytes = try engine.slots.save(try session.snapshot(), name: name)
            return Saved(slot: name, tokens: prompt.count, computedTokens: computed, kvPolicy: spec.description,
                         fileBytes: bytes, kvBytes: session.cache.memoryReport().allocatedBytes)
        }
        return Self.json(saved)
    }

    /// Reads a slot file, checks it restores into this model and the requested policy (409 otherwise),
    /// and puts it in the prompt cache: the next request whose prompt starts with its tokens resumes it.
    func restoreSlot(_ name: String, _ data: Data) async throws -> Response {
        _ = try engine.slots.path(name)
        let r = try RequestDecoder.decode(SlotRestoreRequest.self, from: data, allowEmpty: true)
        let spec = try engine.policy(r.kvPolicy)
        let engine = engine
        struct Restored: Encodable {
            var slot: String
            var tokens: Int
            var kvPolicy: String
            var kvBytes: Int
            var cached: Bool
            enum CodingKeys: String, CodingKey {
                case slot, tokens, cached
                case kvPolicy = "kv_policy"
                case kvBytes = "kv_bytes"
            }
        }
        let restored = try await engine.queue.run {
            let state = try engine.slots.load(name: name)
            let session = try Session(model: engine.model, policy: spec)
            try session.restore(state)
            let key = CompletionEngine.policyKey(session.cache)
            engine.remember(session, key: key)
            return Restored(slot: name, tokens: state.tokens.count, kvPolicy: spec.description,
                            kvBytes: session.cache.memoryReport().allocatedBytes,
                            cached: key != nil && engine.configuration.promptCacheBytes >= state.byteCount)
        }
        return Self.json(restored)
    }
}
