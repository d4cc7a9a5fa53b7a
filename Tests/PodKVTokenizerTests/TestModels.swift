import Foundation
import XCTest
import PodKVTokenizer
import PodKVGGUF
import PodKVTestSupport

/// Where tests find models and shared data (real models come through the project's model store).
enum TestModels {
    /// `../shared` beside the repository: golden files and essays, read in place.
    static let sharedDirectory = TestData.shared

    private static let lock = NSLock()
    nonisolated(unsafe) private static var loaded: [String: TokenizerData] = [:]

    /// The tokenizer metadata of a real model, loaded once per test run.
    static func data(_ name: String) throws -> TokenizerData {
        lock.lock()
        defer { lock.unlock() }
        if let data = loaded[name] { return data }
        // Fetched through the project's model store on first use (never skipped).
        let path = try TestData.modelPath(name)
        let data = try TokenizerData(gguf: GGUFFile(path: path))
        loaded[name] = data
        return data
    }

    /// The tokenizer of a real model.
    static func tokenizer(_ name: String) throws -> any Tokenizer {
        try makeTokenizer(data(name))
    }
}
