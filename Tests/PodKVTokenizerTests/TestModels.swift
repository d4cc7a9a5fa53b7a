import Foundation
import XCTest
import PodKVTokenizer
import PodKVGGUF

/// Where tests find models and shared data. The engine's model store will replace `modelPath`.
enum TestModels {
    /// The repository root, derived from this file's location (Tests/PodKVTokenizerTests/...).
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `/work/shared` when the repo is `/work/<worktree>`: golden files and essays, read in place.
    static let sharedDirectory = repoRoot.deletingLastPathComponent().appendingPathComponent("shared")

    /// `$PODKV_HOME/models/<name>.gguf`, `PODKV_HOME` defaulting to `~/.cache/podkv`.
    static func modelPath(_ name: String) -> String {
        let home = ProcessInfo.processInfo.environment["PODKV_HOME"]
            ?? (NSHomeDirectory() + "/.cache/podkv")
        return home + "/models/" + name + ".gguf"
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var loaded: [String: TokenizerData] = [:]

    /// The tokenizer metadata of a real model, loaded once per test run.
    static func data(_ name: String) throws -> TokenizerData {
        lock.lock()
        defer { lock.unlock() }
        if let data = loaded[name] { return data }
        let path = modelPath(name)
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("model file \(path) not found (set PODKV_HOME)")
        }
        let data = try TokenizerData(gguf: GGUFFile(path: path))
        loaded[name] = data
        return data
    }

    /// The tokenizer of a real model.
    static func tokenizer(_ name: String) throws -> any Tokenizer {
        try makeTokenizer(data(name))
    }
}
