import Foundation
import XCTest
import PodKVTestSupport

@testable import PodKVGGUF

/// Path of a known real model, fetched through the project's model store on first use (never skipped).
func modelPath(_ name: String) throws -> String {
    try TestData.modelPath(name)
}

/// Asserts that `body` throws exactly `expected`.
func assertThrows(
    _ expected: GGUFError, file: StaticString = #filePath, line: UInt = #line,
    _ body: () throws -> Void
) {
    do {
        try body()
        XCTFail("expected \(expected), but nothing was thrown", file: file, line: line)
    } catch let error as GGUFError {
        XCTAssertEqual(error, expected, file: file, line: line)
    } catch {
        XCTFail("expected \(expected), but \(error) was thrown", file: file, line: line)
    }
}

/// Hand-assembles GGUF bytes field by field, so tests can build files the writer would never produce.
struct RawGGUF {
    var bytes: [UInt8] = []

    /// Magic, version and the two counts.
    static func header(version: UInt32 = 3, tensors: UInt64 = 0, keys: UInt64 = 0) -> RawGGUF {
        var raw = RawGGUF()
        raw.bytes += Array("GGUF".utf8)
        raw.u32(version)
        raw.u64(tensors)
        raw.u64(keys)
        return raw
    }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }

    /// A GGUF string from raw bytes (length prefix, then the bytes as given).
    mutating func string(bytes raw: [UInt8]) {
        u64(UInt64(raw.count))
        bytes += raw
    }

    mutating func string(_ s: String) { string(bytes: Array(s.utf8)) }

    /// A key/value pair with a u32 value.
    mutating func keyU32(_ key: String, _ value: UInt32) {
        string(key)
        u32(4)
        u32(value)
    }

    /// A tensor info record.
    mutating func tensor(_ name: String, dims: [UInt64], type: UInt32, offset: UInt64) {
        string(name)
        u32(UInt32(dims.count))
        for d in dims { u64(d) }
        u32(type)
        u64(offset)
    }

    /// Zero bytes up to the next multiple of `alignment`.
    mutating func pad(to alignment: Int = 32) {
        bytes += [UInt8](repeating: 0, count: (alignment - bytes.count % alignment) % alignment)
    }

    mutating func zeros(_ count: Int) { bytes += [UInt8](repeating: 0, count: count) }
}

/// SplitMix64: a tiny seeded generator, so fuzz failures reproduce from the seed alone.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
