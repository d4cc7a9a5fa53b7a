import XCTest
@testable import PodKVKernels

/// The 16-row interleaved decode layouts and kernels (`InterleavedWeights`):
/// - the regrouped copy holds exactly the source values (read back through the scalar accessors);
/// - each SIMD kernel agrees with its scalar twin on the same quantized activation (fp32 rounding only),
///   for 8-bit and two-digit 15-bit activations;
/// - `MatMul.matvec` / `groupQ8` on a matrix with the copy agree with the row-major int8 kernels at
///   `.int8` precision and with the exact fp32 product at `.fine` precision;
/// - shapes the layout cannot take fall back to the row-major kernels.
final class InterleavedKernelsTests: XCTestCase {
    private let types: [TensorType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0]

    private func dequantized(_ type: TensorType, _ bytes: [UInt8], count: Int) -> [Float] {
        var w = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { ReferenceKernels.dequantize(type, $0.baseAddress!, count: count, into: &w) }
        return w
    }

    /// Runs `body` with a matrix over a copy of `bytes` that lives for the call.
    private func withMatrix<R>(_ type: TensorType, rows: Int, cols: Int, _ bytes: [UInt8], _ body: (WeightMatrix) -> R) -> R {
        bytes.withUnsafeBytes { raw in body(WeightMatrix(type: type, rows: rows, cols: cols, data: raw.baseAddress!)) }
    }

    func testCopyHoldsTheSourceValues() throws {
        var rng = SeededRandom(seed: 41)
        for type in types {
            let rows = 32, cols = 96
            let bytes = TestData.randomRows(type, rows: rows, cols: cols, rng: &rng)
            let reference = dequantized(type, bytes, count: rows * cols)
            let copy = try XCTUnwrap(withMatrix(type, rows: rows, cols: cols, bytes) { InterleavedWeights($0) })
            XCTAssertEqual(copy.layout, type == .q8_0 ? .bytes : .nibbles)
            XCTAssertEqual(copy.byteCount, bytes.count, "\(type): the copy is as large as the source")
            for r in 0..<rows {
                for c in 0..<cols {
                    XCTAssertEqual(copy.value(row: r, column: c), reference[r * cols + c], "\(type) (\(r), \(c))")
                }
            }
        }
    }

    func testKernelsMatchScalarTwins() throws {
        var rng = SeededRandom(seed: 43)
        for type in types {
            let rows = 48, cols = 160
            let bytes = TestData.randomRows(type, rows: rows, cols: cols, rng: &rng)
            let x = rng.floats(cols, in: -3...3)
            let w = dequantized(type, bytes, count: rows * cols)
            let copy = try XCTUnwrap(withMatrix(type, rows: rows, cols: cols, bytes) {
                InterleavedWeights($0)
            })
            for precision in MatMul.ActivationPrecision.allCases {
                var fast = [Float](repeating: .nan, count: rows), twin = fast
                x.withUnsafeBufferPointer { xb in
                    switch precision {
                    case .int8:
                        Q8Activation.withQuantized(xb.baseAddress!, count: cols) { act in
                            copy.product(groups: 0..<copy.groups, act, &fast)
                            copy.productScalar(groups: 0..<copy.groups, act, &twin)
                        }
                    case .fine:
                        Q8x2Activation.withQuantized(xb.baseAddress!, count: cols) { act in
                            copy.product(groups: 0..<copy.groups, act, &fast)
                            copy.productScalar(groups: 0..<copy.groups, act, &twin)
                        }
                    }
                }
                for r in 0..<rows {
                    let scale = zip(w[(r * cols)..<((r + 1) * cols)], x).reduce(Float(0)) { $0 + abs($1.0 * $1.1) }
                    XCTAssertEqual(fast[r], twin[r], accuracy: scale * 1e-5 + 1e-5, "\(type) \(precision) row \(r)")
                }
            }
        }
    }

