import Foundation

/// Little-endian binary writer for KV state: fixed-width integers, length-prefixed strings and raw row
/// bytes. The layout is explicit (no Codable) so that a multi-megabyte cache is written with plain copies.
public struct KVStateWriter {
    /// Bytes written so far.
    public private(set) var data = Data()

    public init() {}

    /// Appends a UInt32, little-endian.
    public mutating func write(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }

    /// Appends a UInt64, little-endian.
    public mutating func write(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }

    /// Appends a non-negative count or position as a UInt64.
    public mutating func write(count value: Int) {
        precondition(value >= 0, "counts are never negative")
        write(UInt64(value))
    }

    /// Appends a UTF-8 string with a UInt32 byte-length prefix.
    public mutating func write(_ string: String) {
        let bytes = Array(string.utf8)
        write(UInt32(bytes.count))
        data.append(contentsOf: bytes)
    }

    /// Appends `count` raw bytes from `pointer` (stored rows, already in their element type).
    public mutating func write(raw pointer: UnsafeRawPointer, count: Int) {
        data.append(pointer.assumingMemoryBound(to: UInt8.self), count: count)
    }

    /// Appends raw bytes.
    public mutating func write(bytes: Data) { data.append(bytes) }
}

/// Reads what `KVStateWriter` wrote; every read checks the remaining length and throws
/// `KVStateError.truncated` naming the field that is cut short.
public struct KVStateReader {
    public let data: Data
    /// Offset (from `data.startIndex`) of the next byte to read.
    public private(set) var offset = 0

    public init(_ data: Data) { self.data = data }

    /// Bytes left to read.
    public var remaining: Int { data.count - offset }

    private mutating func take(_ count: Int, _ what: String) throws -> Data {
        guard count >= 0, count <= remaining else {
            throw KVStateError.truncated("\(what) needs \(count) bytes at offset \(offset), only \(remaining) left")
        }
        let start = data.startIndex + offset
        offset += count
        return data[start..<(start + count)]
    }

    /// Reads a little-endian UInt32.
    public mutating func readUInt32(_ what: String) throws -> UInt32 {
        let bytes = try take(4, what)
        return bytes.reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Reads a little-endian UInt64.
    public mutating func readUInt64(_ what: String) throws -> UInt64 {
        let bytes = try take(8, what)
        return bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Reads a count written by `write(count:)`, refusing values above `limit` (a corrupt length must
    /// not turn into a huge allocation).
    public mutating func readCount(_ what: String, limit: Int) throws -> Int {
        let v = try readUInt64(what)
        guard v <= UInt64(limit) else { throw KVStateError.corrupt("\(what) is \(v), more than the limit \(limit)") }
        return Int(v)
    }

    /// Reads a length-prefixed UTF-8 string of at most `limit` bytes.
    public mutating func readString(_ what: String, limit: Int = 1 << 20) throws -> String {
        let n = Int(try readUInt32("\(what) length"))
        guard n <= limit else { throw KVStateError.corrupt("\(what) length \(n) exceeds \(limit) bytes") }
        guard let s = String(data: try take(n, what), encoding: .utf8) else {
            throw KVStateError.corrupt("\(what) is not valid UTF-8")
        }
        return s
    }

    /// Copies `count` raw bytes into `destination`.
    public mutating func read(into destination: UnsafeMutableRawPointer, count: Int, _ what: String) throws {
        let bytes = try take(count, what)
        bytes.copyBytes(to: destination.assumingMemoryBound(to: UInt8.self), count: count)
    }

    /// Reads `count` raw bytes as `Data`.
    public mutating func readBytes(_ count: Int, _ what: String) throws -> Data { Data(try take(count, what)) }
}

/// Why a KV state could not be saved or restored. Every case carries a message naming the problem.
public enum KVStateError: Error, CustomStringConvertible, Equatable {
    /// The policy has no serialization (`KVStatePersistable` not adopted).
    case unsupportedPolicy(String)
    /// The state was saved from another policy or with other settings.
    case policyMismatch(String)
    /// The state does not fit the model (geometry or fingerprint).
    case modelMismatch(String)
    /// The data ends before a field is complete.
    case truncated(String)
    /// A field has an impossible value, or the checksum does not match.
    case corrupt(String)
    /// The state uses a format version this build does not read.
    case unsupportedVersion(String)
    /// The file could not be read or written.
    case io(String)

    public var description: String {
        switch self {
        case .unsupportedPolicy(let name): "cannot save or restore a \(name) cache: the policy has no state serialization"
        case .policyMismatch(let why): "KV state is for another policy: \(why)"
        case .modelMismatch(let why): "KV state is for another model: \(why)"
        case .truncated(let why): "KV state is truncated: \(why)"
        case .corrupt(let why): "KV state is corrupt: \(why)"
        case .unsupportedVersion(let why): "KV state version not supported: \(why)"
        case .io(let why): why
        }
    }
}
