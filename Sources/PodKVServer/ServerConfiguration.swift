import Foundation
import PodKV

/// Settings of `podkv serve`: where to listen, the default KV policy, and the limits that keep the
/// server's memory and CPU bounded.
public struct ServerConfiguration: Sendable {
    /// Address to bind (loopback by default: the server has no authentication).
    public var host: String
    public var port: Int
    /// Name reported by `/v1/models` and in responses.
    public var modelID: String
    /// KV policy of requests that do not send `kv_policy`.
    public var defaultPolicy: PolicySpec
    /// Most tokens (prompt + output) per request; nil = the model's context length.
    public var maxContext: Int?
    /// Requests computed at once, each on its own dedicated thread (>= 1).
    public var parallel: Int
    /// Requests allowed to wait for a compute thread; more get 429 (>= 0).
    public var maxQueue: Int
    /// Bytes of KV states the prompt cache may hold (0 disables it).
    public var promptCacheBytes: Int
    /// Folder of the named slot files (`POST /slots/{name}/save`).
    public var slotDirectory: String
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes: Int
    /// `max_tokens` of requests that do not send it.
    public var defaultMaxTokens: Int

    public init(
        host: String = "127.0.0.1", port: Int = 8080, modelID: String, defaultPolicy: PolicySpec = PolicySpec(name: "full"),
        maxContext: Int? = nil, parallel: Int = 1, maxQueue: Int = 16, promptCacheBytes: Int = 512 << 20,
        slotDirectory: String = ServerConfiguration.defaultSlotDirectory, maxBodyBytes: Int = 8 << 20,
        defaultMaxTokens: Int = 256
    ) {
        self.host = host
        self.port = port
        self.modelID = modelID
        self.defaultPolicy = defaultPolicy
        self.maxContext = maxContext
        self.parallel = parallel
        self.maxQueue = maxQueue
        self.promptCacheBytes = promptCacheBytes
        self.slotDirectory = slotDirectory
        self.maxBodyBytes = maxBodyBytes
        self.defaultMaxTokens = defaultMaxTokens
    }

    /// `$PODKV_HOME/slots`, `PODKV_HOME` defaulting to `~/.cache/podkv`.
    public static var defaultSlotDirectory: String {
        let home = ProcessInfo.processInfo.environment["PODKV_HOME"]
            ?? (FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/podkv")
        return home + "/slots"
    }

    /// Checks every limit; the message names the setting.
    public func validate() throws {
        func fail(_ why: String) -> ServerConfigurationError { ServerConfigurationError(message: why) }
        guard (0...65535).contains(port) else { throw fail("port must be in 0...65535, got \(port)") }
        guard parallel >= 1, parallel <= 64 else { throw fail("parallel must be in 1...64, got \(parallel)") }
        guard maxQueue >= 0 else { throw fail("max queue must be >= 0, got \(maxQueue)") }
        guard promptCacheBytes >= 0 else { throw fail("prompt cache bytes must be >= 0, got \(promptCacheBytes)") }
        guard maxBodyBytes >= 1024 else { throw fail("max body bytes must be at least 1024, got \(maxBodyBytes)") }
        guard defaultMaxTokens >= 1 else { throw fail("default max tokens must be >= 1, got \(defaultMaxTokens)") }
        if let c = maxContext, c < 2 { throw fail("max context must be at least 2 tokens, got \(c)") }
    }
}

/// A server setting out of range.
public struct ServerConfigurationError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
