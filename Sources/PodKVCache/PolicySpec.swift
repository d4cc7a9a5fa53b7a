import Foundation

/// A policy and its settings as users write them: `name` or `name:key=value,key=value`
/// (e.g. `pod:window=1024,group-size=4`, `streaming-llm:sink=4,window=512`). The same keys are used by
/// the CLI flags, the evaluation harness and the server's `kv_policy` field.
public struct PolicySpec: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    /// Settings in the order written.
    public var options: [(key: String, value: String)]

    public init(name: String, options: [(key: String, value: String)] = []) {
        self.name = name
        self.options = options
    }

    /// Parses `name[:key=value,...]`.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0])
        guard !name.isEmpty else { throw PolicyError.malformedSpec(text, "the policy name is empty") }
        var options: [(key: String, value: String)] = []
        if parts.count == 2 {
            for item in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
                let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard kv.count == 2, !kv[0].isEmpty, !kv[1].isEmpty else {
                    throw PolicyError.malformedSpec(text, "'\(item)' is not key=value")
                }
                let key = String(kv[0]).trimmingCharacters(in: .whitespaces)
                if options.contains(where: { $0.key == key }) {
                    throw PolicyError.malformedSpec(text, "'\(key)' is given twice")
                }
                options.append((key, String(kv[1]).trimmingCharacters(in: .whitespaces)))
            }
        }
        self.init(name: name, options: options)
    }

    /// The value of `key`, if given.
    public func value(_ key: String) -> String? { options.first { $0.key == key }?.value }

    /// Returns a copy with `key` set (replacing an earlier value).
    public func setting(_ key: String, _ value: String) -> PolicySpec {
        var copy = self
        if let i = copy.options.firstIndex(where: { $0.key == key }) { copy.options[i].value = value } else { copy.options.append((key, value)) }
        return copy
    }

    public var description: String {
        options.isEmpty ? name : name + ":" + options.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    public static func == (a: PolicySpec, b: PolicySpec) -> Bool { a.description == b.description }
}

/// Why a policy could not be built.
public enum PolicyError: Error, CustomStringConvertible, Equatable {
    case unknownPolicy(String, known: [String])
    case malformedSpec(String, String)
    case unknownOption(policy: String, key: String, known: [String])
    case invalidOption(policy: String, key: String, value: String, why: String)
    case invalidCombination(policy: String, why: String)

    public var description: String {
        switch self {
        case .unknownPolicy(let n, let known): "unknown KV policy '\(n)' (known: \(known.joined(separator: ", ")))"
        case .malformedSpec(let s, let why): "malformed KV policy '\(s)': \(why)"
        case .unknownOption(let p, let k, let known):
            "policy '\(p)' has no option '\(k)' (options: \(known.joined(separator: ", ")))"
        case .invalidOption(let p, let k, let v, let why): "policy '\(p)': \(k)=\(v) is invalid: \(why)"
        case .invalidCombination(let p, let why): "policy '\(p)': \(why)"
        }
    }
}

/// Typed, validated access to a spec's options for one policy; every read names the key in its error.
public struct PolicyOptionReader {
    public let spec: PolicySpec
    public let descriptor: PolicyDescriptor

    /// Checks that every given key is documented by the policy.
    public init(spec: PolicySpec, descriptor: PolicyDescriptor) throws {
        self.spec = spec
        self.descriptor = descriptor
        let known = descriptor.options.map(\.key)
        for (k, _) in spec.options where !known.contains(k) {
            throw PolicyError.unknownOption(policy: descriptor.name, key: k, known: known)
        }
    }

    private func fail(_ key: String, _ value: String, _ why: String) -> PolicyError {
        .invalidOption(policy: descriptor.name, key: key, value: value, why: why)
    }

    public func int(_ key: String, default d: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = spec.value(key) else { return d }
        guard let v = Int(text) else { throw fail(key, text, "not an integer") }
        guard range.contains(v) else { throw fail(key, text, "must be in \(range.lowerBound)...\(range.upperBound)") }
        return v
    }

    public func optionalInt(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard spec.value(key) != nil else { return nil }
        return try int(key, default: 0, in: range)
    }

    public func optionalFloat(_ key: String, in range: ClosedRange<Float>, openLower: Bool = false) throws -> Float? {
        guard let text = spec.value(key) else { return nil }
        guard let v = Float(text), v.isFinite else { throw fail(key, text, "not a number") }
        guard range.contains(v), !(openLower && v == range.lowerBound) else {
            throw fail(key, text, "must be in \(openLower ? "(" : "[")\(range.lowerBound), \(range.upperBound)]")
        }
        return v
    }

    public func choice<E: RawRepresentable & CaseIterable>(_ key: String, default d: E) throws -> E where E.RawValue == String {
        guard let text = spec.value(key) else { return d }
        guard let v = E(rawValue: text) else {
            throw fail(key, text, "expected one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return v
    }

    public func string(_ key: String) -> String? { spec.value(key) }
}
