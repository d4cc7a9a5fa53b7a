import Foundation
import HummingbirdTesting
import PodKV
import PodKVServer
import XCTest

/// Every endpoint through the router on the tiny model: response shapes, streaming format, metrics.
final class ServerEndpointTests: XCTestCase {
    func testHealthModelsAndTokenize() async throws {
        let engine = try ServerFixture.engine()
        try await ServerFixture.app(engine).test(.router) { client in
            let health = try await client.get("/health")
            XCTAssertEqual(health.status, .ok)
            XCTAssertEqual(health.json["status"] as? String, "ok")
            XCTAssertEqual(health.json["parallel"] as? Int, 2)

            let models = try await client.get("/v1/models")
            let data = models.json["data"] as? [[String: Any]] ?? []
            XCTAssertEqual(models.json["object"] as? String, "list")
            XCTAssertEqual(data.first?["id"] as? String, "tiny")
            XCTAssertEqual(data.first?["kv_policies"] as? [String], KVPolicyRegistry.names)

            let tok = try await client.post("/tokenize", #"{"content": "hello"}"#)
            XCTAssertEqual(tok.status, .ok)
            let expected = ServerFixture.model.tokenizer.encode("hello", parseSpecial: true)
            XCTAssertEqual(tok.json["tokens"] as? [Int], expected)
            XCTAssertEqual(tok.json["count"] as? Int, expected.count)
            let withBOS = try await client.post("/tokenize", #"{"prompt": "hello", "add_special": true}"#)
            XCTAssertEqual(withBOS.json["tokens"] as? [Int], ServerFixture.model.tokenizer.encodePrompt("hello", parseSpecial: true))
        }
    }

    func testChatCompletionMatchesTheEngineAndReportsUsage() async throws {
        let engine = try ServerFixture.engine()
        let m = ServerFixture.model
        let prompt = m.tokenizer.encodePrompt(m.chatTemplate.render([.user("Hi there")], addGenerationPrompt: true), parseSpecial: true)
        let direct = try Session(model: m).generate(prompt: prompt, options: GenerationOptions(maxTokens: 8, sampling: .greedy))
        try await ServerFixture.app(engine).test(.router) { client in
            let r = try await client.post("/v1/chat/completions", #"""
                {"model": "tiny", "messages": [{"role": "user", "content": "Hi there"}], "max_tokens": 8, "temperature": 0}
                """#)
            XCTAssertEqual(r.status, .ok, r.text)
            XCTAssertEqual(r.headers[.contentType], "application/json")
            XCTAssertEqual(r.json["object"] as? String, "chat.completion")
            let choice = (r.json["choices"] as? [[String: Any]])?.first ?? [:]
            let message = choice["message"] as? [String: Any] ?? [:]
            XCTAssertEqual(message["role"] as? String, "assistant")
            XCTAssertEqual(message["content"] as? String, direct.text)
            XCTAssertEqual(choice["finish_reason"] as? String, direct.finishReason == .stop ? "stop" : "length")
            let u = usage(r.json)
            XCTAssertEqual(u["prompt_tokens"] as? Int, prompt.count)
            XCTAssertEqual(u["completion_tokens"] as? Int, direct.tokenIDs.count)
            XCTAssertEqual(u["total_tokens"] as? Int, prompt.count + direct.tokenIDs.count)
            XCTAssertEqual(u["kv_bytes"] as? Int, direct.stats.kv.allocatedBytes)
            XCTAssertEqual(u["kv_saving"] as? Double, 0)
            XCTAssertEqual(u["kv_policy"] as? String, "full")
        }
    }

    func testKVPolicyPerRequestAsStringAndObject() async throws {
        let engine = try ServerFixture.engine()
        try await ServerFixture.app(engine).test(.router) { client in
            let prompt = String(repeating: "long context text ", count: 6)
            var savings: [Double] = []
            for policy in [#""full""#, #""pod:group-size=2,sink=2,window=8""#, #"{"name": "pod", "options": {"group-size": 4, "sink": 2, "window": 8}}"#] {
                let r = try await client.post("/v1/completions", #"{"prompt": "\#(prompt)", "max_tokens": 4, "temperature": 0, "kv_policy": \#(policy)}"#)
                XCTAssertEqual(r.status, .ok, r.text)
                XCTAssertEqual(r.json["object"] as? String, "text_completion")
                savings.append(usage(r.json)["kv_saving"] as? Double ?? -1)
            }
            XCTAssertEqual(savings[0], 0)
            XCTAssertGreaterThan(savings[1], 0.1, "pod g=2 saves key rows")
            XCTAssertGreaterThan(savings[2], savings[1], "larger groups save more")
        }
    }

    func testCompletionWithTokenIDsAndStopString() async throws {
        let engine = try ServerFixture.engine()
        let m = ServerFixture.model
        let ids = m.tokenizer.encodePrompt("abc", parseSpecial: false)
        let direct = try Session(model: m).generate(prompt: ids, options: GenerationOptions(maxTokens: 12, sampling: .greedy))
        try await ServerFixture.app(engine).test(.router) { client in
            let r = try await client.post("/v1/completions", #"{"prompt": \#(ids), "max_tokens": 12, "temperature": 0}"#)
            XCTAssertEqual(r.status, .ok, r.text)
            let text = ((r.json["choices"] as? [[String: Any]])?.first?["text"] as? String) ?? "<none>"
            XCTAssertEqual(text, direct.text)
            // A stop string taken from the middle of the greedy output cuts it there.
            let chars = Array(direct.text)
            if chars.count >= 4, let stop = String(chars[2...3]).data(using: .utf8), let s = String(data: stop, encoding: .utf8),
               let encoded = String(data: try JSONEncoder().encode(s), encoding: .utf8) {
                let cut = try await client.post("/v1/completions", #"{"prompt": \#(ids), "max_tokens": 12, "temperature": 0, "stop": \#(encoded)}"#)
                let t = ((cut.json["choices"] as? [[String: Any]])?.first?["text"] as? String) ?? "<none>"
                XCTAssertFalse(t.contains(s), "stop string must end the text: \(t)")
                XCTAssertEqual((cut.json["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String, "stop")
            }
        }
    }

    func testSeededSamplingIsReproducible() async throws {
        let engine = try ServerFixture.engine()
        try await ServerFixture.app(engine).test(.router) { client in
            let body = #"{"prompt": "Once", "max_tokens": 10, "temperature": 0.9, "top_p": 0.9, "seed": 1234}"#
            let a = try await client.post("/v1/completions", body)
            let b = try await client.post("/v1/completions", body)
            XCTAssertEqual(a.status, .ok, a.text)
            XCTAssertEqual((a.json["choices"] as? [[String: Any]])?.first?["text"] as? String,
                           (b.json["choices"] as? [[String: Any]])?.first?["text"] as? String)
        }
    }

    func testStreamingChatFormat() async throws {
        let engine = try ServerFixture.engine()
        try await ServerFixture.app(engine).test(.router) { client in
            let body = #"{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hello"}]}], "max_tokens": 10, "temperature": 0}"#
            let plain = try await client.post("/v1/chat/completions", body)
            let expected = ((plain.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
            let r = try await client.post("/v1/chat/completions", String(body.dropLast()) + #", "stream": true}"#)
            XCTAssertEqual(r.status, .ok)
            XCTAssertEqual(r.headers[.contentType], "text/event-stream")
            XCTAssertTrue(r.text.hasSuffix("data: [DONE]\n\n"), r.text)
            let (events, done) = r.events
            XCTAssertTrue(done)
            XCTAssertGreaterThanOrEqual(events.count, 2)
            let ids = Set(events.compactMap { $0["id"] as? String })
            XCTAssertEqual(ids.count, 1, "one id for every chunk")
            XCTAssertTrue(events.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
            let deltas = events.map { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]) ?? [:] }
            XCTAssertEqual(deltas.first?["role"] as? String, "assistant")
            XCTAssertEqual(deltas.compactMap { $0["content"] as? String }.joined(), expected)
            let last = (events.last?["choices"] as? [[String: Any]])?.first ?? [:]
            XCTAssertNotNil(last["finish_reason"] as? String)
            XCTAssertEqual(usage(events.last ?? [:])["completion_tokens"] as? Int, usage(plain.json)["completion_tokens"] as? Int)
            XCTAssertNotNil(usage(events.last ?? [:])["kv_bytes"] as? Int)
            // Only the last chunk has a finish reason.
            XCTAssertTrue(events.dropLast().allSatisfy { (($0["choices"] as? [[String: Any]])?.first?["finish_reason"]) is NSNull })
        }
    }

    func testStreamingCompletionFormat() async throws {
        let engine = try ServerFixture.engine()
        try await ServerFixture.app(engine).test(.router) { client in
            let r = try await client.post("/v1/completions", #"{"prompt": "abc", "max_tokens": 6, "temperature": 0, "stream": true, "stream_options": {"include_usage": true}}"#)
            XCTAssertEqual(r.status, .ok)
            let (events, done) = r.events
            XCTAssertTrue(done)
            XCTAssertTrue(events.allSatisfy { $0["object"] as? String == "text_completion" })
            XCTAssertEqual(usage(events.last ?? [:])["completion_tokens"] as? Int, 6)
        }
    }

    func testMetricsReportRequestsTokensAndKVBytesPerPolicy() async throws {
        let engine = try ServerFixture.engine()
        try await ServerFixture.app(engine).test(.router) { client in
            for policy in ["full", "pod:group-size=2,sink=2,window=8"] {
                let r = try await client.post("/v1/completions", #"{"prompt": "metrics text for the policy", "max_tokens": 40, "temperature": 0, "kv_policy": "\#(policy)"}"#)
                XCTAssertEqual(r.status, .ok, r.text)
            }
            _ = try await client.post("/v1/completions", "{not json")
            let m = try await client.get("/metrics")
            XCTAssertEqual(m.status, .ok)
            XCTAssertTrue(m.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") ?? false)
            let text = m.text
            for line in [
                #"podkv_requests_total{endpoint="completions"} 3"#, #"podkv_request_errors_total{status="400"} 1"#,
                "podkv_queue_depth 0", "podkv_requests_running 0",
                #"podkv_policy_requests_total{policy="full"} 1"#, #"podkv_policy_requests_total{policy="pod"} 1"#,
                #"podkv_kv_bytes{policy="full"} 0"#,
            ] {
                XCTAssertTrue(text.contains(line + "\n"), "missing '\(line)' in:\n\(text)")
            }
            func value(_ prefix: String) -> Double {
                text.split(separator: "\n").first { $0.hasPrefix(prefix + " ") }.flatMap { Double($0.split(separator: " ").last!) } ?? -1
            }
            let fullPeak = value(#"podkv_kv_bytes_peak{policy="full"}"#), podPeak = value(#"podkv_kv_bytes_peak{policy="pod"}"#)
            XCTAssertGreaterThan(fullPeak, 0)
            XCTAssertGreaterThan(podPeak, 0)
            XCTAssertLessThan(podPeak, fullPeak, "pod holds fewer KV bytes than full")
            XCTAssertGreaterThan(value("podkv_prompt_tokens_total"), 0)
            XCTAssertGreaterThan(value("podkv_generated_tokens_total"), 1)
            XCTAssertGreaterThan(value("podkv_prefill_tokens_per_second"), 0)
            XCTAssertGreaterThan(value("podkv_decode_tokens_per_second"), 0)
            XCTAssertGreaterThan(value(#"podkv_kv_saving_ratio{policy="pod"}"#), 0)
            // Every sample line belongs to a declared metric.
            let declared = Set(text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) })
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                XCTAssertTrue(declared.contains(name), "undeclared sample \(line)")
            }
        }
    }
}
