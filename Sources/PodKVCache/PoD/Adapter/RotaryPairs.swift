import Foundation
import PodKVModel

/// The complex pairs of one attention head: which two dimensions rotate together under RoPE and at what
/// angular frequency. A per-pair complex scale [[a, -b], [b, a]] commutes with the rotation, which is why
/// the adapter's scales can act on already-rotated queries.
///
/// Dimensions past the rotary part (partial RoPE) are paired consecutively with frequency 0.
public struct RotaryPairs: Sendable, Equatable, Codable {
    /// Dimensions of one head (even).
    public let headDim: Int
    /// (headDim / 2) first and second dimension of each pair.
    public let first: [Int]
    public let second: [Int]
    /// (headDim / 2) angle per position of each pair, radians.
    public let frequency: [Double]

    public init(headDim: Int, ropeDim: Int, neox: Bool, frequencies: [Double]) {
        precondition(headDim % 2 == 0 && ropeDim <= headDim && frequencies.count == ropeDim / 2)
        self.headDim = headDim
        let half = ropeDim / 2
        var a = [Int](), b = [Int](), f = [Double]()
        for j in 0..<half {
            a.append(neox ? j : 2 * j)
            b.append(neox ? j + half : 2 * j + 1)
            f.append(frequencies[j])
        }
        var d = ropeDim
        while d + 1 < headDim {
            a.append(d)
            b.append(d + 1)
            f.append(0)
            d += 2
        }
        first = a
        second = b
        frequency = f
    }

    /// The pairs of a model's heads, from its configuration.
    public init(config: ModelConfig, rope: RotaryEmbedding) {
        self.init(headDim: config.headDim, ropeDim: config.ropeDim, neox: config.ropeStyle == .neox,
                  frequencies: rope.frequencies)
    }

    public var count: Int { first.count }

    /// Rotates `x` (headDim) in place to `position` (angle * position per pair); `inverse` rotates back.
    public func rotate(_ x: UnsafeMutablePointer<Float>, position: Int, inverse: Bool = false) {
        for j in 0..<count where frequency[j] != 0 {
            let angle = Double(position) * frequency[j]
            let c = Float(Foundation.cos(angle)), s = Float(inverse ? -Foundation.sin(angle) : Foundation.sin(angle))
            let u = x[first[j]], v = x[second[j]]
            x[first[j]] = u * c - v * s
            x[second[j]] = u * s + v * c
        }
    }

    /// output += scale ⊙ x, pair by pair as complex numbers; `scale` holds (re, im) of pair j at [2j, 2j+1].
    @inline(__always)
    public func addScaled(_ x: UnsafePointer<Float>, scale: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>) {
        for j in 0..<count {
            let re = scale[2 * j], im = scale[2 * j + 1]
            let u = x[first[j]], v = x[second[j]]
            output[first[j]] += re * u - im * v
            output[second[j]] += im * u + re * v
        }
    }
}