    /// The two-digit quantizer: vector and scalar agree (digit pairs may differ at exact ties), the digits
    /// stay in range, and 128 * hi + lo reproduces x within half a step.
    func testTwoDigitQuantizerMatchesScalarTwin() {
        var rng = SeededRandom(seed: 47)
        let n = 256
        var x = rng.floats(n, in: -50...50)
        x[7] = 0
        for i in 64..<96 { x[i] = 0 }  // an all-zero block
        x.withUnsafeBufferPointer { xb in
            withUnsafeTemporaryAllocation(byteCount: Q8x2Activation.scratchBytes(count: n), alignment: 64) { a in
                withUnsafeTemporaryAllocation(byteCount: Q8x2Activation.scratchBytes(count: n), alignment: 64) { b in
                    let fast = Q8x2Activation(scratch: a.baseAddress!, count: n)
                    let twin = Q8x2Activation(scratch: b.baseAddress!, count: n)
                    fast.quantize(xb.baseAddress!)
                    twin.quantizeScalar(xb.baseAddress!)
                    for blk in 0..<(n / 32) {
                        XCTAssertEqual(fast.scale[blk], twin.scale[blk])
                        var h: Int32 = 0, l: Int32 = 0
                        for i in (32 * blk)..<(32 * blk + 32) {
                            h += Int32(fast.hi[i])
                            l += Int32(fast.lo[i])
                        }
                        XCTAssertEqual(fast.hiSum[blk], h)
                        XCTAssertEqual(fast.loSum[blk], l)
                        XCTAssertEqual(fast.sum[blk], fast.scale[blk] * Float(128 * h + l), accuracy: 1e-3)
                    }
                    for i in 0..<n {
                        let qf = 128 * Int(fast.hi[i]) + Int(fast.lo[i]), qt = 128 * Int(twin.hi[i]) + Int(twin.lo[i])
                        XCTAssertLessThanOrEqual(abs(qf - qt), 1)
                        XCTAssertLessThanOrEqual(abs(Int(fast.lo[i])), 64)
                        XCTAssertLessThanOrEqual(abs(Int(fast.hi[i])), 127)
                        XCTAssertEqual(Float(qf) * fast.scale[i / 32], x[i], accuracy: fast.scale[i / 32] * 0.51 + 1e-12)
                    }
                }
            }
        }
    }

    /// Through `MatMul`: the interleaved path at `.int8` precision against the row-major int8 kernel on
    /// the same activation (same arithmetic, different summation order), at `.fine` against exact fp32.
    func testMatMulUsesTheCopiesAndAgrees() {
        var rng = SeededRandom(seed: 53)
        for threads in [1, 2, 3] {
            let pool = ThreadPool(threadCount: threads)
            for type in types {
                let rows = 80, cols = 192
                let bytes = TestData.randomRows(type, rows: rows, cols: cols, rng: &rng)
                let x = rng.floats(cols, in: -2...2)
                let w = dequantized(type, bytes, count: rows * cols)
                var rowMajor = [Float](repeating: .nan, count: rows), int8 = rowMajor, fine = rowMajor, exact = rowMajor
                withMatrix(type, rows: rows, cols: cols, bytes) { m in
                    let withCopy = m.withDecodeLayouts()
                    XCTAssertNotNil(withCopy.interleaved, "\(type)")
                    XCTAssertEqual(withCopy.decodeLayoutBytes, bytes.count)
                    MatMul.matvec(m, x, &rowMajor, pool: pool)
                    MatMul.matvec(withCopy, x, &int8, pool: pool, precision: .int8)
                    MatMul.matvec(withCopy, x, &fine, pool: pool, precision: .fine)
                    MatMul.matvecExact(m, x, &exact, pool: pool)
                }
                for r in 0..<rows {
                    let scale = zip(w[(r * cols)..<((r + 1) * cols)], x).reduce(Float(0)) { $0 + abs($1.0 * $1.1) }
                    XCTAssertEqual(int8[r], rowMajor[r], accuracy: scale * 1e-5 + 1e-5, "\(type) t\(threads) row \(r)")
                    // 15-bit activations: at most amax/32512 per value, inside 1e-4 of the magnitude.
                    XCTAssertEqual(fine[r], exact[r], accuracy: scale * 1e-4 + 1e-5, "\(type) fine t\(threads) row \(r)")
                }
            }
        }
    }

