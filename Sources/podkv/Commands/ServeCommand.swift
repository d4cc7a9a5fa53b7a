import ArgumentParser
import Foundation
import PodKV
import PodKVServer

/// `podkv serve`: the OpenAI-compatible HTTP server (a thin layer over `PodKVServer`).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model over an OpenAI-compatible HTTP API (chat, completions, metrics, KV slots).",
        discussion: """
            Requests may choose their KV policy with the extension field "kv_policy" (a spec string such as \
            "pod:group-size=4" or {"name": "pod", "options": {...}}); the policy flags below are the default.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var policy: PolicyFlags

    @Option(name: .long, help: "Address to listen on (loopback by default; the server has no authentication).")
    var host: String = "127.0.0.1"
    @Option(name: .long, help: "Port to listen on.")
    var port: Int = 8080
    @Option(name: .long, help: "Most tokens (prompt + output) per request (default: the model's context length).")
    var maxContext: Int?
    @Option(name: .long, help: "Requests computed at once, each on its own thread.")
    var parallel: Int = 1
    @Option(name: .long, help: "Requests that may wait for a compute thread; more are refused with 503.")
    var maxQueue: Int = 16
    @Option(name: .long, help: "Memory for cached KV states of earlier prompts, in MiB (0 disables prefix reuse).")
    var promptCacheMB: Int = 512
    @Option(name: .long, help: "Folder of saved KV slots (default: $PODKV_HOME/slots).")
    var slotDir: String?
    @Option(name: .long, help: "max_tokens of requests that do not give it.")
    var defaultMaxTokens: Int = 256

    func validate() throws {
        if parallel < 1 || parallel > 64 { throw ValidationError("--parallel must be in 1...64 (got \(parallel))") }
        if maxQueue < 0 { throw ValidationError("--max-queue must be >= 0 (got \(maxQueue))") }
        if !(0...65535).contains(port) { throw ValidationError("--port must be in 0...65535 (got \(port))") }
        if let c = maxContext, c < 2 { throw ValidationError("--max-context must be at least 2 (got \(c))") }
        if promptCacheMB < 0 { throw ValidationError("--prompt-cache-mb must be >= 0 (got \(promptCacheMB))") }
        if defaultMaxTokens < 1 { throw ValidationError("--default-max-tokens must be >= 1 (got \(defaultMaxTokens))") }
    }

    func run() async throws {
        let spec = try policy.spec()
        let model = try modelOptions.load()
        let id = URL(fileURLWithPath: modelOptions.model).deletingPathExtension().lastPathComponent
        let config = ServerConfiguration(
            host: host, port: port, modelID: id, defaultPolicy: spec, maxContext: maxContext, parallel: parallel,
            maxQueue: maxQueue, promptCacheBytes: promptCacheMB << 20,
            slotDirectory: slotDir ?? ServerConfiguration.defaultSlotDirectory, defaultMaxTokens: defaultMaxTokens)
        let engine: CompletionEngine
        do { engine = try CompletionEngine(model: model, configuration: config) } catch {
            throw ValidationError("\(error)")
        }
        let host = host
        try await PodKVServer.run(engine: engine) { port in
            Terminal.error("podkv serve: \(id) on http://\(host):\(port) (default KV policy \(spec), parallel \(config.parallel))")
        }
    }
}
