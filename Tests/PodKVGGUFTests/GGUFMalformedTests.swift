import PodKVKernels
import XCTest

@testable import PodKVGGUF

/// Every kind of damage the reader must detect, each built by hand and checked for its specific error.
/// Offsets: the header is 24 bytes (magic 4, version 4, tensor count 8, metadata count 8).
final class GGUFMalformedTests: XCTestCase {
    private func open(_ raw: RawGGUF) throws { _ = try GGUFFile(bytes: raw.bytes) }

    /// A file with no metadata and one tensor `name`, its data section holding `dataBytes` zero bytes.
    private func oneTensor(
        _ name: String = "t", dims: [UInt64] = [8], type: UInt32 = 0, offset: UInt64 = 0, dataBytes: Int = 32
    ) -> RawGGUF {
        var raw = RawGGUF.header(tensors: 1)
        raw.tensor(name, dims: dims, type: type, offset: offset)
        raw.pad()
        raw.zeros(dataBytes)
        return raw
    }

    // MARK: Header

    func testBadMagic() {
        var raw = RawGGUF.header()
        raw.bytes.replaceSubrange(0..<4, with: Array("GGML".utf8))
        assertThrows(.badMagic(found: [0x47, 0x47, 0x4D, 0x4C])) { try open(raw) }
        XCTAssertTrue(GGUFError.badMagic(found: [0x47, 0x47, 0x4D, 0x4C]).description.contains("not a GGUF file"))
    }

    func testUnsupportedVersion() {
        assertThrows(.unsupportedVersion(1)) { try open(.header(version: 1)) }
        assertThrows(.unsupportedVersion(4)) { try open(.header(version: 4)) }
        let bigEndian = UInt32(3).byteSwapped
        assertThrows(.unsupportedVersion(bigEndian)) { try open(.header(version: bigEndian)) }
        XCTAssertTrue(GGUFError.unsupportedVersion(bigEndian).description.contains("big-endian"))
    }

    func testEmptyAndTruncatedHeaders() {
        assertThrows(.truncated(offset: 0, needed: 4, fileSize: 0, context: "the magic")) {
            _ = try GGUFFile(bytes: [])
        }
        var raw = RawGGUF.header()
        raw.bytes.removeLast(12)
        assertThrows(.truncated(offset: 8, needed: 8, fileSize: 12, context: "the header")) { try open(raw) }
    }

    func testTruncatedValueNamesTheKey() {
        var raw = RawGGUF.header(keys: 1)
        raw.string("k")
        raw.u32(4)  // u32 value type, then only two of its four bytes
        raw.u8(1)
        raw.u8(2)
        let error = GGUFError.truncated(offset: 37, needed: 4, fileSize: 39, context: "the value of 'k'")
        assertThrows(error) { try open(raw) }
        XCTAssertEqual(error.description,
                       "truncated GGUF file: reading the value of 'k' needs 4 bytes at offset 37, "
                       + "but the file has only 39 bytes")
    }

    // MARK: Lengths and counts

    func testStringLengthLargerThanTheFile() {
        var raw = RawGGUF.header(keys: 1)
        raw.u64(1000)
        raw.bytes += Array("abcdefghijklm".utf8)  // 13 bytes: enough for the smallest entry, not for 1000
        assertThrows(.lengthExceedsFile(context: "string length of the key of metadata entry 0",
                                        length: 1000, offset: 24, remaining: 13)) { try open(raw) }
    }

    func testArrayLengthLargerThanTheFile() {
        var raw = RawGGUF.header(keys: 1)
        raw.string("arr")
        raw.u32(9)
        raw.u32(4)  // of u32
        raw.u64(1_000_000)
        raw.zeros(8)
        assertThrows(.lengthExceedsFile(context: "array length of the value of 'arr'",
                                        length: 1_000_000, offset: 43, remaining: 8)) { try open(raw) }
    }

