import Foundation
import PodKVKernels
import XCTest

@testable import PodKVGGUF

/// Writer -> reader round trips: every value type, tensors, v2 headers, custom alignment, files on disk.
final class GGUFRoundTripTests: XCTestCase {
    /// One value of every wire type, plus arrays of every element type and nested arrays.
    static let everyValue: [(String, GGUFValue)] = [
        ("t.u8", .uint8(200)), ("t.i8", .int8(-100)), ("t.u16", .uint16(60000)), ("t.i16", .int16(-30000)),
        ("t.u32", .uint32(4_000_000_000)), ("t.i32", .int32(-2_000_000_000)),
        ("t.u64", .uint64(UInt64.max)), ("t.i64", .int64(Int64.min)),
        ("t.f32", .float32(3.25)), ("t.f64", .float64(-1e-300)), ("t.true", .bool(true)), ("t.false", .bool(false)),
        ("t.str", .string("héllo\nwörld ✓")), ("t.empty_str", .string("")),
        ("a.u8", .array([.uint8(0), .uint8(255)])), ("a.i8", .array([.int8(-1), .int8(1)])),
        ("a.u16", .array([.uint16(1), .uint16(65535)])), ("a.i16", .array([.int16(-5)])),
        ("a.u32", .array([.uint32(7), .uint32(8), .uint32(9)])), ("a.i32", .array([.int32(-7), .int32(70)])),
        ("a.u64", .array([.uint64(1 << 40)])), ("a.i64", .array([.int64(-1 << 40), .int64(3)])),
        ("a.f32", .array([.float32(0.5), .float32(-2)])), ("a.f64", .array([.float64(1e100)])),
        ("a.bool", .array([.bool(true), .bool(false), .bool(true)])),
        ("a.str", .array([.string("a"), .string(""), .string("Ġthe")])),
        ("a.empty", .array([])),
        ("a.nested", .array([.array([.int32(1), .int32(2)]), .array([.int32(3)]), .array([])])),
        ("a.nested_str", .array([.array([.string("x")]), .array([.string("y"), .string("z")])])),
        ("a.deep", .array([.array([.array([.array([.uint8(42)])])])])),
    ]

