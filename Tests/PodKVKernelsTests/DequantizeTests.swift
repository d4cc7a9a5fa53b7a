import XCTest
@testable import PodKVKernels

/// Block layouts: fast == reference, reference == hand-computed values, quantizer round trips.
final class DequantizeTests: XCTestCase {
    /// The SIMD dequantizer must reproduce the scalar reference bit for bit, for every type, across
    /// several rows (so block strides are exercised) and lengths that leave a SIMD tail for plain types.
    func testFastDequantizeEqualsReferenceForEveryType() {
        var rng = SeededRandom(seed: 1)
        for type in TestData.supportedTypes {
            for cols in [type.blockSize == 256 ? 256 : 32, type.blockSize == 256 ? 768 : 96, type.blockSize == 1 ? 37 : 512] {
                let bytes = TestData.randomRows(type, rows: 3, cols: cols, rng: &rng)
                var fast = [Float](repeating: .nan, count: 3 * cols)
                var ref = [Float](repeating: .nan, count: 3 * cols)
                bytes.withUnsafeBytes { raw in
                    Dequantize.row(type, raw.baseAddress!, count: 3 * cols, into: &fast)
                    ReferenceKernels.dequantize(type, raw.baseAddress!, count: 3 * cols, into: &ref)
                }
                for i in 0..<(3 * cols) where fast[i].bitPattern != ref[i].bitPattern {
                    XCTFail("\(type) cols \(cols): value \(i) fast \(fast[i]) != reference \(ref[i])")
                    break
                }
                XCTAssertTrue(ref.allSatisfy(\.isFinite), "\(type): reference produced non-finite values")
            }
        }
    }

    /// Decodes one block with the reference kernel.
    private func decode(_ type: TensorType, _ block: [UInt8]) -> [Float] {
        XCTAssertEqual(block.count, type.blockBytes, "hand-built \(type) block has the wrong size")
        var out = [Float](repeating: .nan, count: type.blockSize)
        block.withUnsafeBytes { ReferenceKernels.dequantize(type, $0.baseAddress!, count: type.blockSize, into: &out) }
        return out
    }

    private func half(_ v: Float) -> [UInt8] {
        let bits = Float16(v).bitPattern
        return [UInt8(bits & 0xFF), UInt8(bits >> 8)]
    }

    func testHandBuiltPlainFloatBlocks() {
        XCTAssertEqual(decode(.f32, withUnsafeBytes(of: Float(-2.75)) { Array($0) }), [-2.75])
        XCTAssertEqual(decode(.f16, half(0.375)), [0.375])
        // bf16 0x3FC0 is the top half of 1.5's bit pattern 0x3FC00000.
        XCTAssertEqual(decode(.bf16, [0xC0, 0x3F]), [1.5])
    }

    func testHandBuiltQ8_0Block() {
        var qs = [UInt8](repeating: 0, count: 32)
        qs[0] = UInt8(bitPattern: -4)
        qs[31] = 127
        let y = decode(.q8_0, half(0.5) + qs)
        XCTAssertEqual(y[0], -2)
        XCTAssertEqual(y[31], 63.5)
        XCTAssertEqual(y[5], 0)
    }

    func testHandBuiltQ4_0Block() {
        var qs = [UInt8](repeating: 0x88, count: 16)
        qs[0] = 0x1F  // low nibble 15 -> value 0, high nibble 1 -> value 16
        let y = decode(.q4_0, half(0.5) + qs)
        XCTAssertEqual(y[0], 3.5)   // (15 - 8) * 0.5
        XCTAssertEqual(y[16], -3.5) // (1 - 8) * 0.5
        XCTAssertEqual(y[1], 0)
    }

    func testHandBuiltQ4_1Block() {
        var qs = [UInt8](repeating: 0, count: 16)
        qs[0] = 0x2A
        let y = decode(.q4_1, half(0.25) + half(-1) + qs)
        XCTAssertEqual(y[0], 1.5)   // 10 * 0.25 - 1
        XCTAssertEqual(y[16], -0.5) // 2 * 0.25 - 1
        XCTAssertEqual(y[3], -1)
    }

    func testHandBuiltQ5_0Block() {
        var qs = [UInt8](repeating: 0, count: 16)
        qs[0] = 0x03
        let qh: UInt32 = 1 | (1 << 16)  // fifth bit of values 0 and 16
        let y = decode(.q5_0, half(1) + withUnsafeBytes(of: qh.littleEndian) { Array($0) } + qs)
        XCTAssertEqual(y[0], 3)    // (3 | 16) - 16
        XCTAssertEqual(y[16], 0)   // (0 | 16) - 16
        XCTAssertEqual(y[1], -16)
    }

