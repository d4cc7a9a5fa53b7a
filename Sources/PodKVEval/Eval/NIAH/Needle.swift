/// The fact hidden in the haystack, the question that asks for it and the expected answer.
public struct Needle: Sendable, Equatable, Codable {
    /// The sentence inserted into the haystack, e.g. "The special magic number is 48213."
    public var text: String
    /// Asked after the haystack.
    public var question: String
    /// What a correct reply contains.
    public var answer: String

    public init(text: String, question: String, answer: String) {
        self.text = text
        self.question = question
        self.answer = answer
    }

    /// The default needle: a five-digit magic number drawn from `seed`, so tests and runs with other
    /// seeds are not fitted to one particular number.
    public static func magicNumber(seed: UInt64) -> Needle {
        var r = SeededRandom(seed: seed ^ 0x6E65_6564_6C65)
        let n = String(r.int(10_000...99_999))
        return Needle(
            text: "The special magic number is \(n).",
            question: "What is the special magic number mentioned in the text? Reply with the number only.",
            answer: n)
    }
}
