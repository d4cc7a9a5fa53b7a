/// Per-row arithmetic on next-token distributions, in the manner of `llama-perplexity --kl-divergence`.
enum TokenDistribution {
    /// Log-softmax of one row of logits, `[vocab]` -> `[vocab]` (max-subtracted, sums in Double).
    static func logSoftmax(_ logits: UnsafeBufferPointer<Float>) -> [Float] {
        var m = -Float.infinity
        for x in logits where x > m { m = x }
        var sum = 0.0
        for x in logits { sum += Double(expf(x - m)) }
        let lse = m + Float(log(sum))
        return logits.map { $0 - lse }
    }

    /// KL(P || Q) = sum_i p_i (log p_i - log q_i) in nats, from log-probabilities `[vocab]` each.
    static func kl(_ logP: [Float], _ logQ: [Float]) -> Double {
        var s = 0.0
        for i in logP.indices {
            let lp = logP[i]
            if lp > -80 { s += Double(expf(lp)) * Double(lp - logQ[i]) }
        }
        return max(0, s)
    }

    /// Index of the largest value (first on ties).
    static func argmax(_ v: [Float]) -> Int {
        var best = 0
        for i in v.indices where v[i] > v[best] { best = i }
        return best
    }
}

import Foundation