    func testEveryValueTypeRoundTrips() throws {
        var writer = GGUFWriter()
        for (key, value) in Self.everyValue { writer.set(key, value) }
        let file = try GGUFFile(bytes: try writer.bytes())

        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.metadataKeys, Self.everyValue.map(\.0))
        XCTAssertEqual(file.metadata, Dictionary(uniqueKeysWithValues: Self.everyValue))
        for (key, value) in Self.everyValue {
            XCTAssertEqual(file.value(key), value, key)
        }
    }

    func testTypedAccessors() throws {
        var writer = GGUFWriter()
        for (key, value) in Self.everyValue { writer.set(key, value) }
        let file = try GGUFFile(bytes: try writer.bytes())

        XCTAssertEqual(file.string("t.str"), "héllo\nwörld ✓")
        XCTAssertEqual(file.int("t.u32"), 4_000_000_000)
        XCTAssertEqual(file.int("t.i64"), Int(Int64.min))
        XCTAssertNil(file.int("t.u64"), "UInt64.max does not fit in Int")
        XCTAssertEqual(file.double("t.f32"), 3.25)
        XCTAssertEqual(file.double("t.i16"), -30000)
        XCTAssertEqual(file.bool("t.true"), true)
        XCTAssertEqual(file.strings("a.str"), ["a", "", "Ġthe"])
        XCTAssertEqual(file.ints("a.i32"), [-7, 70])
        XCTAssertEqual(file.ints("a.u16"), [1, 65535])
        XCTAssertEqual(file.ints("a.i64"), [-1 << 40, 3])
        XCTAssertEqual(file.floats("a.f32"), [0.5, -2])
        XCTAssertEqual(file.floats("a.f64"), [1e100].map(Float.init))
        XCTAssertEqual(file.floats("a.u8"), [0, 255])

        // Absent keys and keys of another type give nil.
        XCTAssertNil(file.string("missing"))
        XCTAssertNil(file.string("t.u8"))
        XCTAssertNil(file.int("t.str"))
        XCTAssertNil(file.int("t.f32"))
        XCTAssertNil(file.bool("t.u8"))
        XCTAssertNil(file.double("t.str"))
        XCTAssertNil(file.strings("a.i32"))
        XCTAssertNil(file.strings("t.str"))
        XCTAssertNil(file.ints("a.f32"))
        XCTAssertNil(file.ints("a.str"))
        XCTAssertNil(file.ints("a.nested"))
        XCTAssertNil(file.floats("a.bool"))
    }

    func testValueAccessors() {
        XCTAssertEqual(GGUFValue.uint64(UInt64(Int.max) + 1).intValue, nil)
        XCTAssertEqual(GGUFValue.int8(-3).intValue, -3)
        XCTAssertEqual(GGUFValue.float32(1.5).intValue, nil)
        XCTAssertEqual(GGUFValue.uint64(UInt64.max).doubleValue, Double(UInt64.max))
        XCTAssertEqual(GGUFValue.string("x").doubleValue, nil)
        XCTAssertEqual(GGUFValue.bool(false).boolValue, false)
        XCTAssertEqual(GGUFValue.int32(1).boolValue, nil)
        XCTAssertEqual(GGUFValue.array([.int8(1)]).arrayValue, [.int8(1)])
        XCTAssertEqual(GGUFValue.string("s").arrayValue, nil)
    }

    func testTensorsRoundTripWithTheirBytes() throws {
        var rng = SplitMix64(seed: 7)
        let specs: [(String, [Int], TensorType)] = [
            ("a.f32", [5, 3], .f32), ("b.f16", [7], .f16), ("c.q8_0", [64, 2, 2], .q8_0),
            ("d.q4_K", [256, 3], .q4_K), ("e.bf16", [2, 2, 2, 2], .bf16), ("f.q6_K", [512], .q6_K),
        ]
        var writer = GGUFWriter()
        writer.set("general.architecture", .string("test"))
        var payloads: [String: [UInt8]] = [:]
        for (name, dims, type) in specs {
            let count = type.byteCount(elements: dims.reduce(1, *))!
            let payload = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            payloads[name] = payload
            try writer.addTensor(name: name, dimensions: dims, type: type, bytes: payload)
        }
        let file = try GGUFFile(bytes: try writer.bytes())

        XCTAssertEqual(file.tensors.map(\.name), specs.map(\.0))
        for (name, dims, type) in specs {
            let tensor = try XCTUnwrap(file.tensor(named: name))
            XCTAssertEqual(tensor.dimensions, dims)
            XCTAssertEqual(tensor.type, type)
            XCTAssertEqual(tensor.elementCount, dims.reduce(1, *))
            XCTAssertEqual((tensor.offset - file.dataOffset) % 32, 0)
            XCTAssertEqual(Array(file.bytes(of: tensor)), payloads[name])
            XCTAssertEqual(file.data(of: tensor), file.bytes(of: tensor).baseAddress)
        }
        XCTAssertNil(file.tensor(named: "nope"))
    }

    func testFloatTensorConvenience() throws {
        var writer = GGUFWriter()
        try writer.addTensor(name: "w", dimensions: [3, 2], floats: [1, 2, 3, 4, 5, -6])
        let file = try GGUFFile(bytes: try writer.bytes())
        let tensor = try XCTUnwrap(file.tensor(named: "w"))
        XCTAssertEqual(tensor.rowCount, 2)
        XCTAssertEqual(tensor.rowByteCount, 12)
        let values = (0..<6).map { file.data(of: tensor).loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
        XCTAssertEqual(values, [1, 2, 3, 4, 5, -6])
    }

    /// v2 and v3 differ only in what the version field says for little-endian files, so a v3 image with
    /// its version patched to 2 must read identically.
    func testVersion2HeaderReadsTheSame() throws {
        var writer = GGUFWriter()
        for (key, value) in Self.everyValue { writer.set(key, value) }
        try writer.addTensor(name: "x", dimensions: [32], type: .q8_0, bytes: [UInt8](repeating: 1, count: 34))
        var bytes = try writer.bytes()
        bytes[4] = 2
        let v2 = try GGUFFile(bytes: bytes)
        let v3 = try GGUFFile(bytes: try writer.bytes())
        XCTAssertEqual(v2.version, 2)
        XCTAssertEqual(v2.metadata, v3.metadata)
        XCTAssertEqual(v2.tensors, v3.tensors)
    }

    func testCustomAlignment() throws {
        for alignment in [1, 8, 64, 4096] {
            var writer = try GGUFWriter(alignment: alignment)
            writer.set("general.name", .string("aligned"))
            try writer.addTensor(name: "a", dimensions: [3], floats: [1, 2, 3])
            try writer.addTensor(name: "b", dimensions: [5], floats: [1, 2, 3, 4, 5])
            let bytes = try writer.bytes()
            let file = try GGUFFile(bytes: bytes)
            XCTAssertEqual(file.alignment, alignment)
            XCTAssertEqual(file.dataOffset % alignment, 0)
            for tensor in file.tensors { XCTAssertEqual(tensor.offset % alignment, 0, "\(alignment)") }
            XCTAssertEqual(bytes.count % alignment, 0)
            if alignment == 32 {
                XCTAssertNil(file.value(GGUFFile.alignmentKey))
            } else {
                XCTAssertEqual(file.int(GGUFFile.alignmentKey), alignment)
            }
        }
    }

    func testWriteToPathIsAtomicAndMapsBack() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("podkv-gguf-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/tiny.gguf"

        var writer = GGUFWriter()
        writer.set("general.architecture", .string("llama"))
        try writer.addTensor(name: "w", dimensions: [4], floats: [1, 2, 3, 4])
        try writer.write(to: path)
        writer.set("general.architecture", .string("qwen2"))
        try writer.write(to: path)  // replaces the first file

        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["tiny.gguf"])
        let file = try GGUFFile(path: path)
        XCTAssertEqual(file.path, path)
        XCTAssertEqual(file.string("general.architecture"), "qwen2")
        XCTAssertEqual(file.fileSize, try writer.bytes().count)
        let w = try XCTUnwrap(file.tensor(named: "w"))
        XCTAssertEqual(file.data(of: w).loadUnaligned(fromByteOffset: 12, as: Float.self), 4)

        assertThrows(.writeFailed(path: directory + "/no/such/dir.gguf", reason: "No such file or directory")) {
            try writer.write(to: directory + "/no/such/dir.gguf")
        }
    }

    func testSettingAKeyAgainKeepsItsPosition() throws {
        var writer = GGUFWriter()
        writer.set("a", .int32(1))
        writer.set("b", .int32(2))
        writer.set("a", .string("again"))
        let file = try GGUFFile(bytes: try writer.bytes())
        XCTAssertEqual(file.metadataKeys, ["a", "b"])
        XCTAssertEqual(file.string("a"), "again")
    }
}
