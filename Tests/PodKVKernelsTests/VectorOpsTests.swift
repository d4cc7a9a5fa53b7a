import XCTest
@testable import PodKVKernels

final class VectorOpsTests: XCTestCase {
    // Lengths cover empty-ish, pure tail, one vector, vector + tail, many vectors.
    private let lengths = [1, 5, 16, 17, 64, 100, 1000]

    func testRmsNormDotMaxIndexMatchTwins() {
        var rng = SeededRandom(seed: 21)
        for n in lengths {
            let x = rng.floats(n, in: -3...3), w = rng.floats(n)
            var out = [Float](repeating: 0, count: n), ref = out
            VectorOps.rmsNorm(x, weight: w, eps: 1e-5, count: n, into: &out)
            ReferenceVectorOps.rmsNorm(x, weight: w, eps: 1e-5, count: n, into: &ref)
            for i in 0..<n { XCTAssertEqual(out[i], ref[i], accuracy: 1e-5 * max(1, abs(ref[i]))) }
            let d = VectorOps.dot(x, w, count: n), dr = ReferenceVectorOps.dot(x, w, count: n)
            XCTAssertEqual(d, dr, accuracy: 1e-5 * Float(n))
            XCTAssertEqual(VectorOps.maxIndex(x, count: n), ReferenceVectorOps.maxIndex(x, count: n))
        }
        XCTAssertEqual(VectorOps.maxIndex([1, 7, 3, 7], count: 4), 1, "ties go to the first index")
    }

    func testElementwiseOpsMatchScalar() {
        var rng = SeededRandom(seed: 22)
        for n in lengths {
            let a = rng.floats(n), b = rng.floats(n)
            var sum = a, prod = a, scaled = a, axpy = a
            VectorOps.add(&sum, b, count: n)
            VectorOps.mul(&prod, b, count: n)
            VectorOps.scale(&scaled, by: 0.3, count: n)
            VectorOps.axpy(&axpy, 1.5, b, count: n)
            for i in 0..<n {
                XCTAssertEqual(sum[i], a[i] + b[i])
                XCTAssertEqual(prod[i], a[i] * b[i])
                XCTAssertEqual(scaled[i], a[i] * 0.3)
                XCTAssertEqual(axpy[i], a[i] + 1.5 * b[i], accuracy: 1e-6)
            }
        }
    }

    func testSiluMulAndSoftmaxMatchTwins() {
        var rng = SeededRandom(seed: 23)
        for n in lengths {
            let g = rng.floats(n, in: -12...12), up = rng.floats(n)
            var fast = g, ref = g
            VectorOps.siluMul(&fast, up, count: n)
            ReferenceVectorOps.siluMul(&ref, up, count: n)
            for i in 0..<n { XCTAssertEqual(fast[i], ref[i], accuracy: 2e-6 * max(1, abs(ref[i]))) }

            var s = rng.floats(n, in: -30...30), sr = s
            VectorOps.softmax(&s, count: n)
            ReferenceVectorOps.softmax(&sr, count: n)
            for i in 0..<n { XCTAssertEqual(s[i], sr[i], accuracy: 1e-6 + 1e-5 * sr[i]) }
            XCTAssertEqual(s.reduce(0, +), 1, accuracy: 1e-5)
        }
    }

    func testSoftmaxGivesMaskedEntriesZero() {
        var x: [Float] = [0, -.infinity, 1] + [Float](repeating: -.infinity, count: 17)
        VectorOps.softmax(&x, count: x.count)
        XCTAssertEqual(x[1], 0)
        XCTAssertEqual(x[19], 0)
        XCTAssertEqual(x[0] + x[2], 1, accuracy: 1e-6)
    }

    func testHalfHelpersRoundTripAndMatchScalar() {
        var rng = SeededRandom(seed: 24)
        for n in lengths {
            let x = rng.floats(n, in: -100...100), q = rng.floats(n)
            var h = [Float16](repeating: 0, count: n)
            VectorOps.toHalf(x, &h, count: n)
            for i in 0..<n { XCTAssertEqual(h[i], Float16(x[i]), "toHalf rounds like Float16(_:)") }
            var back = [Float](repeating: 0, count: n)
            VectorOps.toFloat(h, &back, count: n)
            for i in 0..<n {
                XCTAssertEqual(back[i], Float(h[i]))
                XCTAssertEqual(back[i], x[i], accuracy: abs(x[i]) * 4.9e-4 + 1e-7)
            }
            let d = VectorOps.dotHalf(q, h, count: n)
            XCTAssertEqual(d, ReferenceVectorOps.dot(q, back, count: n), accuracy: 1e-4 * Float(n))
            var y = q, yr = q
            VectorOps.axpyHalf(&y, 0.25, h, count: n)
            for i in 0..<n { yr[i] += 0.25 * back[i] }
            for i in 0..<n { XCTAssertEqual(y[i], yr[i], accuracy: 1e-5 * max(1, abs(yr[i]))) }
        }
    }
}
