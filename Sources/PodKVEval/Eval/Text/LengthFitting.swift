/// Finds how much filler a prompt can take: the largest `n` in `0...upperBound` whose prompt has at most
/// `target` tokens, by binary search (token counts grow with `n`; tokenization is not exactly additive,
/// so each candidate is tokenized whole).
///
/// - Parameter tokens: token count of the prompt built with `n` filler units.
/// - Throws: `EvalError.cannotFit` when even `n = 0` is longer than `target`.
func largestFitting(target: Int, upperBound: Int, tokens: (Int) throws -> Int) throws -> Int {
    let bare = try tokens(0)
    guard bare <= target else {
        throw EvalError.cannotFit("the prompt without any filler already has \(bare) tokens, more than the requested \(target)")
    }
    var lo = 0, hi = max(0, upperBound)
    while lo < hi {
        let mid = (lo + hi + 1) / 2
        if try tokens(mid) <= target { lo = mid } else { hi = mid - 1 }
    }
    return lo
}
