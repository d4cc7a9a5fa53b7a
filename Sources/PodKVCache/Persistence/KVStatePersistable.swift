import Foundation
import PodKVModel

/// A KV-cache policy whose stored keys and values can be written to a byte stream and read back into a
/// fresh cache of the same policy and settings, exactly as they were (compressed caches stay compressed:
/// only the rows the policy holds are written).
///
/// Each policy adopts this in its own file under Persistence/. `KVStateCodec` frames the body with a
/// header (policy name, `persistedSettings`, geometry, token count) and refuses a state whose header
/// does not match the cache it is read into, so a body reader can trust the layout.
public protocol KVStatePersistable: KVCachePolicy {
    /// Every setting that changes what the cache stores or how it attends (window sizes, element type,
    /// layer plan, ...), as strings. Two caches restore into each other only if these are equal.
    var persistedSettings: [String: String] { get }
    /// Writes the stored rows (everything but the header).
    func writeState(to writer: inout KVStateWriter)
    /// Replaces the cache's contents with rows written by `writeState` for `tokenCount` tokens.
    /// On a throw the cache is left reset (empty), never half-filled.
    func readState(from reader: inout KVStateReader, tokenCount: Int) throws
}

/// Frames a policy's state: magic, version, policy name, settings, geometry, token count, body.
///
/// Layout (little-endian): "PKVS" (4 bytes), version UInt32, name (UInt32 length + UTF-8), settings
/// count UInt32 then sorted (key, value) strings, layerCount / kvHeadCount / headDim / tokenCount as
/// UInt64, then the policy's body.
public enum KVStateCodec {
    static let magic: [UInt8] = Array("PKVS".utf8)
    /// Version of the framing and of every policy body; bump when either changes.
    public static let version: UInt32 = 1

    /// Serializes `policy`'s state; throws `KVStateError.unsupportedPolicy` if it cannot be saved.
    public static func write(_ policy: KVCachePolicy, to writer: inout KVStateWriter) throws {
        guard let p = policy as? KVStatePersistable else { throw KVStateError.unsupportedPolicy(policy.name) }
        writer.write(raw: magic, count: magic.count)
        writer.write(version)
        writer.write(p.name)
        let settings = p.persistedSettings.sorted { $0.key < $1.key }
        writer.write(UInt32(settings.count))
        for (k, v) in settings {
            writer.write(k)
            writer.write(v)
        }
        let g = p.geometry
        writer.write(count: g.layerCount)
        writer.write(count: g.kvHeadCount)
        writer.write(count: g.headDim)
        writer.write(count: p.tokenCount)
        p.writeState(to: &writer)
    }

    /// Serializes `policy`'s state into a new `Data`.
    public static func encode(_ policy: KVCachePolicy) throws -> Data {
        var w = KVStateWriter()
        try write(policy, to: &w)
        return w.data
    }

    /// Reads a state written by `write` into `policy`, which must be the same policy with the same
    /// settings and geometry. The policy is reset first; on any error it is left empty.
    public static func read(into policy: KVCachePolicy, from reader: inout KVStateReader) throws {
        guard let p = policy as? KVStatePersistable else { throw KVStateError.unsupportedPolicy(policy.name) }
        let header = try readHeader(from: &reader)
        guard header.policy == p.name else {
            throw KVStateError.policyMismatch("saved from a '\(header.policy)' cache, restoring into '\(p.name)'")
        }
        let own = p.persistedSettings
        for key in Set(own.keys).union(header.settings.keys).sorted() where own[key] != header.settings[key] {
            throw KVStateError.policyMismatch(
                "setting '\(key)' was \(header.settings[key] ?? "absent") when saved, this cache has \(own[key] ?? "absent")")
        }
        let g = p.geometry
        guard header.layerCount == g.layerCount, header.kvHeadCount == g.kvHeadCount, header.headDim == g.headDim else {
            throw KVStateError.modelMismatch(
                "saved geometry \(header.layerCount) layers x \(header.kvHeadCount) KV heads x \(header.headDim), "
                    + "cache has \(g.layerCount) x \(g.kvHeadCount) x \(g.headDim)")
        }
        guard header.tokenCount <= g.contextLength else {
            throw KVStateError.corrupt("token count \(header.tokenCount) exceeds the context length \(g.contextLength)")
        }
        p.reset()
        do {
            try p.readState(from: &reader, tokenCount: header.tokenCount)
        } catch {
            p.reset()
            throw error
        }
    }

    /// Restores `policy` from `data` (exactly one state, nothing after it).
    public static func decode(_ data: Data, into policy: KVCachePolicy) throws {
        var r = KVStateReader(data)
        try read(into: policy, from: &r)
        guard r.remaining == 0 else {
            policy.reset()
            throw KVStateError.corrupt("\(r.remaining) unexpected bytes after the cache state")
        }
    }

    /// The header fields of a state.
    public struct Header: Sendable, Equatable {
        public var policy: String
        public var settings: [String: String]
        public var layerCount: Int
        public var kvHeadCount: Int
        public var headDim: Int
        public var tokenCount: Int
    }

    /// Reads and checks the magic and version, then the header.
    public static func readHeader(from reader: inout KVStateReader) throws -> Header {
        let m = try reader.readBytes(magic.count, "magic")
        guard Array(m) == magic else { throw KVStateError.corrupt("missing the 'PKVS' magic; not a PodKV cache state") }
        let v = try reader.readUInt32("version")
        guard v == version else {
            throw KVStateError.unsupportedVersion("cache state version \(v), this build reads version \(version)")
        }
        let name = try reader.readString("policy name", limit: 256)
        let n = Int(try reader.readUInt32("settings count"))
        guard n <= 1024 else { throw KVStateError.corrupt("settings count \(n) is implausible") }
        var settings: [String: String] = [:]
        for i in 0..<n {
            let k = try reader.readString("setting \(i) key", limit: 256)
            settings[k] = try reader.readString("setting '\(k)' value")
        }
        let limit = 1 << 24
        return Header(
            policy: name, settings: settings,
            layerCount: try reader.readCount("layer count", limit: limit),
            kvHeadCount: try reader.readCount("KV head count", limit: limit),
            headDim: try reader.readCount("head size", limit: limit),
            tokenCount: try reader.readCount("token count", limit: limit))
    }
}
