import Foundation

/// Times the matrix kernels on random weights of chosen shapes (what `podkv bench --kernels` prints).
///
/// Each measurement repeats the kernel until a repetition lasts at least `minRepetitionSeconds`, takes
/// `repetitions` such repetitions and reports the median, so one preempted run on a shared machine does
/// not skew the number. Run release builds only: debug numbers are meaningless.
public enum KernelBenchmark {
    /// Which product is timed.
    public enum Kernel: String, Sendable, CaseIterable {
        /// `MatMul.matvec` on the row-major blocks (int8 activations for quantized weights).
        case matvec
        /// `MatMul.matvec` on the 16-row interleaved copy with 15-bit activations (the default decode path).
        case matvecInterleaved = "matvec-il"
        /// `MatMul.matvec` on the interleaved copy with 8-bit activations.
        case matvecInterleavedInt8 = "matvec-il8"
        /// `MatMul.matvecExact` (fp32, each row dequantized to a scratch buffer).
        case matvecExact
        /// `MatMul.matmul` with `batch` activation rows (exact fp32 prefill path).
        case matmul
        /// `MatMul.groupQ8` of one matrix with `batch` activation rows (int8 prefill path).
        case matmulInt8
    }

    /// One measured configuration.
    public struct Result: Sendable, CustomStringConvertible {
        public let kernel: Kernel
        public let type: TensorType
        public let rows: Int
        public let cols: Int
        public let batch: Int
        public let threads: Int
        /// Median seconds of one kernel call.
        public let seconds: Double
        /// Multiply-accumulates per second / 1e9 (`rows * cols * batch / seconds`).
        public var gmacPerSecond: Double { Double(rows * cols * batch) / seconds / 1e9 }

        public var description: String {
            let shape = "\(rows)x\(cols)" + (batch > 1 ? " n=\(batch)" : "")
            return "\(kernel.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)) "
                + "\(type.description.padding(toLength: 5, withPad: " ", startingAt: 0)) "
                + "\(shape.padding(toLength: 17, withPad: " ", startingAt: 0)) t=\(threads) "
                + String(format: "%9.1f us %7.2f GMAC/s", seconds * 1e6, gmacPerSecond)
        }
    }

    /// A weight shape to time: `rows` outputs of `cols` inputs each.
    public struct Shape: Sendable {
        public let rows: Int
        public let cols: Int
        public init(rows: Int, cols: Int) {
            self.rows = rows
            self.cols = cols
        }
    }

    /// Times `kernels` for every type and shape at each thread count. Throws for unsupported types or
    /// shapes whose `cols` is not a whole number of blocks.
    /// Shapes whose `cols` is not a whole number of blocks of a type are skipped for that type.
    public static func run(
        types: [TensorType], shapes: [Shape], kernels: [Kernel] = [.matvec, .matmul], batch: Int = 64,
        threadCounts: [Int] = [1, 2], repetitions: Int = 7, minRepetitionSeconds: Double = 0.005,
        progress: ((Result) -> Void)? = nil
    ) throws(KernelError) -> [Result] {
        var results: [Result] = []
        for threads in threadCounts {
            let pool = ThreadPool(threadCount: threads)
            for type in types {
                for shape in shapes where shape.cols % type.blockSize == 0 {
                    let weights = try randomWeights(type, rows: shape.rows, cols: shape.cols)
                    var rng = SystemRandomNumberGenerator()
                    let x = (0..<(batch * shape.cols)).map { _ in Float.random(in: -1...1, using: &rng) }
                    var y = [Float](repeating: 0, count: batch * shape.rows)
                    weights.withUnsafeBytes { raw in
                        let w = WeightMatrix(type: type, rows: shape.rows, cols: shape.cols, data: raw.baseAddress!)
                        let interleaved = w.withDecodeLayouts()
                        x.withUnsafeBufferPointer { xb in
                            y.withUnsafeMutableBufferPointer { yb in
                                for kernel in kernels {
                                    let n = kernel == .matmul || kernel == .matmulInt8 ? batch : 1
                                    if kernel == .matmulInt8 && !MatMul.hasInt8Kernel(type) { continue }
                                    if [.matvecInterleaved, .matvecInterleavedInt8].contains(kernel) && interleaved.interleaved == nil { continue }
                                    let seconds = median(repetitions: repetitions, minSeconds: minRepetitionSeconds) {
                                        switch kernel {
                                        case .matvec: MatMul.matvec(w, xb.baseAddress!, yb.baseAddress!, pool: pool)
                                        case .matvecInterleaved: MatMul.matvec(interleaved, xb.baseAddress!, yb.baseAddress!, pool: pool)
                                        case .matvecInterleavedInt8:
                                            MatMul.matvec(interleaved, xb.baseAddress!, yb.baseAddress!, pool: pool, precision: .int8)
                                        case .matvecExact: MatMul.matvecExact(w, xb.baseAddress!, yb.baseAddress!, pool: pool)
                                        case .matmul: MatMul.matmul(w, xb.baseAddress!, batch: n, yb.baseAddress!, pool: pool)
                                        case .matmulInt8: MatMul.groupQ8([w], xb.baseAddress!, batch: n, [yb.baseAddress!], pool: pool)
                                        }
                                    }
                                    let result = Result(kernel: kernel, type: type, rows: shape.rows, cols: shape.cols,
                                                        batch: n, threads: threads, seconds: seconds)
                                    progress?(result)
                                    results.append(result)
                                }
                            }
                        }
                    }
                }
            }
        }
        return results
    }

