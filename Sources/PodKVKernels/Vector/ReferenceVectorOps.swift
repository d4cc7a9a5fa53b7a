#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain scalar twins of `VectorOps` (Double accumulation where sums are long), for tests.
public enum ReferenceVectorOps {
    /// out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i].
    public static func rmsNorm(
        _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float, count n: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        var ss: Double = 0
        for i in 0..<n { ss += Double(x[i]) * Double(x[i]) }
        let inv = 1 / (ss / Double(n) + Double(eps)).squareRoot()
        for i in 0..<n { out[i] = Float(Double(x[i]) * inv * Double(weight[i])) }
    }

    /// gate[i] = gate[i] / (1 + e^-gate[i]) * up[i].
    public static func siluMul(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count n: Int) {
        for i in 0..<n {
            let g = Double(gate[i])
            gate[i] = Float(g / (1 + exp(-g)) * Double(up[i]))
        }
    }

    /// x <- softmax(x) in place.
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count n: Int) {
        guard n > 0 else { return }
        var m = x[0]
        for i in 0..<n { m = max(m, x[i]) }
        var sum: Double = 0
        for i in 0..<n { sum += exp(Double(x[i] - m)) }
        for i in 0..<n { x[i] = Float(exp(Double(x[i] - m)) / sum) }
    }

    /// sum_i a[i] * b[i].
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) -> Float {
        var s: Double = 0
        for i in 0..<n { s += Double(a[i]) * Double(b[i]) }
        return Float(s)
    }

    /// Index of the first largest value.
    public static func maxIndex(_ x: UnsafePointer<Float>, count n: Int) -> Int {
        var best = 0
        for i in 0..<n where x[i] > x[best] { best = i }
        return best
    }

    /// Scalar twin of `AttentionKernels.scores` (Double accumulation).
    public static func scores(
        _ q: UnsafePointer<Float>, rows: UnsafePointer<UnsafeRawPointer>, count: Int, width: Int, half: Bool,
        scale: Float, into logits: UnsafeMutablePointer<Float>
    ) {
        for i in 0..<count {
            var s: Double = 0
            for c in 0..<width {
                let v = half ? Float(rows[i].assumingMemoryBound(to: Float16.self)[c]) : rows[i].assumingMemoryBound(to: Float.self)[c]
                s += Double(q[c]) * Double(v)
            }
            logits[i] = Float(s) * scale
        }
    }

    /// Scalar twin of `AttentionKernels.accumulateRows`.
    public static func accumulateRows(
        weights: UnsafePointer<Float>, rows: UnsafePointer<UnsafeRawPointer>, count: Int, width: Int, half: Bool,
        into out: UnsafeMutablePointer<Float>
    ) {
        for c in 0..<width {
            var s = Double(out[c])
            for i in 0..<count {
                let v = half ? Float(rows[i].assumingMemoryBound(to: Float16.self)[c]) : rows[i].assumingMemoryBound(to: Float.self)[c]
                s += Double(weights[i]) * Double(v)
            }
            out[c] = Float(s)
        }
    }

    /// Scalar twin of `AttentionKernels.expShifted`.
    public static func expShifted(_ x: UnsafeMutablePointer<Float>, minus shift: Float, count n: Int) -> Float {
        var sum: Double = 0
        for i in 0..<n {
            x[i] = expf(x[i] - shift)
            sum += Double(x[i])
        }
        return Float(sum)
    }
}
