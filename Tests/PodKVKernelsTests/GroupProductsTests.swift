import XCTest
@testable import PodKVKernels

/// `MatMul.groupQ8` (shared int8 input, one pool job) against per-matrix `matvec`, which runs the same
/// integer kernels one matrix at a time: results agree to fp32 rounding for batches of 1 and more.
final class GroupProductsTests: XCTestCase {
    func testGroupEqualsSeparateMatvecs() {
        var rng = SeededRandom(seed: 31)
        for threads in [1, 2, 3] {
            let pool = ThreadPool(threadCount: threads)
            let cols = 512
            // Mixed types and row counts (qwen's v is q8_0 next to q5_0 q/k), none a multiple of the chunking.
            let specs: [(TensorType, Int)] = [(.q5_0, 37), (.q4_1, 11), (.q8_0, 19), (.q4_K, 5), (.q6_K, 8)]
            let bytes = specs.map { TestData.randomRows($0.0, rows: $0.1, cols: cols, rng: &rng) }
            for n in [1, 3, 4, 9] {
                let x = rng.floats(n * cols, in: -3...3)
                var grouped = specs.map { [Float](repeating: .nan, count: n * $0.1) }
                var separate = grouped
                let buffers = bytes.map { b in UnsafeMutableRawPointer.allocate(byteCount: b.count, alignment: 64) }
                defer { buffers.forEach { $0.deallocate() } }
                for (b, raw) in zip(bytes, buffers) { b.withUnsafeBytes { raw.copyMemory(from: $0.baseAddress!, byteCount: b.count) } }
                let ws = specs.indices.map { WeightMatrix(type: specs[$0].0, rows: specs[$0].1, cols: cols, data: buffers[$0]) }
                let outs = grouped.indices.map { k in UnsafeMutablePointer<Float>.allocate(capacity: n * specs[k].1) }
                defer { outs.forEach { $0.deallocate() } }
                x.withUnsafeBufferPointer { xb in
                    MatMul.groupQ8(ws, xb.baseAddress!, batch: n, outs, pool: pool)
                    for k in ws.indices {
                        grouped[k] = Array(UnsafeBufferPointer(start: outs[k], count: n * specs[k].1))
                        for i in 0..<n {
                            separate[k].withUnsafeMutableBufferPointer { s in
                                var row = [Float](repeating: 0, count: specs[k].1)
                                MatMul.matvec(ws[k], xb.baseAddress! + i * cols, &row, pool: pool)
                                for r in 0..<specs[k].1 { s[i * specs[k].1 + r] = row[r] }
                            }
                        }
                    }
                }
                for k in ws.indices {
                    for j in 0..<(n * specs[k].1) {
                        XCTAssertEqual(grouped[k][j], separate[k][j], accuracy: 1e-4 * max(1, abs(separate[k][j])),
                                       "\(specs[k].0) threads \(threads) batch \(n) index \(j)")
                    }
                }
            }
        }
    }
}
