/// What a task contributes to a prompt, independent of the model: a context that grows with a filler
/// count, the question, an answer prefix and the answers that must appear.
struct RulerContent {
    /// Context text for `n` filler units (monotone in `n`; the same `n` always gives the same text).
    var context: (Int) -> String
    /// A generous upper bound on useful filler units for the length.
    var maxUnits: Int
    var question: String
    var answerPrefix: String
    var expected: [String]
    var maxTokens: Int

    /// Needles (facts) inserted into filler sentences at fixed fractions of the filler.
    static func needles(_ facts: [String], fractions: [Double], fillerSeed: UInt64, maxUnits: Int,
                        question: String, answerPrefix: String, expected: [String], maxTokens: Int) -> RulerContent {
        let filler = FillerGenerator(seed: fillerSeed).sentences(maxUnits)
        let order = fractions.indices.sorted { fractions[$0] < fractions[$1] }
        return RulerContent(
            context: { n in
                var parts = Array(filler.prefix(n))
                // Insert from the deepest fact upward so earlier insertions do not shift later indices.
                for i in order.reversed() { parts.insert(facts[i], at: Int((fractions[i] * Double(n)).rounded())) }
                return parts.joined(separator: " ")
            },
            maxUnits: maxUnits, question: question, answerPrefix: answerPrefix, expected: expected, maxTokens: maxTokens)
    }
}
