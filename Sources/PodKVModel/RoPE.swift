import Foundation

/// Rotary position embedding tables for one chunk of positions, shared by every layer of the chunk.
///
/// Keys are rotated once, at their original position, before they are cached; positions never shift
/// (a cache that evicts tokens keeps the rotation each key got when it was written).
public struct RotaryEmbedding: Sendable {
    public let ropeDim: Int
    public let style: RopeStyle
    /// (ropeDim / 2) angular frequency of each rotated pair, including linear scaling and Llama-3 factors.
    public let frequencies: [Double]

    public init(config: ModelConfig, frequencyFactors: [Float]? = nil) {
        ropeDim = config.ropeDim
        style = config.ropeStyle
        let half = config.ropeDim / 2
        var f = [Double](repeating: 0, count: half)
        for i in 0..<half {
            var theta = pow(Double(config.ropeBase), -2.0 * Double(i) / Double(config.ropeDim))
            theta /= Double(config.ropeLinearScale)
            if let factors = frequencyFactors { theta /= Double(factors[i]) }
            f[i] = theta
        }
        frequencies = f
    }

    /// Fills `cos`/`sin` tables, each (positions.count, ropeDim / 2).
    public func tables(positions: Range<Int>, cos: inout [Float], sin: inout [Float]) {
        let half = ropeDim / 2
        let n = positions.count
        if cos.count < n * half { cos = [Float](repeating: 0, count: n * half) }
        if sin.count < n * half { sin = [Float](repeating: 0, count: n * half) }
        for (r, p) in positions.enumerated() {
            for i in 0..<half {
                let angle = Double(p) * frequencies[i]
                cos[r * half + i] = Float(Foundation.cos(angle))
                sin[r * half + i] = Float(Foundation.sin(angle))
            }
        }
    }

    /// Rotates `headCount` heads of `headDim` values in place, using row `row` of the tables.
    public func apply(
        _ x: UnsafeMutablePointer<Float>, headCount: Int, headDim: Int, row: Int,
        cos: UnsafePointer<Float>, sin: UnsafePointer<Float>
    ) {
        let half = ropeDim / 2
        let c = cos + row * half
        let s = sin + row * half
        for h in 0..<headCount {
            let v = x + h * headDim
            switch style {
            case .adjacentPairs:
                for i in 0..<half {
                    let a = v[2 * i], b = v[2 * i + 1]
                    v[2 * i] = a * c[i] - b * s[i]
                    v[2 * i + 1] = a * s[i] + b * c[i]
                }
            case .neox:
                for i in 0..<half {
                    let a = v[i], b = v[i + half]
                    v[i] = a * c[i] - b * s[i]
                    v[i + half] = a * s[i] + b * c[i]
                }
            }
        }
    }
}
