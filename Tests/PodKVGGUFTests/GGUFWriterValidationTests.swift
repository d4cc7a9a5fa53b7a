import PodKVKernels
import XCTest

@testable import PodKVGGUF

/// The writer refuses what the reader would refuse, with the same error cases.
final class GGUFWriterValidationTests: XCTestCase {
    func testRefusesBadTensors() throws {
        var writer = GGUFWriter()
        try writer.addTensor(name: "w", dimensions: [2], floats: [1, 2])
        assertThrows(.duplicateTensorName("w")) { try writer.addTensor(name: "w", dimensions: [1], floats: [1]) }
        assertThrows(.badDimensionCount(tensor: "x", count: 0)) {
            try writer.addTensor(name: "x", dimensions: [], type: .f32, bytes: [])
        }
        assertThrows(.badDimensionCount(tensor: "x", count: 5)) {
            try writer.addTensor(name: "x", dimensions: [1, 1, 1, 1, 1], floats: [1])
        }
        assertThrows(.invalidDimension(tensor: "x", index: 1, value: UInt64(bitPattern: -2))) {
            try writer.addTensor(name: "x", dimensions: [1, -2], floats: [])
        }
        assertThrows(.elementCountOverflow(tensor: "x", dimensions: [1 << 40, 1 << 40])) {
            try writer.addTensor(name: "x", dimensions: [1 << 40, 1 << 40], type: .f32, bytes: [])
        }
        assertThrows(.unsupportedTensorType(tensor: "x", type: .iq2_xxs)) {
            try writer.addTensor(name: "x", dimensions: [256], type: .iq2_xxs, bytes: [UInt8](repeating: 0, count: 66))
        }
        assertThrows(.rowNotMultipleOfBlock(tensor: "x", rowLength: 33, type: .q8_0)) {
            try writer.addTensor(name: "x", dimensions: [33], type: .q8_0, bytes: [])
        }
        assertThrows(.tensorByteCountMismatch(tensor: "x", expected: 68, actual: 34)) {
            try writer.addTensor(name: "x", dimensions: [32, 2], type: .q8_0, bytes: [UInt8](repeating: 0, count: 34))
        }
        // Nothing refused was added.
        XCTAssertEqual(writer.tensors.map(\.name), ["w"])
    }

    func testRefusesMetadataTheFormatCannotHold() {
        var writer = GGUFWriter()
        writer.set("mixed", .array([.int32(1), .string("two")]))
        assertThrows(.heterogeneousArray(key: "mixed")) { _ = try writer.bytes() }

        writer = GGUFWriter()
        var deep = GGUFValue.int8(1)
        for _ in 0...GGUFParser.maxArrayNesting { deep = .array([deep]) }
        writer.set("deep", deep)
        assertThrows(.nestingTooDeep(key: "deep", limit: GGUFParser.maxArrayNesting)) { _ = try writer.bytes() }
    }

    func testRefusesBadAlignment() throws {
        for bad in [0, -32, 48, 1 << 31] {
            assertThrows(.invalidAlignment(value: String(bad))) { _ = try GGUFWriter(alignment: bad) }
        }
        var writer = try GGUFWriter(alignment: 64)
        writer.set(GGUFFile.alignmentKey, .uint32(128))
        XCTAssertThrowsError(try writer.bytes()) { error in
            guard case .invalidAlignment = error as? GGUFError else { return XCTFail("\(error)") }
        }
        writer.set(GGUFFile.alignmentKey, .uint32(64))
        XCTAssertNoThrow(try writer.bytes())
    }
}