    func testHandBuiltQ5_1Block() {
        var qs = [UInt8](repeating: 0, count: 16)
        qs[1] = 0x50
        let qh: UInt32 = 1 << 1
        let y = decode(.q5_1, half(0.5) + half(2) + withUnsafeBytes(of: qh.littleEndian) { Array($0) } + qs)
        XCTAssertEqual(y[1], 10)   // 16 * 0.5 + 2
        XCTAssertEqual(y[17], 4.5) // 5 * 0.5 + 2
        XCTAssertEqual(y[0], 2)
    }

    /// Scales of a q4_K/q5_K block: sub-block 0 scale 3 min 2; sub-block 5 scale 17 (low nibble 1 from
    /// byte 9, high bits 01 from the top of byte 1), min 2.
    private func kScales() -> [UInt8] {
        var s = [UInt8](repeating: 0, count: 12)
        s[0] = 3
        s[4] = 2
        s[9] = 0x21
        s[1] = 0x40
        return s
    }

    func testHandBuiltQ4_KBlock() {
        var qs = [UInt8](repeating: 0, count: 128)
        qs[0] = 0x05
        qs[64] = 0x70
        let y = decode(.q4_K, half(1) + half(0.5) + kScales() + qs)
        XCTAssertEqual(y[0], 14)     // 1*3*5 - 0.5*2
        XCTAssertEqual(y[160], 118)  // sub-block 5, value 0: 1*17*7 - 0.5*2
        XCTAssertEqual(y[32], 0)     // sub-block 1: scale 0 (0x40 & 63), min 0
        XCTAssertEqual(y[1], -1)     // code 0 in sub-block 0: -0.5*2
    }

    func testHandBuiltQ5_KBlock() {
        var qh = [UInt8](repeating: 0, count: 32)
        qh[0] = 1 | (1 << 5)  // fifth bit of value 0 in sub-blocks 0 and 5
        var qs = [UInt8](repeating: 0, count: 128)
        qs[0] = 0x05
        qs[64] = 0x70
        let y = decode(.q5_K, half(1) + half(0.5) + kScales() + qh + qs)
        XCTAssertEqual(y[0], 62)     // 1*3*(5+16) - 1
        XCTAssertEqual(y[160], 390)  // 1*17*(7+16) - 1
        XCTAssertEqual(y[1], -1)
    }

    func testHandBuiltQ6_KBlock() {
        var ql = [UInt8](repeating: 0, count: 128)
        var qh = [UInt8](repeating: 0, count: 64)
        var scales = [UInt8](repeating: 0, count: 16)
        ql[0] = 0x21
        qh[0] = 0b01
        scales[0] = 2
        scales[1] = UInt8(bitPattern: -3)
        scales[4] = 1
        let y = decode(.q6_K, ql + qh + scales + half(0.5))
        XCTAssertEqual(y[0], -15)   // 0.5 * 2 * ((1 | 1 << 4) - 32)
        XCTAssertEqual(y[64], -15)  // 0.5 * 1 * (2 - 32)
        XCTAssertEqual(y[16], 48)   // 0.5 * -3 * (0 - 32)
        XCTAssertEqual(y[32], 0)    // scale 2 is 0
    }

