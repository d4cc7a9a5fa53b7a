import Foundation
import HummingbirdTesting
import PodKV
@testable import PodKVServer
import XCTest

/// Prefix reuse across requests, named slots on disk, and concurrent requests with different policies.
final class ServerPromptCacheTests: XCTestCase {
    static func chatBody(_ turns: [(String, String)], policy: String, maxTokens: Int = 6) -> String {
        let messages = turns.map { #"{"role": "\#($0.0)", "content": \#(Self.quote($0.1))}"# }.joined(separator: ", ")
        return #"{"messages": [\#(messages)], "max_tokens": \#(maxTokens), "temperature": 0, "kv_policy": "\#(policy)"}"#
    }

    static func quote(_ s: String) -> String { String(decoding: try! JSONEncoder().encode(s), as: UTF8.self) }

    static func content(_ r: TestResponse) -> String {
        (((r.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String) ?? "<none>"
    }

    static func cached(_ r: TestResponse) -> Int {
        ((usage(r.json)["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int) ?? -1
    }

    func testFollowUpTurnSkipsThePrefixForFullAndCompressedPolicies() async throws {
        for policy in ["full", "pod:group-size=2,sink=2,window=8", "streaming-llm:sink=2,window=8"] {
            let engine = try ServerFixture.engine()
            let noCache = try ServerFixture.engine { $0.promptCacheBytes = 0 }
            let system = String(repeating: "You are a helpful assistant. ", count: 4)
            try await ServerFixture.app(engine).test(.router) { client in
                let first = try await client.post("/v1/chat/completions", Self.chatBody([("system", system), ("user", "first question")], policy: policy))
                XCTAssertEqual(first.status, .ok, first.text)
                XCTAssertEqual(Self.cached(first), 0)
                let turns = [("system", system), ("user", "first question"), ("assistant", Self.content(first)), ("user", "and a second one")]
                let second = try await client.post("/v1/chat/completions", Self.chatBody(turns, policy: policy))
                XCTAssertEqual(second.status, .ok, second.text)
                let promptTokens = usage(second.json)["prompt_tokens"] as? Int ?? 0
                XCTAssertGreaterThanOrEqual(Self.cached(second), usage(first.json)["prompt_tokens"] as? Int ?? 0,
                                            "\(policy): the first turn's prompt must be reused")
                XCTAssertLessThan(promptTokens - Self.cached(second), promptTokens / 2, "\(policy): the second prefill is short")
                // The reply equals that of a server without a prompt cache (reuse changes nothing but speed).
                try await ServerFixture.app(noCache).test(.router) { plain in
                    let reference = try await plain.post("/v1/chat/completions", Self.chatBody(turns, policy: policy))
                    XCTAssertEqual(Self.cached(reference), 0)
                    XCTAssertEqual(Self.content(reference), Self.content(second), "\(policy): prompt-cache reuse changed the reply")
                }
                let metrics = try await client.get("/metrics").text
                XCTAssertTrue(metrics.contains("podkv_prompt_cache_hits_total 1\n"), metrics)
            }
        }
    }

    func testPromptCacheStaysWithinItsByteBudget() async throws {
        let engine = try ServerFixture.engine { $0.promptCacheBytes = 300_000 }
        try await ServerFixture.app(engine).test(.router) { client in
            for i in 0..<12 {
                let r = try await client.post("/v1/completions", #"{"prompt": "distinct prompt number \#(i) with some length to it", "max_tokens": 8, "temperature": 0}"#)
                XCTAssertEqual(r.status, .ok)
                XCTAssertLessThanOrEqual(engine.promptCache.stats.bytes, 300_000)
            }
            XCTAssertGreaterThan(engine.promptCache.stats.entries, 0)
        }
    }

    func testSlotSaveAndRestore() async throws {
        let engine = try ServerFixture.engine()
        let policy = "pod:group-size=2,sink=2,window=8"
        let prompt = "A document that the client wants to keep around for later questions."
        try await ServerFixture.app(engine).test(.router) { client in
            let saved = try await client.post("/slots/doc-1/save", #"{"prompt": \#(Self.quote(prompt)), "kv_policy": "\#(policy)"}"#)
            XCTAssertEqual(saved.status, .ok, saved.text)
            let tokens = saved.json["tokens"] as? Int ?? 0
            XCTAssertGreaterThan(tokens, 10)
            XCTAssertGreaterThan(saved.json["file_bytes"] as? Int ?? 0, 0)
            XCTAssertTrue(FileManager.default.fileExists(atPath: engine.configuration.slotDirectory + "/doc-1.pkvstate"))

            // Another server (empty prompt cache, same slot folder) restores it and resumes the prompt.
            let other = try ServerFixture.engine { $0.slotDirectory = engine.configuration.slotDirectory }
            try await ServerFixture.app(other).test(.router) { client2 in
                let wrongPolicy = try await client2.post("/slots/doc-1/restore", #"{"kv_policy": "full"}"#)
                XCTAssertEqual(wrongPolicy.status, .conflict, wrongPolicy.text)
                XCTAssertTrue(wrongPolicy.errorMessage.contains("saved from a 'pod' cache"), wrongPolicy.errorMessage)
                let otherSettings = try await client2.post("/slots/doc-1/restore", #"{"kv_policy": "pod:group-size=4,sink=2,window=8"}"#)
                XCTAssertEqual(otherSettings.status, .conflict, otherSettings.text)

                let restored = try await client2.post("/slots/doc-1/restore", #"{"kv_policy": "\#(policy)"}"#)
                XCTAssertEqual(restored.status, .ok, restored.text)
                XCTAssertEqual(restored.json["tokens"] as? Int, tokens)
                let r = try await client2.post("/v1/completions", #"{"prompt": \#(Self.quote(prompt)), "max_tokens": 5, "temperature": 0, "kv_policy": "\#(policy)"}"#)
                XCTAssertEqual(r.status, .ok, r.text)
                XCTAssertEqual((usage(r.json)["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int, tokens,
                               "the restored slot supplies the whole prompt")
                let direct = try await client.post("/v1/completions", #"{"prompt": \#(Self.quote(prompt)), "max_tokens": 5, "temperature": 0, "kv_policy": "\#(policy)"}"#)
                XCTAssertEqual((r.json["choices"] as? [[String: Any]])?.first?["text"] as? String,
                               (direct.json["choices"] as? [[String: Any]])?.first?["text"] as? String)
            }
        }
    }

    func testSlotErrors() async throws {
        let engine = try ServerFixture.engine()
        try await ServerFixture.app(engine).test(.router) { client in
            let missing = try await client.post("/slots/never-saved/restore", "")
            XCTAssertEqual(missing.status, .notFound, missing.text)
            let badName = try await client.post("/slots/..%2Fescape/save", #"{"prompt": "x"}"#)
            XCTAssertEqual(badName.status, .badRequest, badName.text)
            let both = try await client.post("/slots/a/save", #"{"prompt": "x", "messages": [{"role": "user", "content": "y"}]}"#)
            XCTAssertTrue(both.errorMessage.contains("exactly one of"), both.errorMessage)

            // A damaged slot file is refused with 422, not a crash.
            let saved = try await client.post("/slots/s/save", #"{"prompt": "some text to save"}"#)
            XCTAssertEqual(saved.status, .ok, saved.text)
            let path = engine.configuration.slotDirectory + "/s.pkvstate"
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
            let truncated = try await client.post("/slots/s/restore", "")
            XCTAssertEqual(truncated.status, .unprocessableContent, truncated.text)
            XCTAssertTrue(truncated.errorMessage.contains("truncated"), truncated.errorMessage)
        }
    }

    func testConcurrentRequestsWithDifferentPolicies() async throws {
        let engine = try ServerFixture.engine { $0.parallel = 2; $0.promptCacheBytes = 0 }
        let policies = ["full", "pod:group-size=2,sink=2,window=8", "streaming-llm:sink=2,window=8", "window:window=6"]
        try await ServerFixture.app(engine).test(.router) { client in
            func ask(_ policy: String) async throws -> String {
                let r = try await client.post("/v1/completions", #"{"prompt": "shared prompt for every policy, long enough to wrap", "max_tokens": 12, "temperature": 0, "kv_policy": "\#(policy)"}"#)
                XCTAssertEqual(r.status, .ok, r.text)
                return ((r.json["choices"] as? [[String: Any]])?.first?["text"] as? String) ?? "<none>"
            }
            var sequential: [String: String] = [:]
            for p in policies { sequential[p] = try await ask(p) }
            let concurrent = try await withThrowingTaskGroup(of: (String, String).self) { group in
                for p in policies + policies { group.addTask { (p, try await ask(p)) } }
                return try await group.reduce(into: [(String, String)]()) { $0.append($1) }
            }
            XCTAssertEqual(concurrent.count, 8)
            for (p, text) in concurrent { XCTAssertEqual(text, sequential[p], "\(p): concurrent result differs") }
        }
    }
}
