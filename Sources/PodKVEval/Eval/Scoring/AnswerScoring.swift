/// Scores a model's free-text answer against the expected answer.
///
/// Both texts are reduced to lowercase words (runs of letters and digits; a comma or period between two
/// digits is dropped, so "48,213" reads as "48213"). The answer is correct when the expected words
/// appear in it contiguously (exact containment, what NIAH and RULER's string match check); otherwise the
/// partial score is the ROUGE-L recall of the expected words (longest common subsequence over the
/// expected length), so an answer that recovers part of a multi-word needle gets part of the credit.
public enum AnswerScoring {
    /// One answer's scores.
    public struct Score: Sendable, Equatable, Codable {
        /// The expected words appear contiguously in the answer.
        public var exact: Bool
        /// ROUGE-L of answer vs expected, word level.
        public var rougeL: RougeL
        /// 1 when exact, else ROUGE-L recall; in 0...1.
        public var value: Double
    }

    /// ROUGE-L precision, recall and F1 (beta = 1) of a candidate against a reference.
    public struct RougeL: Sendable, Equatable, Codable {
        public var precision: Double
        public var recall: Double
        public var f1: Double
    }

    /// Scores `answer` against `expected`.
    public static func score(answer: String, expected: String) -> Score {
        let a = words(answer), e = words(expected)
        let r = rougeL(candidate: a, reference: e)
        let exact = containsSequence(a, e)
        return Score(exact: exact, rougeL: r, value: exact ? 1 : r.recall)
    }

    /// Fraction of `expected` answers each contained in `answer` (RULER's "all" string match); 0 when
    /// `expected` is empty.
    public static func fractionContained(answer: String, expected: [String]) -> Double {
        guard !expected.isEmpty else { return 0 }
        let a = words(answer)
        let hits = expected.filter { containsSequence(a, words($0)) }.count
        return Double(hits) / Double(expected.count)
    }

    /// Normalised words of `text`: lowercase runs of letters/digits, digit-grouping separators dropped.
    public static func words(_ text: String) -> [String] {
        let chars = Array(text.lowercased())
        var result: [String] = []
        var current = ""
        for (i, c) in chars.enumerated() {
            if c.isLetter || c.isNumber {
                current.append(c)
            } else if (c == "," || c == "."), i > 0, i + 1 < chars.count, chars[i - 1].isNumber, chars[i + 1].isNumber {
                continue  // "48,213" and "4.5" stay one word
            } else if !current.isEmpty {
                result.append(current)
                current = ""
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    /// ROUGE-L over word lists (Lin, 2004): LCS length over candidate and reference lengths.
    public static func rougeL(candidate: [String], reference: [String]) -> RougeL {
        let lcs = longestCommonSubsequence(candidate, reference)
        guard lcs > 0 else { return RougeL(precision: 0, recall: 0, f1: 0) }
        let p = Double(lcs) / Double(candidate.count), r = Double(lcs) / Double(reference.count)
        return RougeL(precision: p, recall: r, f1: 2 * p * r / (p + r))
    }

    /// Length of the longest common subsequence, O(|a|·|b|) time, O(|b|) memory.
    public static func longestCommonSubsequence(_ a: [String], _ b: [String]) -> Int {
        guard !a.isEmpty, !b.isEmpty else { return 0 }
        var prev = [Int](repeating: 0, count: b.count + 1)
        var row = prev
        for x in a {
            for (j, y) in b.enumerated() {
                row[j + 1] = x == y ? prev[j] + 1 : max(prev[j + 1], row[j])
            }
            swap(&prev, &row)
        }
        return prev[b.count]
    }

    /// Whether `needle` occurs as a contiguous run in `words` (an empty needle never does).
    static func containsSequence(_ words: [String], _ needle: [String]) -> Bool {
        guard !needle.isEmpty, needle.count <= words.count else { return false }
        for start in 0...(words.count - needle.count) where words[start] == needle[0] {
            if Array(words[start..<(start + needle.count)]) == needle { return true }
        }
        return false
    }
}