    /// The shapes of the two reference models: SmolLM2-135M (576 hidden, 1536 FFN, 49152 vocab; Q4_1 /
    /// Q8_0) and Qwen2.5-0.5B (896 hidden, 4864 FFN; Q5_0, Q4_K, Q6_K, Q8_0). A K-quant row must hold whole
    /// 256-value super-blocks, so 896-column matrices exist only in the 32-block types (llama.cpp falls
    /// back to those for such tensors) and are skipped for q4_K / q6_K.
    public static func standardSuite(
        kernels: [Kernel] = [.matvec, .matvecInterleaved, .matvecInterleavedInt8, .matmul], batch: Int = 64, threadCounts: [Int] = [1, 2],
        progress: ((Result) -> Void)? = nil
    ) throws(KernelError) -> [Result] {
        let smol = [Shape(rows: 576, cols: 1536), Shape(rows: 1536, cols: 576), Shape(rows: 49152, cols: 576)]
        let qwen = [Shape(rows: 896, cols: 4864), Shape(rows: 4864, cols: 896)]
        return try run(types: [.q4_1, .q8_0], shapes: smol, kernels: kernels, batch: batch,
                       threadCounts: threadCounts, progress: progress)
            + run(types: [.q5_0, .q4_K, .q6_K, .q8_0], shapes: qwen, kernels: kernels, batch: batch,
                  threadCounts: threadCounts, progress: progress)
    }

    /// Random weights of `type`: random code bytes with every block's fp16 scale (and minimum) fields set
    /// to small finite values; plain float types get random values in [-1, 1].
    public static func randomWeights(_ type: TensorType, rows: Int, cols: Int) throws(KernelError) -> [UInt8] {
        guard type.isSupported else { throw .unsupportedType(type) }
        guard rows > 0, cols > 0 else { throw .invalidShape("matrix of \(rows) x \(cols)") }
        guard let rowBytes = type.byteCount(elements: cols) else { throw .rowNotBlockAligned(type: type, cols: cols) }
        var rng = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: rows * rowBytes)
        if type.blockSize == 1 {
            let values = (0..<(rows * cols)).map { _ in Float.random(in: -1...1, using: &rng) }
            var failure: KernelError?
            bytes.withUnsafeMutableBytes { raw in
                do throws(KernelError) {
                    try ReferenceKernels.quantize(type, values, count: rows * cols, into: raw.baseAddress!)
                } catch {
                    failure = error
                }
            }
            if let failure { throw failure }
            return bytes
        }
        bytes.withUnsafeMutableBytes { raw in
            for i in stride(from: 0, to: raw.count - 7, by: 8) { raw.storeBytes(of: rng.next(), toByteOffset: i, as: UInt64.self) }
        }
        let scaleOffsets: [Int] = switch type {
        case .q4_1, .q5_1, .q4_K, .q5_K: [0, 2]
        case .q6_K: [208]
        default: [0]
        }
        for block in 0..<(bytes.count / type.blockBytes) {
            for offset in scaleOffsets {
                let bits = Float16(Float.random(in: 0.001...0.01, using: &rng)).bitPattern
                bytes[block * type.blockBytes + offset] = UInt8(bits & 0xFF)
                bytes[block * type.blockBytes + offset + 1] = UInt8(bits >> 8)
            }
        }
        return bytes
    }

    /// Median over `repetitions` of the per-call time of `body`, each repetition looping long enough to
    /// last `minSeconds`.
    private static func median(repetitions: Int, minSeconds: Double, _ body: () -> Void) -> Double {
        body()  // warm caches and wake the pool
        var calls = 1
        while true {
            let t = time(calls, body)
            if t >= minSeconds { break }
            calls = max(calls * 2, Int(Double(calls) * minSeconds / max(t, 1e-9)))
        }
        var samples = (0..<max(1, repetitions)).map { _ in time(calls, body) / Double(calls) }
        samples.sort()
        return samples[samples.count / 2]
    }

    private static func time(_ calls: Int, _ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<calls { body() }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