    /// Counts that cannot be real are refused before anything is allocated for them.
    func testLyingCountsAreRefusedBeforeAllocating() {
        assertThrows(.countOverflow(context: "tensor count of the header", count: UInt64.max, offset: 8)) {
            try open(.header(tensors: UInt64.max))
        }
        assertThrows(.lengthExceedsFile(context: "metadata count of the header", length: 1 << 40,
                                        offset: 16, remaining: 0)) {
            try open(.header(keys: 1 << 40))
        }
        assertThrows(.lengthExceedsFile(context: "tensor count of the header", length: 1 << 20,
                                        offset: 8, remaining: 8)) {
            try open(.header(tensors: 1 << 20))
        }
        // 2^62 elements of 8 bytes overflow Int before they can be compared with the file size.
        var raw = RawGGUF.header(keys: 1)
        raw.string("arr")
        raw.u32(9)
        raw.u32(10)  // of u64
        raw.u64(1 << 62)
        assertThrows(.countOverflow(context: "array length of the value of 'arr'", count: 1 << 62, offset: 43)) {
            try open(raw)
        }
    }

    // MARK: Metadata

    func testUnknownValueType() {
        var raw = RawGGUF.header(keys: 1)
        raw.string("k")
        raw.u32(13)
        raw.zeros(8)
        assertThrows(.unknownValueType(key: "k", type: 13, offset: 33)) { try open(raw) }

        var array = RawGGUF.header(keys: 1)
        array.string("k")
        array.u32(9)
        array.u32(0xFFFF_FFFF)
        array.u64(0)
        assertThrows(.unknownValueType(key: "k", type: 0xFFFF_FFFF, offset: 37)) { try open(array) }
    }

    func testNestingDeeperThanTheLimit() throws {
        /// `levels` arrays nested inside each other around a single u8.
        func nested(_ levels: Int) -> RawGGUF {
            var raw = RawGGUF.header(keys: 1)
            raw.string("deep")
            raw.u32(9)
            for _ in 1..<levels {
                raw.u32(9)
                raw.u64(1)
            }
            raw.u32(0)
            raw.u64(1)
            raw.u8(7)
            return raw
        }
        let limit = GGUFParser.maxArrayNesting
        var expected = GGUFValue.uint8(7)
        for _ in 0..<limit { expected = .array([expected]) }
        XCTAssertEqual(try GGUFFile(bytes: nested(limit).bytes).value("deep"), expected)
        assertThrows(.nestingTooDeep(key: "deep", limit: limit)) { try open(nested(limit + 1)) }
    }

    func testInvalidUTF8() {
        var key = RawGGUF.header(keys: 1)
        key.string(bytes: [0x66, 0xFF])
        key.u32(0)
        key.u8(0)
        assertThrows(.invalidKeyUTF8(offset: 24)) { try open(key) }

        var name = RawGGUF.header(tensors: 1)
        name.string(bytes: [0xC3, 0x28])
        name.zeros(24)
        assertThrows(.invalidTensorNameUTF8(offset: 24)) { try open(name) }

        var value = RawGGUF.header(keys: 1)
        value.string("s")
        value.u32(8)
        value.string(bytes: [0xE2, 0x82])  // a three-byte sequence cut short
        assertThrows(.invalidStringUTF8(key: "s", offset: 37)) { try open(value) }

        var element = RawGGUF.header(keys: 1)
        element.string("tokens")
        element.u32(9)
        element.u32(8)
        element.u64(2)
        element.string("ok")
        element.string(bytes: [0xED, 0xA0, 0x80])  // an encoded surrogate, invalid in UTF-8
        assertThrows(.invalidStringUTF8(key: "tokens", offset: 64)) { try open(element) }
    }

    func testDuplicateKey() {
        var raw = RawGGUF.header(keys: 2)
        raw.keyU32("a", 1)
        raw.keyU32("a", 2)
        assertThrows(.duplicateKey("a")) { try open(raw) }
    }

    func testBadAlignment() {
        for bad: UInt32 in [0, 3, 48] {
            var raw = RawGGUF.header(keys: 1)
            raw.keyU32("general.alignment", bad)
            assertThrows(.invalidAlignment(value: String(bad))) { try open(raw) }
        }
        var text = RawGGUF.header(keys: 1)
        text.string("general.alignment")
        text.u32(8)
        text.string("32")
        assertThrows(.invalidAlignment(value: "of type str, not an integer")) { try open(text) }
    }

    // MARK: Tensor infos

    func testDimensionCount() {
        assertThrows(.badDimensionCount(tensor: "t", count: 5)) { try open(oneTensor(dims: [1, 1, 1, 1, 1])) }
        assertThrows(.badDimensionCount(tensor: "t", count: 0)) { try open(oneTensor(dims: [])) }
    }

