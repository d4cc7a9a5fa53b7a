import Foundation
import HummingbirdTesting
import PodKV
@testable import PodKVServer
import XCTest

/// Bad requests get a 4xx with an OpenAI-style JSON error naming the problem; the server keeps serving.
final class ServerErrorTests: XCTestCase {
    func testMalformedAndMistypedBodiesAre400WithAMessage() async throws {
        let engine = try ServerFixture.engine { $0.maxContext = 200 }
        let long = String(repeating: "word ", count: 300)
        let cases: [(uri: String, body: String, message: String)] = [
            ("/v1/chat/completions", "{not json", "not valid JSON"),
            ("/v1/chat/completions", "", "body is empty"),
            ("/v1/chat/completions", "[1, 2]", "must be a JSON object"),
            ("/v1/chat/completions", #"{"model": "tiny"}"#, "missing required field 'messages'"),
            ("/v1/chat/completions", #"{"messages": []}"#, "'messages' is empty"),
            ("/v1/chat/completions", #"{"messages": "hi"}"#, "field 'messages'"),
            ("/v1/chat/completions", #"{"messages": [{"role": "user"}]}"#, "'messages[0].content' is missing"),
            ("/v1/chat/completions", #"{"messages": [{"role": "robot", "content": "x"}]}"#, "'messages[0].role' is 'robot'"),
            ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": 5}]}"#, "messages[0].content"),
            ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "x"}], "max_tokens": "many"}"#, "field 'max_tokens': expected an integer"),
            ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "x"}], "max_tokens": 100000000}"#, "'max_tokens' must be in 1...200"),
            ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}"#, "'max_tokens' must be in"),
            ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "x"}], "temperature": -1}"#, "'temperature' must be in [0, 2]"),
            ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "x"}], "top_p": 0}"#, "'top_p' must be in (0, 1]"),
            ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "x"}], "n": 3}"#, "'n' must be 1"),
            ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "x"}], "stream": "yes"}"#, "field 'stream': expected a boolean"),
            ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "x"}], "stop": ["a", "b", "c", "d", "e"]}"#, "at most 4"),
            ("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "\#(long)"}]}"#, "the context limit is 200 tokens"),
            ("/v1/completions", #"{"prompt": ""}"#, "'prompt' is empty"),
            ("/v1/completions", #"{"prompt": [1, 99999999]}"#, "outside the vocabulary"),
            ("/v1/completions", #"{"prompt": {"a": 1}}"#, "field 'prompt'"),
            ("/v1/completions", #"{"prompt": "x", "kv_policy": "lru"}"#, "unknown KV policy 'lru'"),
            ("/v1/completions", #"{"prompt": "x", "kv_policy": "pod:group-size=0"}"#, "group-size=0 is invalid"),
            ("/v1/completions", #"{"prompt": "x", "kv_policy": "pod:colour=red"}"#, "has no option 'colour'"),
            ("/v1/completions", #"{"prompt": "x", "kv_policy": "pod:group-size"}"#, "is not key=value"),
            ("/v1/completions", #"{"prompt": "x", "kv_policy": {"name": "window", "options": {"window": -3}}}"#, "window=-3 is invalid"),
            ("/v1/completions", #"{"prompt": "x", "kv_policy": {"options": {}}}"#, "field 'kv_policy'"),
            ("/v1/completions", #"{"prompt": "x", "kv_policy": 7}"#, "field 'kv_policy'"),
            ("/tokenize", #"{"text": "x"}"#, "missing required field 'content'"),
        ]
        try await ServerFixture.app(engine).test(.router) { client in
            for c in cases {
                let r = try await client.post(c.uri, c.body)
                XCTAssertEqual(r.status, .badRequest, "\(c.body) -> \(r.text)")
                XCTAssertEqual(r.headers[.contentType], "application/json")
                XCTAssertTrue(r.errorMessage.contains(c.message), "\(c.body): '\(r.errorMessage)' lacks '\(c.message)'")
                XCTAssertEqual((r.json["error"] as? [String: Any])?["type"] as? String, "invalid_request_error")
            }
            // Still healthy afterwards, and every error was counted.
            let health = try await client.get("/health")
            XCTAssertEqual(health.status, .ok)
            let metrics = try await client.get("/metrics")
            XCTAssertTrue(metrics.text.contains(#"podkv_request_errors_total{status="400"} \#(cases.count)"#), metrics.text)
        }
    }

    func testPromptPlusMaxTokensBeyondContextStopsAtTheLimit() async throws {
        let engine = try ServerFixture.engine { $0.maxContext = 40 }
        try await ServerFixture.app(engine).test(.router) { client in
            let r = try await client.post("/v1/completions", #"{"prompt": "0123456789012345678901234567890", "max_tokens": 40, "temperature": 0}"#)
            XCTAssertEqual(r.status, .ok, r.text)
            let u = usage(r.json)
            XCTAssertLessThanOrEqual((u["total_tokens"] as? Int) ?? 99, 40)
        }
    }

    func testOversizedBodyIs413() async throws {
        let engine = try ServerFixture.engine { $0.maxBodyBytes = 2048 }
        try await ServerFixture.app(engine).test(.router) { client in
            let r = try await client.post("/v1/completions", #"{"prompt": "\#(String(repeating: "x", count: 5000))"}"#)
            XCTAssertEqual(r.status, .contentTooLarge)
            XCTAssertTrue(r.errorMessage.contains("larger than 2048 bytes"), r.errorMessage)
        }
    }

    func testFullQueueIs429AndTheServerRecovers() async throws {
        let engine = try ServerFixture.engine { $0.parallel = 1; $0.maxQueue = 1 }
        // Occupy the only compute thread and the only queue place with jobs that wait for the test.
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        try engine.queue.submit { started.signal(); release.wait() }
        started.wait()
        try engine.queue.submit { release.wait() }
        try await ServerFixture.app(engine).test(.router) { client in
            let busy = try await client.post("/v1/completions", #"{"prompt": "b", "max_tokens": 2}"#)
            XCTAssertEqual(busy.status, .tooManyRequests, busy.text)
            XCTAssertEqual((busy.json["error"] as? [String: Any])?["type"] as? String, "server_busy")
            let metrics = try await client.get("/metrics")
            XCTAssertTrue(metrics.text.contains("podkv_queue_depth 1\n"), metrics.text)
            XCTAssertTrue(metrics.text.contains("podkv_requests_running 1\n"), metrics.text)
            let streamed = try await client.post("/v1/completions", #"{"prompt": "b", "max_tokens": 2, "stream": true}"#)
            XCTAssertEqual(streamed.status, .tooManyRequests, "a stream is refused before it starts")
            release.signal()
            release.signal()
            while engine.queue.running > 0 { try await Task.sleep(nanoseconds: 1_000_000) }
            let after = try await client.post("/v1/completions", #"{"prompt": "b", "max_tokens": 2}"#)
            XCTAssertEqual(after.status, .ok, after.text)
        }
    }
}
