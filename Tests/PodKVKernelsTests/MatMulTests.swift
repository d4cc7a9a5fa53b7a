import XCTest
@testable import PodKVKernels

/// Fast dot / matvec / matmul against the scalar reference.
///
/// Tolerances: `matmul` and `matvecExact` are fp32 with a different summation order than the Double
/// reference: |error| <= 1e-5 * sum_c |w_c x_c| + 1e-6. `matvec` on quantized types rounds x to 8 bits per
/// 32-value block (error at most amax(block)/254 per value), so its bound is
/// sum_c |w_c| * amax(block of c) / 254 * 1.01 + the fp32 term.
final class MatMulTests: XCTestCase {
    private func dequantized(_ type: TensorType, _ bytes: [UInt8], count: Int) -> [Float] {
        var w = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { ReferenceKernels.dequantize(type, $0.baseAddress!, count: count, into: &w) }
        return w
    }

    /// fp32 rounding allowance for a dot product of `w` and `x` rows.
    private func fp32Bound(_ w: ArraySlice<Float>, _ x: ArraySlice<Float>) -> Float {
        zip(w, x).reduce(0) { $0 + abs($1.0 * $1.1) } * 1e-5 + 1e-6
    }

    /// Extra allowance for 8-bit activation rounding.
    private func q8Bound(_ w: ArraySlice<Float>, _ x: ArraySlice<Float>) -> Float {
        let xs = Array(x), ws = Array(w)
        var total: Float = 0
        for b in 0..<(xs.count / 32) {
            let amax = xs[(32 * b)..<(32 * b + 32)].map(abs).max()!
            for c in (32 * b)..<(32 * b + 32) { total += abs(ws[c]) * amax / 254 }
        }
        return total * 1.01
    }

    func testMatvecMatchesReferenceForEveryType() {
        var rng = SeededRandom(seed: 11)
        let pool = ThreadPool(threadCount: 3)
        for type in TestData.supportedTypes {
            // 37 rows: not a multiple of any chunking; cols: several blocks.
            let rows = 37, cols = type.blockSize == 256 ? 512 : 160
            let bytes = TestData.randomRows(type, rows: rows, cols: cols, rng: &rng)
            let x = rng.floats(cols, in: -2...2)
            let w = dequantized(type, bytes, count: rows * cols)
            var fast = [Float](repeating: .nan, count: rows)
            var exact = [Float](repeating: .nan, count: rows)
            var ref = [Float](repeating: .nan, count: rows)
            bytes.withUnsafeBytes { raw in
                let m = WeightMatrix(type: type, rows: rows, cols: cols, data: raw.baseAddress!)
                MatMul.matvec(m, x, &fast, pool: pool)
                MatMul.matvecExact(m, x, &exact, pool: pool)
                ReferenceKernels.matmul(m, x, batch: 1, &ref)
            }
            let isFloat = type.blockSize == 1
            for r in 0..<rows {
                let wr = w[(r * cols)..<((r + 1) * cols)]
                let base = fp32Bound(wr, x[...])
                let bound = isFloat ? base : base + q8Bound(wr, x[...])
                XCTAssertEqual(fast[r], ref[r], accuracy: bound, "\(type) matvec row \(r)")
                XCTAssertEqual(exact[r], ref[r], accuracy: base, "\(type) matvecExact row \(r)")
            }
        }
    }

    /// The integer kernels against their scalar twin on the same quantized activation: both see the same
    /// 8-bit x, so they agree to fp32 rounding.
    func testQ8DotKernelsMatchScalarTwin() {
        var rng = SeededRandom(seed: 5)
        let formats: [any Q8DotFormat.Type] = [
            Q8_0Format.self, Q4_0Format.self, Q4_1Format.self, Q5_0Format.self, Q5_1Format.self,
            Q4_KFormat.self, Q5_KFormat.self, Q6_KFormat.self,
        ]
        // 800 columns: 25 blocks, an odd count that exercises the pair kernels' single-block tail.
        for format in formats {
          for cols in format.type.blockSize == 32 ? [768, 800] : [768] {
            let bytes = TestData.randomRows(format.type, rows: 1, cols: cols, rng: &rng)
            let x = rng.floats(cols, in: -4...4)
            let w = dequantized(format.type, bytes, count: cols)
            let (fast, twin) = bytes.withUnsafeBytes { raw in
                x.withUnsafeBufferPointer { xb in
                    Q8Activation.withQuantized(xb.baseAddress!, count: cols) { act in
                        (format.dotQ8(raw.baseAddress!, act), format.dotQ8Scalar(raw.baseAddress!, act))
                    }
                }
            }
            XCTAssertEqual(fast, twin, accuracy: fp32Bound(w[...], x[...]) * 10, "\(format.type) cols \(cols)")
          }
        }
    }

