import Foundation

/// Jensen-Shannon divergence between discrete distributions, in bits (log base 2), so it lies in [0, 1]
/// and `1 - JSD` is the layer similarity of PoD's calibration (POD.md §5).
///
/// JSD(p, q) = ½ KL(p ‖ m) + ½ KL(q ‖ m) with m = ½ (p + q). Terms with p_i = 0 contribute nothing
/// (0 log 0 = 0), and m_i > 0 wherever p_i > 0 or q_i > 0, so the divergence is finite for any inputs.
public enum JensenShannon {
    /// JSD in bits of two distributions of `count` entries each. Both should sum to 1; the function does
    /// not renormalise (the caller owns that choice). Identical inputs give exactly 0.
    public static func divergence(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, count n: Int) -> Double {
        var sum = 0.0
        for i in 0..<n {
            let a = Double(p[i]), b = Double(q[i])
            let m = 0.5 * (a + b)
            // a / m is exactly 1 when a == b, so identical entries add exactly 0.
            if a > 0 { sum += a * Foundation.log2(a / m) }
            if b > 0 { sum += b * Foundation.log2(b / m) }
        }
        // Rounding can leave a tiny negative or a value a hair above 1; JSD is in [0, 1] by definition.
        return min(1, max(0, 0.5 * sum))
    }

    /// JSD in bits of two distributions given as arrays of the same length.
    public static func divergence(_ p: [Float], _ q: [Float]) throws -> Double {
        guard p.count == q.count else {
            throw CalibrationError.invalidInput("distributions have different lengths (\(p.count) vs \(q.count))")
        }
        return p.withUnsafeBufferPointer { pb in
            q.withUnsafeBufferPointer { qb in
                guard let pa = pb.baseAddress, let qa = qb.baseAddress else { return 0 }
                return divergence(pa, qa, count: p.count)
            }
        }
    }

    /// `1 - JSD`: 1 for identical distributions, 0 for disjoint supports.
    public static func similarity(_ p: [Float], _ q: [Float]) throws -> Double { 1 - (try divergence(p, q)) }
}
