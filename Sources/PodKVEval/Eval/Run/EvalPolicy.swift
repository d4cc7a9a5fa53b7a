import PodKV

/// A policy under evaluation: the spec as the user wrote it (its label in every table and JSONL row)
/// and the parsed spec.
public struct EvalPolicy: Sendable, Equatable {
    /// The user's spelling, normalised (`PolicySpec.description`); stable across runs, used to resume.
    public var label: String
    public var spec: PolicySpec

    public init(_ spec: PolicySpec) {
        self.spec = spec
        self.label = spec.description
    }

    /// Parses policy arguments: each may be one spec or a comma list of specs. In a comma list a piece
    /// with `=` but no `:` is another option of the spec before it, so
    /// `full,streaming-llm:window=256,pod:window=256,group-size=2` is three policies. Every name and
    /// option is checked against the registry.
    public static func parseList(_ arguments: [String]) throws -> [EvalPolicy] {
        var texts: [String] = []
        for arg in arguments {
            for piece in arg.split(separator: ",", omittingEmptySubsequences: true).map({ $0.trimmingCharacters(in: .whitespaces) }) {
                if piece.contains("="), !piece.contains(":") {
                    guard !texts.isEmpty else { throw EvalError.badInput("policy list '\(arg)' starts with an option '\(piece)' and no policy name") }
                    texts[texts.count - 1] += "," + piece
                } else {
                    texts.append(piece)
                }
            }
        }
        guard !texts.isEmpty else { throw EvalError.badInput("no policy given") }
        var result: [EvalPolicy] = []
        for t in texts {
            let spec = try PolicySpec(parsing: t)
            let d = try KVPolicyRegistry.descriptor(named: spec.name)
            _ = try PolicyOptionReader(spec: spec, descriptor: d)
            let p = EvalPolicy(spec)
            guard !result.contains(where: { $0.label == p.label }) else { throw EvalError.badInput("policy '\(p.label)' is listed twice") }
            result.append(p)
        }
        return result
    }
}
