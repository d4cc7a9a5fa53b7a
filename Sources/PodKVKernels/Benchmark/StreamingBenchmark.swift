import Foundation

/// Times the one-row (decode) products with weights that come from main memory, as in a real model whose
/// weights do not fit the caches: the kernel cycles over enough distinct copies of a matrix to fill
/// `workingSetBytes`, so every call reads cold data. Reports GB/s of weight bytes read next to GMAC/s; a
/// decode step of a model is close to its weight bytes divided by this rate.
public enum StreamingBenchmark {
    /// One measured configuration.
    public struct Result: Sendable, CustomStringConvertible {
        public let label: String
        public let type: TensorType
        public let rows: Int, cols: Int, threads: Int
        /// Median seconds of one product.
        public let seconds: Double
        /// Weight bytes read per product.
        public let bytes: Int
        public var gigabytesPerSecond: Double { Double(bytes) / seconds / 1e9 }
        public var gmacPerSecond: Double { Double(rows * cols) / seconds / 1e9 }
        public var description: String {
            "\(label.padding(toLength: 12, withPad: " ", startingAt: 0)) \(type.description.padding(toLength: 5, withPad: " ", startingAt: 0)) "
                + "\("\(rows)x\(cols)".padding(toLength: 17, withPad: " ", startingAt: 0)) t=\(threads) cold "
                + String(format: "%9.1f us %7.2f GMAC/s %6.1f GB/s", seconds * 1e6, gmacPerSecond, gigabytesPerSecond)
        }
    }

    /// Measures `matvec` on the row-major blocks and on the interleaved copy (15-bit and 8-bit activations).
    public static func run(
        type: TensorType, rows: Int, cols: Int, threads: Int, workingSetBytes: Int = 512 << 20, repetitions: Int = 5
    ) throws(KernelError) -> [Result] {
        let pool = ThreadPool(threadCount: threads)
        let one = try KernelBenchmark.randomWeights(type, rows: rows, cols: cols)
        let copies = max(2, workingSetBytes / one.count)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: copies * one.count, alignment: 64)
        defer { buffer.deallocate() }
        one.withUnsafeBytes { src in
            for k in 0..<copies { (buffer + k * one.count).copyMemory(from: src.baseAddress!, byteCount: one.count) }
        }
        let plain = (0..<copies).map { WeightMatrix(type: type, rows: rows, cols: cols, data: buffer + $0 * one.count) }
        var variants: [(String, [WeightMatrix], MatMul.ActivationPrecision)] = [("matvec", plain, .int8)]
        if plain[0].withDecodeLayouts().interleaved != nil {
            let interleaved = plain.map { $0.withDecodeLayouts() }
            variants.append(("matvec-il", interleaved, .fine))
            variants.append(("matvec-il8", interleaved, .int8))
        }
        let x = (0..<cols).map { _ in Float.random(in: -1...1) }
        var y = [Float](repeating: 0, count: rows)
        var results: [Result] = []
        for (label, matrices, precision) in variants {
            var samples: [Double] = []
            x.withUnsafeBufferPointer { xb in
                y.withUnsafeMutableBufferPointer { yb in
                    for _ in 0..<(repetitions + 1) {
                        let start = DispatchTime.now().uptimeNanoseconds
                        for w in matrices { MatMul.matvec(w, xb.baseAddress!, yb.baseAddress!, pool: pool, precision: precision) }
                        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(matrices.count))
                    }
                }
            }
            samples.removeFirst()
            samples.sort()
            results.append(Result(label: label, type: type, rows: rows, cols: cols, threads: threads,
                                  seconds: samples[samples.count / 2], bytes: one.count))
        }
        return results
    }
}