    /// quantize -> dequantize stays within half a quantization step (a full step where the reference
    /// quantizer clamps the top code), plus fp16 rounding of the stored scale and minimum.
    func testQuantizeRoundTripErrorBounds() throws {
        var rng = SeededRandom(seed: 7)
        let n = 32 * 64
        let x = rng.floats(n, in: -3...3)
        let cases: [(TensorType, (ArraySlice<Float>) -> Float)] = [
            // fp16 rounding of d shifts a code q by up to q * d * 2^-11, most at q = 127.
            (.q8_0, { b in b.map(abs).max()! / 127 * (0.5 + 127 * 5e-4) + 1e-6 }),
            (.q4_0, { b in b.map(abs).max()! / 8 * 1.01 + 1e-6 }),
            (.q5_0, { b in b.map(abs).max()! / 16 * 1.01 + 1e-6 }),
            (.q4_1, { b in (b.max()! - b.min()!) / 15 * 0.5 * 1.02 + abs(b.min()!) * 1e-3 }),
            (.q5_1, { b in (b.max()! - b.min()!) / 31 * 0.5 * 1.02 + abs(b.min()!) * 1e-3 }),
            (.f16, { b in b.map(abs).max()! * 1e-3 }),
            (.bf16, { b in b.map(abs).max()! * 8e-3 }),
            (.f32, { _ in 0 }),
        ]
        for (type, bound) in cases {
            var bytes = [UInt8](repeating: 0, count: type.byteCount(elements: n)!)
            try bytes.withUnsafeMutableBytes { raw in
                try ReferenceKernels.quantize(type, x, count: n, into: raw.baseAddress!)
            }
            var y = [Float](repeating: 0, count: n)
            bytes.withUnsafeBytes { ReferenceKernels.dequantize(type, $0.baseAddress!, count: n, into: &y) }
            for b in 0..<(n / 32) {
                let block = x[(32 * b)..<(32 * b + 32)]
                let limit = bound(block)
                let worst = (0..<32).map { abs(x[32 * b + $0] - y[32 * b + $0]) }.max()!
                XCTAssertLessThanOrEqual(worst, limit, "\(type) block \(b)")
            }
        }
    }

    func testQuantizeRejectsBadInput() throws {
        let x = [Float](repeating: 1, count: 40)
        var out = [UInt8](repeating: 0, count: 64)
        try out.withUnsafeMutableBytes { raw in
            XCTAssertThrowsError(try ReferenceKernels.quantize(.q8_0, x, count: 40, into: raw.baseAddress!)) {
                XCTAssertEqual($0 as? KernelError, .rowNotBlockAligned(type: .q8_0, cols: 40))
            }
            XCTAssertThrowsError(try ReferenceKernels.quantize(.q4_K, x, count: 32, into: raw.baseAddress!))
        }
    }

    func testCheckedWeightMatrixRejectsBadShapes() throws {
        let bytes = [UInt8](repeating: 0, count: 68)
        try bytes.withUnsafeBytes { raw in
            let p = raw.baseAddress!
            XCTAssertNoThrow(try WeightMatrix.checked(type: .q8_0, rows: 2, cols: 32, data: p, byteCount: 68))
            XCTAssertThrowsError(try WeightMatrix.checked(type: .q8_0, rows: 3, cols: 32, data: p, byteCount: 68)) {
                XCTAssertEqual($0 as? KernelError, .bufferTooSmall(needed: 102, available: 68))
            }
            XCTAssertThrowsError(try WeightMatrix.checked(type: .q8_0, rows: 1, cols: 33, data: p, byteCount: 68))
            XCTAssertThrowsError(try WeightMatrix.checked(type: .iq2_xs, rows: 1, cols: 256, data: p, byteCount: 68)) {
                XCTAssertEqual(($0 as? KernelError)?.description, "tensor type iq2_xs has no PodKV kernel")
            }
        }
    }
}

/// Reference dequantizers against an independent implementation: gguf-py's numpy decoder, through the
/// golden blocks in `GGUFPyGolden.swift`. Exact equality: both perform the same float operations.
final class GGUFPyGoldenTests: XCTestCase {
    func testReferenceAndFastDequantizeMatchGGUFPy() {
        XCTAssertEqual(GGUFPyGolden.version, 1)
        XCTAssertEqual(Set(GGUFPyGolden.cases.map(\.0)).count, 10)
        for (type, hex, expectedBits) in GGUFPyGolden.cases {
            var bytes: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2)
                bytes.append(UInt8(hex[index..<next], radix: 16)!)
                index = next
            }
            let count = expectedBits.count
            XCTAssertEqual(type.byteCount(elements: count), bytes.count, "\(type) golden size")
            var ref = [Float](repeating: .nan, count: count), fast = ref
            bytes.withUnsafeBytes { raw in
                ReferenceKernels.dequantize(type, raw.baseAddress!, count: count, into: &ref)
                Dequantize.row(type, raw.baseAddress!, count: count, into: &fast)
            }
            let mismatches = (0..<count).filter { ref[$0].bitPattern != expectedBits[$0] }
            XCTAssertTrue(mismatches.isEmpty, "\(type): \(mismatches.count) values differ from gguf-py, first at \(mismatches.first ?? -1)")
            XCTAssertEqual(fast.map(\.bitPattern), ref.map(\.bitPattern), "\(type) fast path")
        }
    }
}