    /// One shared input, matrices with and without copies in the same pool job, a single row.
    func testGroupMixesInterleavedAndRowMajorMatrices() {
        var rng = SeededRandom(seed: 59)
        let pool = ThreadPool(threadCount: 2)
        let cols = 256
        // q4_K has no interleaved layout; 20 rows is not a multiple of 16: both stay row-major.
        let specs: [(TensorType, Int)] = [(.q5_0, 64), (.q8_0, 32), (.q4_K, 16), (.q4_1, 20), (.q4_1, 48)]
        let bytes = specs.map { TestData.randomRows($0.0, rows: $0.1, cols: cols, rng: &rng) }
        let x = rng.floats(cols, in: -3...3)
        let buffers = bytes.map { b in UnsafeMutableRawPointer.allocate(byteCount: b.count, alignment: 64) }
        defer { buffers.forEach { $0.deallocate() } }
        for (b, raw) in zip(bytes, buffers) { b.withUnsafeBytes { raw.copyMemory(from: $0.baseAddress!, byteCount: b.count) } }
        let plain = specs.indices.map { WeightMatrix(type: specs[$0].0, rows: specs[$0].1, cols: cols, data: buffers[$0]) }
        let withCopies = plain.map { $0.withDecodeLayouts() }
        XCTAssertEqual(withCopies.map { $0.interleaved != nil }, [true, true, false, false, true])
        let outs = specs.map { UnsafeMutablePointer<Float>.allocate(capacity: $0.1) }
        defer { outs.forEach { $0.deallocate() } }
        MatMul.groupQ8(withCopies, x, batch: 1, outs, pool: pool, precision: .int8)
        for k in specs.indices {
            var separate = [Float](repeating: .nan, count: specs[k].1)
            MatMul.matvec(plain[k], x, &separate, pool: pool)
            for r in 0..<specs[k].1 {
                XCTAssertEqual(outs[k][r], separate[r], accuracy: 1e-4 * max(1, abs(separate[r])), "\(specs[k].0) \(specs[k].1) row \(r)")
            }
        }
        // At `.fine` precision the interleaved matrices take the two-digit activation, the others 8 bits.
        MatMul.groupQ8(withCopies, x, batch: 1, outs, pool: pool, precision: .fine)
        for k in specs.indices {
            var separate = [Float](repeating: .nan, count: specs[k].1)
            MatMul.matvec(withCopies[k], x, &separate, pool: pool, precision: .fine)
            for r in 0..<specs[k].1 {
                XCTAssertEqual(outs[k][r], separate[r], accuracy: 1e-4 * max(1, abs(separate[r])), "fine \(specs[k].0) \(specs[k].1) row \(r)")
            }
        }
    }

    func testUnsupportedShapesAndTypesHaveNoCopy() {
        var rng = SeededRandom(seed: 61)
        let odd = TestData.randomRows(.q4_1, rows: 20, cols: 64, rng: &rng)
        withMatrix(.q4_1, rows: 20, cols: 64, odd) { m in
            XCTAssertNil(InterleavedWeights(m))
            XCTAssertNil(m.withDecodeLayouts().interleaved)
        }
        let k = TestData.randomRows(.q6_K, rows: 16, cols: 256, rng: &rng)
        withMatrix(.q6_K, rows: 16, cols: 256, k) { m in XCTAssertEqual(m.withDecodeLayouts().decodeLayoutBytes, 0) }
    }
}