    func testDimensionValues() {
        assertThrows(.invalidDimension(tensor: "t", index: 1, value: 0)) { try open(oneTensor(dims: [8, 0])) }
        assertThrows(.invalidDimension(tensor: "t", index: 0, value: UInt64.max)) {
            try open(oneTensor(dims: [UInt64.max]))
        }
        XCTAssertTrue(GGUFError.invalidDimension(tensor: "t", index: 0, value: UInt64.max).description
            .contains("dimension 0 = -1"))
        assertThrows(.elementCountOverflow(tensor: "t", dimensions: [1 << 40, 1 << 40])) {
            try open(oneTensor(dims: [1 << 40, 1 << 40]))
        }
        // The element count fits, but four bytes per f32 element do not.
        assertThrows(.elementCountOverflow(tensor: "t", dimensions: [1 << 62])) {
            try open(oneTensor(dims: [1 << 62]))
        }
    }

    func testUnknownTensorType() {
        assertThrows(.unknownTensorType(tensor: "t", type: 99)) { try open(oneTensor(type: 99)) }
        // 4 and 5 were q4_2 / q4_3, removed from ggml long ago.
        assertThrows(.unknownTensorType(tensor: "t", type: 4)) { try open(oneTensor(type: 4)) }
    }

    func testUnsupportedTensorTypeIsNamed() {
        let raw = oneTensor("blk.0.ffn_up.weight", dims: [256, 2], type: TensorType.iq2_xxs.rawValue, dataBytes: 132)
        let error = GGUFError.unsupportedTensorType(tensor: "blk.0.ffn_up.weight", type: .iq2_xxs)
        assertThrows(error) { try open(raw) }
        XCTAssertEqual(error.description,
                       "tensor 'blk.0.ffn_up.weight' has type iq2_xxs, which PodKV does not support")
    }

    func testRowNotMultipleOfBlock() {
        assertThrows(.rowNotMultipleOfBlock(tensor: "t", rowLength: 33, type: .q8_0)) {
            try open(oneTensor(dims: [33, 2], type: TensorType.q8_0.rawValue))
        }
    }

    func testMisalignedOffset() {
        assertThrows(.misalignedTensorOffset(tensor: "t", offset: 16, alignment: 32)) {
            try open(oneTensor(offset: 16, dataBytes: 64))
        }
    }

    func testDuplicateTensorName() {
        var raw = RawGGUF.header(tensors: 2)
        raw.tensor("t", dims: [8], type: 0, offset: 0)
        raw.tensor("t", dims: [8], type: 0, offset: 32)
        raw.pad()
        raw.zeros(64)
        assertThrows(.duplicateTensorName("t")) { try open(raw) }
    }

    func testTensorDataPastTheEnd() {
        // One tensor info ends at 57, so data starts at 64; 8 f32 values need bytes 64..<96.
        assertThrows(.tensorDataOutOfBounds(tensor: "t", start: 64, end: 96, fileSize: 80)) {
            try open(oneTensor(dataBytes: 16))
        }
        assertThrows(.tensorDataOutOfBounds(tensor: "t", start: 64 + (1 << 40), end: 96 + (1 << 40), fileSize: 96)) {
            try open(oneTensor(offset: 1 << 40))
        }
        let huge = UInt64.max - 31
        assertThrows(.tensorDataOutOfBounds(tensor: "t", start: huge, end: nil, fileSize: 96)) {
            try open(oneTensor(offset: huge))
        }
    }

    func testOverlappingTensors() {
        var raw = RawGGUF.header(tensors: 2)
        raw.tensor("b", dims: [16], type: 0, offset: 32)
        raw.tensor("a", dims: [16], type: 0, offset: 0)
        raw.pad()
        raw.zeros(96)
        assertThrows(.overlappingTensors(first: "a", second: "b")) { try open(raw) }
    }

    func testTruncatedTensorInfo() {
        var raw = RawGGUF.header(tensors: 1)
        raw.string("t")
        raw.u32(4)
        raw.u64(8)
        raw.u64(8)  // the third and fourth dimensions are missing
        assertThrows(.truncated(offset: 53, needed: 8, fileSize: 53, context: "tensor info 't'")) { try open(raw) }
    }

    func testOpeningMissingOrOddPathsThrows() {
        assertThrows(.cannotOpen(path: "/nonexistent/x.gguf", reason: "No such file or directory")) {
            _ = try GGUFFile(path: "/nonexistent/x.gguf")
        }
        assertThrows(.cannotOpen(path: "/tmp", reason: "not a regular file")) { _ = try GGUFFile(path: "/tmp") }
    }
}
