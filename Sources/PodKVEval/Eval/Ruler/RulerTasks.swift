/// The generators of every `RulerTask`: facts, question and answers drawn from a seeded generator.
extension RulerTask {
    /// The content of one sample for a prompt of about `length` tokens.
    func content(length: Int, seed: UInt64) -> RulerContent {
        var r = SeededRandom(seed: seed)
        let maxUnits = length / 4 + 8
        let fillerSeed = seed &+ 0x5EED
        func key() -> String { r.pseudoWord(syllables: 2) + "-" + r.pseudoWord(syllables: 2) }
        func number() -> String { String(r.int(10_000...99_999)) }
        func fractions(_ k: Int) -> [Double] { (0..<k).map { _ in 0.05 + 0.9 * r.unit() } }
        switch self {
        case .niahSingleNumber, .niahSingleWord, .niahSingleUUID:
            let kind = self == .niahSingleNumber ? "number" : self == .niahSingleWord ? "word" : "uuid"
            let k = key()
            let v = self == .niahSingleNumber ? number() : self == .niahSingleWord ? r.pseudoWord(syllables: 3) : r.uuid()
            return .needles(
                ["The special magic \(kind) for \(k) is: \(v)."], fractions: fractions(1), fillerSeed: fillerSeed, maxUnits: maxUnits,
                question: "What is the special magic \(kind) for \(k) mentioned in the text?",
                answerPrefix: "The special magic \(kind) for \(k) mentioned in the text is", expected: [v],
                maxTokens: self == .niahSingleUUID ? 40 : 24)
        case .niahMultiKey:
            let keys = (0..<4).map { _ in key() }
            let values = (0..<4).map { _ in number() }
            let asked = r.int(0...3)
            return .needles(
                zip(keys, values).map { "The special magic number for \($0) is: \($1)." }, fractions: fractions(4),
                fillerSeed: fillerSeed, maxUnits: maxUnits,
                question: "What is the special magic number for \(keys[asked]) mentioned in the text?",
                answerPrefix: "The special magic number for \(keys[asked]) mentioned in the text is",
                expected: [values[asked]], maxTokens: 24)
        case .niahMultiValue:
            let k = key()
            let values = (0..<4).map { _ in number() }
            return .needles(
                values.map { "One of the special magic numbers for \(k) is: \($0)." }, fractions: fractions(4),
                fillerSeed: fillerSeed, maxUnits: maxUnits,
                question: "What are all the special magic numbers for \(k) mentioned in the text?",
                answerPrefix: "The special magic numbers for \(k) mentioned in the text are", expected: values, maxTokens: 64)
        case .variableTracking:
            func name() -> String { String((0..<5).map { _ in Character(UnicodeScalar(UInt8(65 + r.int(0...25)))) }) }
            var names: [String] = []
            while names.count < 8 { let n = name(); if !names.contains(n) { names.append(n) } }
            let value = number(), other = number()
            let chain = Array(names[0..<5]), decoy = Array(names[5..<8])
            var facts = ["VAR \(chain[0]) = \(value)."] + (1..<5).map { "VAR \(chain[$0]) = VAR \(chain[$0 - 1])." }
            facts += ["VAR \(decoy[0]) = \(other)."] + (1..<3).map { "VAR \(decoy[$0]) = VAR \(decoy[$0 - 1])." }
            // Each chain's links appear in order: sorted fractions, assigned in sequence.
            let f1 = fractions(5).sorted(), f2 = fractions(3).sorted()
            return .needles(
                facts, fractions: f1 + f2, fillerSeed: fillerSeed, maxUnits: maxUnits,
                question: "Find all variables that are assigned the value \(value) in the text above, directly or through other variables.",
                answerPrefix: "Answer: the variables assigned the value \(value) are", expected: chain, maxTokens: 48)
        case .commonWords:
            var pool: [String] = []
            var seen = Set<String>()
            while pool.count < 10 + maxUnits {
                let w = r.pseudoWord(syllables: 2 + r.int(0...1))
                if seen.insert(w).inserted { pool.append(w) }
            }
            let common = Array(pool[0..<10]), rare = Array(pool[10...])
            // Frequencies scale with the length so short prompts still separate common from rare words.
            let commonFreq = max(4, min(30, length / 200)), rareFreq = max(1, min(3, commonFreq / 3))
            let shuffleSeed = seed &+ 0xC0FFEE
            return RulerContent(
                context: { n in
                    var words = common.flatMap { Array(repeating: $0, count: commonFreq) }
                    words += rare.prefix(n).flatMap { Array(repeating: $0, count: rareFreq) }
                    var s = SeededRandom(seed: shuffleSeed)
                    s.shuffle(&words)
                    return words.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: " ")
                },
                maxUnits: maxUnits,
                question: "What are the 10 most common words in the numbered list above? Reply with the ten words only.",
                answerPrefix: "The 10 most common words in the list are:", expected: common, maxTokens: 80)
        }
    }
}
