import XCTest
@testable import PodKVKernels

/// The block attention kernels against their scalar twins, for f16 and f32 rows, the 64-wide fast path
/// and other widths, and block lengths that leave a masked tail.
final class AttentionKernelsTests: XCTestCase {
    /// `count` rows of `width` random values stored as half or float; returns storage and a pointer table.
    private func makeRows(_ count: Int, width: Int, half: Bool, rng: inout SeededRandom) -> ([UInt8], [Float]) {
        let values = rng.floats(count * width, in: -2...2)
        var bytes = [UInt8](repeating: 0, count: count * width * (half ? 2 : 4))
        bytes.withUnsafeMutableBytes { raw in
            for i in 0..<(count * width) {
                if half { raw.storeBytes(of: Float16(values[i]), toByteOffset: 2 * i, as: Float16.self) }
                else { raw.storeBytes(of: values[i], toByteOffset: 4 * i, as: Float.self) }
            }
        }
        return (bytes, values)
    }

    func testScoresAndAccumulateMatchTwins() {
        var rng = SeededRandom(seed: 21)
        for half in [true, false] {
            for width in [64, 48, 80] {
                for count in [1, 7, 16, 37, 128] {
                    let (bytes, _) = makeRows(count, width: width, half: half, rng: &rng)
                    let q = rng.floats(width)
                    let weights = rng.floats(count, in: 0...1)
                    let start = rng.floats(width)
                    bytes.withUnsafeBytes { raw in
                        // Rows in reverse order: the table, not the memory layout, defines the row order.
                        let rowBytes = width * (half ? 2 : 4)
                        let table = (0..<count).map { raw.baseAddress! + (count - 1 - $0) * rowBytes }
                        var fast = [Float](repeating: .nan, count: count), ref = fast
                        AttentionKernels.scores(q, rows: table, count: count, width: width, half: half, scale: 0.125, into: &fast)
                        ReferenceVectorOps.scores(q, rows: table, count: count, width: width, half: half, scale: 0.125, into: &ref)
                        for i in 0..<count {
                            XCTAssertEqual(fast[i], ref[i], accuracy: 1e-5 * Float(width), "scores half \(half) width \(width) row \(i)")
                        }
                        var outFast = start, outRef = start
                        AttentionKernels.accumulateRows(weights: weights, rows: table, count: count, width: width, half: half, into: &outFast)
                        ReferenceVectorOps.accumulateRows(weights: weights, rows: table, count: count, width: width, half: half, into: &outRef)
                        for c in 0..<width {
                            XCTAssertEqual(outFast[c], outRef[c], accuracy: 1e-5 * Float(count), "accumulate half \(half) width \(width) col \(c)")
                        }
                    }
                }
            }
        }
    }

    /// The grouped-query kernels (several heads per key/value row) against the scalar twins run head by
    /// head: group sizes below, at and above the four heads held in registers (SmolLM2 has 3 per KV head,
    /// Qwen2.5-0.5B 7), f16 and f32 rows, the 64-wide path and another width.
    func testGroupedKernelsMatchPerHeadTwins() {
        var rng = SeededRandom(seed: 23)
        for half in [true, false] {
            for width in [64, 48] {
                for heads in [1, 3, 4, 7] {
                    let count = 37, stride = 40
                    let (bytes, _) = makeRows(count, width: width, half: half, rng: &rng)
                    let q = rng.floats(heads * width)
                    let weights = rng.floats(heads * stride, in: 0...1)
                    let start = rng.floats(heads * width)
                    bytes.withUnsafeBytes { raw in
                        let rowBytes = width * (half ? 2 : 4)
                        let table = (0..<count).map { raw.baseAddress! + ((5 * $0) % count) * rowBytes }
                        var fast = [Float](repeating: .nan, count: heads * stride), ref = fast
                        AttentionKernels.scoresGroup(q, heads: heads, rows: table, count: count, width: width, half: half,
                                                     scale: 0.125, into: &fast, logitStride: stride)
                        q.withUnsafeBufferPointer { qb in
                            ref.withUnsafeMutableBufferPointer { rb in
                                for h in 0..<heads {
                                    ReferenceVectorOps.scores(qb.baseAddress! + h * width, rows: table, count: count, width: width,
                                                              half: half, scale: 0.125, into: rb.baseAddress! + h * stride)
                                }
                            }
                        }
                        for h in 0..<heads {
                            for i in 0..<count {
                                XCTAssertEqual(fast[h * stride + i], ref[h * stride + i], accuracy: 1e-5 * Float(width),
                                               "scores half \(half) width \(width) heads \(heads) head \(h) row \(i)")
                            }
                        }
                        var outFast = start, outRef = start
                        outFast.withUnsafeMutableBufferPointer { fb in
                            let outs = (0..<heads).map { fb.baseAddress! + $0 * width }
                            AttentionKernels.accumulateRowsGroup(weights: weights, weightStride: stride, heads: heads, rows: table,
                                                                 count: count, width: width, half: half, into: outs)
                        }
                        weights.withUnsafeBufferPointer { wb in
                            outRef.withUnsafeMutableBufferPointer { rb in
                                for h in 0..<heads {
                                    ReferenceVectorOps.accumulateRows(weights: wb.baseAddress! + h * stride, rows: table, count: count,
                                                                      width: width, half: half, into: rb.baseAddress! + h * width)
                                }
                            }
                        }
                        for c in 0..<(heads * width) {
                            XCTAssertEqual(outFast[c], outRef[c], accuracy: 1e-5 * Float(count),
                                           "accumulate half \(half) width \(width) heads \(heads) index \(c)")
                        }
                    }
                }
            }
        }
    }

    func testExpShiftedAndMaximumMatchTwins() {
        var rng = SeededRandom(seed: 22)
        for n in [1, 5, 16, 17, 100, 128] {
            var x = rng.floats(n, in: -30...5)
            if n > 1 { x[n / 2] = -.infinity }  // a masked logit gets weight exactly 0
            let m = AttentionKernels.maximum(x, count: n)
            XCTAssertEqual(m, x.max()!)
            var fast = x, ref = x
            let sFast = AttentionKernels.expShifted(&fast, minus: m, count: n)
            let sRef = ReferenceVectorOps.expShifted(&ref, minus: m, count: n)
            XCTAssertEqual(sFast, sRef, accuracy: 1e-6 * Float(n) * max(1, sRef))
            for i in 0..<n { XCTAssertEqual(fast[i], ref[i], accuracy: 1e-6 * max(1, ref[i]), "n \(n) i \(i)") }
            if n > 1 { XCTAssertEqual(fast[n / 2], 0) }
        }
    }
}
