import Foundation
import PodKVCache
import PodKVModel

/// A session's KV state as it can be kept in memory (prompt cache) or written to disk (`--prompt-cache`,
/// server slots): the model it belongs to, the tokens the cache holds, the logits after the last token
/// (so generation continues without recomputing anything) and the policy's cache state, compressed as
/// the policy holds it.
///
/// File layout (version 1, little-endian):
/// ```
/// "PODKVSES"                    8 bytes magic
/// version                       UInt32
/// model fingerprint             UInt32 length + JSON (ModelFingerprint)
/// tokens                        UInt64 count, then UInt32 per token id
/// logits                        UInt64 count (0 or vocabSize), then Float32 bit patterns
/// cache state                   UInt64 length, then a KVStateCodec stream (policy name, settings, rows)
/// checksum                      UInt64 KVStateChecksum of every byte before it
/// ```
public struct SessionState: Sendable {
    static let magic = Array("PODKVSES".utf8)
    /// File format version written by this build.
    public static let currentVersion: UInt32 = 1

    /// The model the state was computed with.
    public var model: ModelFingerprint
    /// Tokens the cache holds, in order.
    public var tokens: [Int]
    /// Logits after the last token, (vocabSize); empty when `tokens` is empty.
    public var logits: [Float]
    /// The cache's `KVStateCodec` stream (header with policy name and settings, then rows).
    public var cache: Data

    public init(model: ModelFingerprint, tokens: [Int], logits: [Float], cache: Data) {
        self.model = model
        self.tokens = tokens
        self.logits = logits
        self.cache = cache
    }

    /// Bytes held in memory by this state (cache rows dominate).
    public var byteCount: Int { cache.count + logits.count * 4 + tokens.count * 8 }

    /// Policy name and settings recorded in the cache stream.
    public func cacheHeader() throws -> KVStateCodec.Header {
        var r = KVStateReader(cache)
        return try KVStateCodec.readHeader(from: &r)
    }

    /// The file bytes of this state.
    public func encoded() throws -> Data {
        var w = KVStateWriter()
        w.write(raw: Self.magic, count: Self.magic.count)
        w.write(Self.currentVersion)
        let json = try JSONEncoder().encode(model)
        w.write(String(decoding: json, as: UTF8.self))
        w.write(count: tokens.count)
        for t in tokens { w.write(UInt32(truncatingIfNeeded: t)) }
        w.write(count: logits.count)
        logits.withUnsafeBytes { w.write(raw: $0.baseAddress!, count: $0.count) }
        w.write(count: cache.count)
        w.write(bytes: cache)
        w.write(KVStateChecksum.of(w.data))
        return w.data
    }

    /// Parses file bytes; throws `KVStateError` naming what is truncated, corrupt or unsupported.
    public init(decoding data: Data) throws {
        guard data.count >= Self.magic.count + 4 + 8 else {
            throw KVStateError.truncated("a session state file has at least 20 bytes, this one \(data.count)")
        }
        var r = KVStateReader(data)
        guard Array(try r.readBytes(Self.magic.count, "magic")) == Self.magic else {
            throw KVStateError.corrupt("missing the 'PODKVSES' magic; not a PodKV session state file")
        }
        let version = try r.readUInt32("version")
        guard version == Self.currentVersion else {
            throw KVStateError.unsupportedVersion("file version \(version), this build reads version \(Self.currentVersion)")
        }
        let body = data.prefix(data.count - 8)
        var tail = KVStateReader(data.suffix(8))
        let stored = try tail.readUInt64("checksum")
        let json = try r.readString("model fingerprint", limit: 1 << 16)
        let model: ModelFingerprint
        do { model = try JSONDecoder().decode(ModelFingerprint.self, from: Data(json.utf8)) } catch {
            throw KVStateError.corrupt("the model fingerprint is not valid JSON")
        }
        let limit = 1 << 24
        let tokenCount = try r.readCount("token count", limit: limit)
        guard tokenCount * 4 <= r.remaining else {
            throw KVStateError.truncated("\(tokenCount) tokens need \(tokenCount * 4) bytes, only \(r.remaining) left")
        }
        var tokens: [Int] = []
        tokens.reserveCapacity(tokenCount)
        for _ in 0..<tokenCount { tokens.append(Int(try r.readUInt32("token"))) }
        let logitCount = try r.readCount("logit count", limit: limit)
        var logits = [Float](repeating: 0, count: logitCount)
        try logits.withUnsafeMutableBytes { try r.read(into: $0.baseAddress!, count: $0.count, "logits") }
        let cacheLength = try r.readCount("cache state length", limit: Int.max / 2)
        let cache = try r.readBytes(cacheLength, "cache state")
        guard r.remaining == 8 else {
            throw r.remaining < 8
                ? KVStateError.truncated("the checksum is missing at the end of the file")
                : KVStateError.corrupt("\(r.remaining - 8) unexpected bytes before the checksum")
        }
        guard KVStateChecksum.of(body) == stored else {
            throw KVStateError.corrupt("checksum mismatch: the file was modified or damaged")
        }
        self.init(model: model, tokens: tokens, logits: logits, cache: cache)
    }

    /// Reads a state file.
    public static func load(path: String) throws -> SessionState {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw KVStateError.io("cannot read session state '\(path)': \(error.localizedDescription)")
        }
        return try SessionState(decoding: data)
    }

    /// Writes the state to `path` atomically: a temporary file in the same folder, flushed to disk, then
    /// renamed over `path`, so a crash leaves either the old file or the new one, never half of one.
    public func save(path: String) throws {
        try AtomicFile.write(try encoded(), to: path)
    }
}
