import Foundation
import HummingbirdTesting
import PodKV
@testable import PodKVServer
import PodKVTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Over real loopback HTTP: a streamed chat, and a client that disconnects mid-stream (generation stops
/// and the compute thread is freed).
final class ServerLiveTests: XCTestCase {
    /// A larger random model, so that decoding thousands of tokens takes seconds.
    static let slowModel: LanguageModel = {
        var shape = TinyModel.Shape()
        shape.layerCount = 8
        shape.modelDim = 256
        shape.headCount = 8
        shape.kvHeadCount = 4
        shape.ffnDim = 512
        shape.contextLength = 4096
        return try! LanguageModel(path: try! TinyModel.file(shape, seed: 3), threads: 2, batchSize: 32)
    }()

    func testStreamedChatOverLoopback() async throws {
        let engine = try ServerFixture.engine()
        try await ServerFixture.app(engine).test(.live) { client in
            let r = try await client.post("/v1/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5, "temperature": 0, "stream": true, "kv_policy": "pod:group-size=2,sink=2,window=8"}"#)
            XCTAssertEqual(r.status, .ok)
            let (events, done) = r.events
            XCTAssertTrue(done)
            XCTAssertEqual(usage(events.last ?? [:])["kv_policy"] as? String, "pod:group-size=2,sink=2,window=8")
        }
    }

    func testClientDisconnectMidStreamStopsGeneration() async throws {
        let maxTokens = 3000
        let engine = try CompletionEngine(model: Self.slowModel, configuration: ServerConfiguration(
            modelID: "slow", parallel: 1, maxQueue: 2, promptCacheBytes: 0, slotDirectory: ServerFixture.tempDirectory()))
        try await ServerFixture.app(engine).test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let body = #"{"prompt": "go", "max_tokens": \#(maxTokens), "temperature": 0.7, "seed": 5, "stream": true}"#
            let fd = try Self.connect(port: port)
            try Self.send(fd, "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            // Read until a few tokens have streamed, then hang up.
            var received = ""
            while received.components(separatedBy: "data: ").count < 4 {
                var buf = [UInt8](repeating: 0, count: 4096)
                let n = recv(fd, &buf, buf.count, 0)
                guard n > 0 else { break }
                received += String(decoding: buf[0..<n], as: UTF8.self)
            }
            XCTAssertTrue(received.hasPrefix("HTTP/1.1 200"), received)
            close(fd)
            let hungUp = Date()
            var freed = false
            while Date().timeIntervalSince(hungUp) < 20 {
                if engine.queue.running == 0 { freed = true; break }
                try await Task.sleep(nanoseconds: 20_000_000)
            }
            XCTAssertTrue(freed, "the compute thread was not freed after the client left")
            let metrics = try await client.get("/metrics").text
            let generated = metrics.split(separator: "\n").first { $0.hasPrefix("podkv_generated_tokens_total ") }
                .flatMap { Int($0.split(separator: " ")[1]) } ?? -1
            XCTAssertGreaterThan(generated, 0)
            XCTAssertLessThan(generated, maxTokens / 2, "generation went on after the disconnect (\(generated) tokens)")
            // The server still answers.
            let after = try await client.post("/v1/completions", #"{"prompt": "x", "max_tokens": 2}"#)
            XCTAssertEqual(after.status, .ok)
        }
    }

    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw NSError(domain: "connect", code: Int(errno)) }
        return fd
    }

    static func send(_ fd: Int32, _ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress!, $0.count, 0) }
            guard n > 0 else { throw NSError(domain: "send", code: Int(errno)) }
            offset += n
        }
    }
}