    /// The vectorized activation quantizer against its scalar twin: same scales, codes within one step
    /// (round-half-even vs half-away ties), and consistent block sums.
    func testActivationQuantizerMatchesScalarTwin() {
        var rng = SeededRandom(seed: 9)
        let n = 256
        let x = rng.floats(n, in: -5...5)
        x.withUnsafeBufferPointer { xb in
            withUnsafeTemporaryAllocation(byteCount: Q8Activation.scratchBytes(count: n), alignment: 64) { a in
                withUnsafeTemporaryAllocation(byteCount: Q8Activation.scratchBytes(count: n), alignment: 64) { b in
                    let fast = Q8Activation(scratch: a.baseAddress!, count: n)
                    let twin = Q8Activation(scratch: b.baseAddress!, count: n)
                    fast.quantize(xb.baseAddress!)
                    twin.quantizeScalar(xb.baseAddress!)
                    for blk in 0..<(n / 32) {
                        XCTAssertEqual(fast.scale[blk], twin.scale[blk])
                        var s: Int32 = 0
                        for i in 0..<32 { s += Int32(fast.qs[32 * blk + i]) }
                        XCTAssertEqual(fast.sum[blk], fast.scale[blk] * Float(s), accuracy: 1e-4)
                    }
                    for i in 0..<n { XCTAssertLessThanOrEqual(abs(Int(fast.qs[i]) - Int(twin.qs[i])), 1) }
                    for g in 0..<(n / 4) {
                        let s = (0..<4).reduce(Int32(0)) { $0 + Int32(fast.qs[4 * g + $1]) }
                        XCTAssertEqual(fast.negSum4[g], -s)
                    }
                }
            }
        }
    }

    func testMatmulMatchesReferenceOddShapesAndBatches() {
        var rng = SeededRandom(seed: 3)
        for threads in [1, 2, 3] {
            let pool = ThreadPool(threadCount: threads)
            for type in TestData.supportedTypes {
                // 13 rows: a partial 4-row tile; cols of several (and partial) 512-value segments.
                let rows = 13
                let cols = type.blockSize == 256 ? 768 : (type.blockSize == 1 ? 600 : 544)
                let bytes = TestData.randomRows(type, rows: rows, cols: cols, rng: &rng)
                let w = dequantized(type, bytes, count: rows * cols)
                for n in [1, 2, 3, 5, 7] {
                    let x = rng.floats(n * cols)
                    var fast = [Float](repeating: .nan, count: n * rows)
                    var ref = [Float](repeating: .nan, count: n * rows)
                    bytes.withUnsafeBytes { raw in
                        let m = WeightMatrix(type: type, rows: rows, cols: cols, data: raw.baseAddress!)
                        MatMul.matmul(m, x, batch: n, &fast, pool: pool)
                        ReferenceKernels.matmul(m, x, batch: n, &ref)
                    }
                    for i in 0..<n {
                        for r in 0..<rows {
                            let bound = fp32Bound(w[(r * cols)..<((r + 1) * cols)], x[(i * cols)..<((i + 1) * cols)])
                            XCTAssertEqual(fast[i * rows + r], ref[i * rows + r], accuracy: bound,
                                           "\(type) threads \(threads) batch \(n) [\(i)][\(r)]")
                        }
                    }
                }
            }
        }
    }

    /// A batch larger than one 32-row tile.
    func testMatmulAcrossBatchTiles() {
        var rng = SeededRandom(seed: 4)
        let pool = ThreadPool(threadCount: 2)
        let rows = 24, cols = 256, n = 70
        let bytes = TestData.randomRows(.q4_K, rows: rows, cols: cols, rng: &rng)
        let x = rng.floats(n * cols)
        var fast = [Float](repeating: .nan, count: n * rows)
        var ref = [Float](repeating: .nan, count: n * rows)
        bytes.withUnsafeBytes { raw in
            let m = WeightMatrix(type: .q4_K, rows: rows, cols: cols, data: raw.baseAddress!)
            MatMul.matmul(m, x, batch: n, &fast, pool: pool)
            ReferenceKernels.matmul(m, x, batch: n, &ref)
        }
        for i in 0..<(n * rows) { XCTAssertEqual(fast[i], ref[i], accuracy: 1e-4 * max(1, abs(ref[i]))) }
    }
}
