import Foundation
import Hummingbird
import HummingbirdTesting
import PodKV
import PodKVServer
import PodKVTestSupport
import XCTest

/// A tiny random model shared by the server tests (fast: no real weights).
enum ServerFixture {
    static let model: LanguageModel = try! LanguageModel(path: try! TinyModel.file(seed: 11), threads: 2, batchSize: 16)

    /// A fresh temporary folder for slot files.
    static func tempDirectory() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("podkv-server-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// An engine over the tiny model; `configure` adjusts the defaults.
    static func engine(_ configure: (inout ServerConfiguration) -> Void = { _ in }) throws -> CompletionEngine {
        var c = ServerConfiguration(modelID: "tiny", parallel: 2, maxQueue: 8, promptCacheBytes: 64 << 20,
                                    slotDirectory: tempDirectory(), defaultMaxTokens: 16)
        configure(&c)
        return try CompletionEngine(model: model, configuration: c)
    }

    static func app(_ engine: CompletionEngine) -> some ApplicationProtocol {
        Application(router: PodKVServer.makeRouter(engine: engine), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }
}

extension TestClientProtocol {
    /// POSTs `json` (a string, sent as is) and returns the response.
    func post(_ uri: String, _ json: String) async throws -> TestResponse {
        try await execute(uri: uri, method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: json))
    }

    func get(_ uri: String) async throws -> TestResponse { try await execute(uri: uri, method: .get) }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The body parsed as a JSON object (fails the test if it is not one).
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// `error.message` of an error body.
    var errorMessage: String { ((json["error"] as? [String: Any])?["message"] as? String) ?? "<no error body: \(text)>" }

    /// The JSON payloads of a server-sent-event body, and whether it ended with `data: [DONE]`.
    var events: (payloads: [[String: Any]], done: Bool) {
        var payloads: [[String: Any]] = []
        var done = false
        for block in text.components(separatedBy: "\n\n") where !block.isEmpty {
            XCTAssertTrue(block.hasPrefix("data: "), "not an SSE data line: \(block)")
            let data = String(block.dropFirst(6))
            XCTAssertFalse(done, "an event after [DONE]")
            if data == "[DONE]" { done = true; continue }
            payloads.append((try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? ["unparsed": data])
        }
        return (payloads, done)
    }
}

/// `usage` of a response body.
func usage(_ body: [String: Any]) -> [String: Any] { body["usage"] as? [String: Any] ?? [:] }
