import Foundation

/// What `Session.prefill(_:promptCacheFile:)` did.
public struct PromptCacheFileUse: Sendable, Equatable {
    /// Prompt tokens restored from the file instead of computed.
    public var reusedTokens: Int
    /// Prompt tokens computed.
    public var computedTokens: Int
    /// Whether the file was (re)written with the new prompt's state.
    public var saved: Bool

    public init(reusedTokens: Int, computedTokens: Int, saved: Bool) {
        self.reusedTokens = reusedTokens
        self.computedTokens = computedTokens
        self.saved = saved
    }
}

extension Session {
    /// Prefill backed by a state file (`podkv generate --prompt-cache FILE`, like llama.cpp's option):
    /// when `path` exists its state is restored and, if its tokens are a prefix of `prompt`, only the
    /// rest is computed; the prompt's state is then written back to `path` (atomically) for next time.
    ///
    /// A file made with another model, policy or policy settings is refused with `KVStateError` (the
    /// user chose it explicitly; silently overwriting it would lose their saved state).
    @discardableResult
    public func prefill(_ prompt: [Int], promptCacheFile path: String) throws -> PromptCacheFileUse {
        var reused = 0
        if FileManager.default.fileExists(atPath: path) {
            try restoreState(path: path)
            if tokens.count <= prompt.count, prompt.starts(with: tokens) { reused = tokens.count }
        }
        let (_, computed) = try prefill(prompt)
        let save = computed > 0
        if save { try saveState(path: path) }
        return PromptCacheFileUse(reusedTokens: reused, computedTokens: computed, saved: save)
    }
}
