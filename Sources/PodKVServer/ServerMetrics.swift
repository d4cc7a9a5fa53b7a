import Foundation
import PodKV

/// Counters and gauges of the server, rendered in the Prometheus text exposition format (version 0.0.4).
final class ServerMetrics: @unchecked Sendable {
    private let lock = NSLock()
    private var requests: [String: Int] = [:]
    private var errors: [Int: Int] = [:]
    private var promptTokens = 0
    private var promptTokensComputed = 0
    private var generatedTokens = 0
    private var prefillSeconds = 0.0
    private var decodeSeconds = 0.0
    private var decodeSteps = 0
    private var lastPrefillRate = 0.0
    private var lastDecodeRate = 0.0
    /// KV bytes held by each running request: id -> (policy, bytes).
    private var held: [UInt64: (policy: String, bytes: Int)] = [:]
    private var peak: [String: Int] = [:]
    private var policyRequests: [String: Int] = [:]
    private var lastSaving: [String: Double] = [:]
    private var nextID: UInt64 = 0

    /// Counts a request to `endpoint` (a route name such as `chat_completions`).
    func countRequest(_ endpoint: String) { lock.withLock { requests[endpoint, default: 0] += 1 } }

    /// Counts an error answered with `status`.
    func countError(status: Int) { lock.withLock { errors[status, default: 0] += 1 } }

    /// A fresh id for `updateHeld` / `releaseHeld`.
    func makeRequestID() -> UInt64 { lock.withLock { nextID += 1; return nextID } }

    /// Records the KV bytes a running request holds now and updates the policy's peak.
    func updateHeld(id: UInt64, policy: String, bytes: Int) {
        lock.withLock {
            held[id] = (policy, bytes)
            let now = held.values.filter { $0.policy == policy }.reduce(0) { $0 + $1.bytes }
            peak[policy] = max(peak[policy] ?? 0, now)
        }
    }

    /// The request finished: its KV memory is freed.
    func releaseHeld(id: UInt64) { lock.withLock { _ = held.removeValue(forKey: id) } }

    /// Adds a finished generation's token counts and timings.
    func record(policy: String, promptTokens p: Int, computed: Int, prefillSeconds ps: Double, generated: Int,
                decodeSteps steps: Int, decodeSeconds ds: Double, saving: Double) {
        lock.withLock {
            promptTokens += p
            promptTokensComputed += computed
            generatedTokens += generated
            prefillSeconds += ps
            decodeSeconds += ds
            decodeSteps += steps
            if ps > 0, computed > 0 { lastPrefillRate = Double(computed) / ps }
            if ds > 0, steps > 0 { lastDecodeRate = Double(steps) / ds }
            policyRequests[policy, default: 0] += 1
            lastSaving[policy] = saving
        }
    }

    /// The exposition text. `queueDepth`, `running` and the prompt cache are read by the caller.
    func render(queueDepth: Int, running: Int, parallel: Int, cache: PromptCache.Stats) -> String {
        lock.withLock {
            var out = ""
            func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
                out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
                for s in samples { out += "\(name)\(s.labels) \(s.value)\n" }
            }
            func label(_ k: String, _ v: String) -> String { "{\(k)=\"\(v.replacingOccurrences(of: "\"", with: "'"))\"}" }
            func num(_ x: Double) -> String { x.isFinite ? String(format: "%.6g", x) : "0" }

            metric("podkv_requests_total", "counter", "HTTP requests received, by endpoint.",
                   requests.sorted { $0.key < $1.key }.map { (label("endpoint", $0.key), String($0.value)) })
            metric("podkv_request_errors_total", "counter", "Requests answered with an error, by HTTP status.",
                   errors.sorted { $0.key < $1.key }.map { (label("status", String($0.key)), String($0.value)) })
            metric("podkv_queue_depth", "gauge", "Requests waiting for a compute thread.", [("", String(queueDepth))])
            metric("podkv_requests_running", "gauge", "Requests being computed now.", [("", String(running))])
            metric("podkv_parallel_slots", "gauge", "Compute threads (--parallel).", [("", String(parallel))])
            metric("podkv_prompt_tokens_total", "counter", "Prompt tokens of finished requests.", [("", String(promptTokens))])
            metric("podkv_prompt_tokens_computed_total", "counter",
                   "Prompt tokens actually computed (the rest came from the prompt cache).", [("", String(promptTokensComputed))])
            metric("podkv_generated_tokens_total", "counter", "Tokens generated.", [("", String(generatedTokens))])
            metric("podkv_prefill_seconds_total", "counter", "Time spent computing prompts.", [("", num(prefillSeconds))])
            metric("podkv_decode_seconds_total", "counter", "Time spent generating tokens.", [("", num(decodeSeconds))])
            metric("podkv_prefill_tokens_per_second", "gauge", "Prefill speed of the last request that computed a prompt.",
                   [("", num(lastPrefillRate))])
            metric("podkv_decode_tokens_per_second", "gauge", "Decode speed of the last request that generated tokens.",
                   [("", num(lastDecodeRate))])
            let policies = Set(peak.keys).union(policyRequests.keys).union(held.values.map(\.policy)).union(cache.bytesByPolicy.keys).sorted()
            metric("podkv_kv_bytes", "gauge", "KV-cache bytes held by running requests, by policy.",
                   policies.map { p in (label("policy", p), String(held.values.filter { $0.policy == p }.reduce(0) { $0 + $1.bytes })) })
            metric("podkv_kv_bytes_peak", "gauge", "Peak KV-cache bytes held at once by running requests, by policy.",
                   policies.map { (label("policy", $0), String(peak[$0] ?? 0)) })
            metric("podkv_kv_saving_ratio", "gauge", "KV bytes saved versus a full cache in the policy's last request (formula).",
                   policies.map { (label("policy", $0), num(lastSaving[$0] ?? 0)) })
            metric("podkv_policy_requests_total", "counter", "Finished generations, by KV policy.",
                   policies.map { (label("policy", $0), String(policyRequests[$0] ?? 0)) })
            metric("podkv_prompt_cache_bytes", "gauge", "KV-state bytes held by the prompt cache, by policy.",
                   policies.map { (label("policy", $0), String(cache.bytesByPolicy[$0] ?? 0)) })
            metric("podkv_prompt_cache_entries", "gauge", "KV states in the prompt cache.", [("", String(cache.entries))])
            metric("podkv_prompt_cache_hits_total", "counter", "Requests that resumed a cached prefix.", [("", String(cache.hits))])
            metric("podkv_prompt_cache_misses_total", "counter", "Requests with no cached prefix.", [("", String(cache.misses))])
            return out
        }
    }
}
