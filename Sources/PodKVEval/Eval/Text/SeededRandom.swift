import PodKV

/// Small seeded helpers over xoshiro256** so every generated haystack, needle and task is reproducible
/// from its seed on any platform.
struct SeededRandom {
    private var rng: Xoshiro256StarStar

    init(seed: UInt64) { rng = Xoshiro256StarStar(seed: seed) }

    /// Uniform integer in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(rng.next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// Uniform element of a non-empty array.
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    /// Fisher-Yates shuffle.
    mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) { items.swapAt(i, int(0...i)) }
    }

    mutating func unit() -> Double { rng.nextUnitInterval() }

    /// A 36-character UUID-shaped string of lowercase hex (8-4-4-4-12).
    mutating func uuid() -> String {
        let hex = Array("0123456789abcdef")
        return [8, 4, 4, 4, 12].map { n in String((0..<n).map { _ in hex[int(0...15)] }) }.joined(separator: "-")
    }

    /// A pronounceable made-up word of `syllables` syllables (e.g. "tavoremi"), unlikely to be a real
    /// word the model already associates with anything.
    mutating func pseudoWord(syllables: Int) -> String {
        let onsets = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "tr", "st", "pl", "kr", "sh"]
        let vowels = ["a", "e", "i", "o", "u", "ai", "ou"]
        return (0..<syllables).map { _ in pick(onsets) + pick(vowels) }.joined()
    }
}
