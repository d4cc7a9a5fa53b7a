/// The synthetic long-context tasks of `podkv eval ruler`, in the spirit of RULER (Hsieh et al., arXiv
/// 2404.06654): every sample is generated here from a seed, so the answer is known and really present.
public enum RulerTask: String, CaseIterable, Sendable, Codable {
    /// One key-value fact in filler; the value is a 5-digit number.
    case niahSingleNumber = "niah_single_number"
    /// One key-value fact; the value is a made-up word.
    case niahSingleWord = "niah_single_word"
    /// One key-value fact; the value is a UUID.
    case niahSingleUUID = "niah_single_uuid"
    /// Four facts with different keys (three distractors); asks for one key's number.
    case niahMultiKey = "niah_multikey"
    /// Four numbers for the same key; asks for all of them.
    case niahMultiValue = "niah_multivalue"
    /// A chain of assignments `VAR B = VAR A` from one number, plus a distractor chain; asks for every
    /// variable holding the number.
    case variableTracking = "variable_tracking"
    /// A long numbered list of words in which ten occur far more often; asks for those ten.
    case commonWords = "common_words"

    /// Parses a comma list of task names, or `all`.
    public static func parseList(_ text: String) throws -> [RulerTask] {
        if text == "all" { return allCases }
        return try text.split(separator: ",").map { name in
            guard let t = RulerTask(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw EvalError.badInput("unknown RULER task '\(name)' (tasks: \(allCases.map(\.rawValue).joined(separator: ", ")), or all)")
            }
            return t
        }
    }
}

import Foundation
