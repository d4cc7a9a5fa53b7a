import Foundation
import PodKV
import PodKVTestSupport
@testable import PodKVEval

/// Shared fixtures of the evaluation tests: a tiny random model (byte vocabulary, ChatML) and scratch dirs.
enum EvalFixtures {
    static let tinyModel: LanguageModel = {
        var shape = TinyModel.Shape()
        shape.contextLength = 2048
        return try! LanguageModel(path: try! TinyModel.file(shape, seed: 3), threads: 2, batchSize: 64)
    }()

    static func scratchDir() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("podkv-eval-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
