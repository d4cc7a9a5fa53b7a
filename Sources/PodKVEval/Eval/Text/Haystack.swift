import Foundation

/// Background text for needle tests: sentences from text files (`--haystack DIR`) or the built-in
/// generator. A haystack is a sequence of sentences; needles are inserted between sentences.
public enum Haystack: Sendable {
    /// Sentences of every `.txt` file of a directory (or a single file), files in name order.
    case files(URL)
    /// `FillerGenerator` sentences of this seed.
    case generated(seed: UInt64)

    /// At most `count` sentences. A directory that runs out of sentences is read again from the start
    /// (the caller sees the same sentences repeated rather than a short prompt).
    public func sentences(_ count: Int) throws -> [String] {
        switch self {
        case .generated(let seed):
            return FillerGenerator(seed: seed).sentences(count)
        case .files(let url):
            let all = try Self.fileSentences(url)
            return (0..<max(0, count)).map { all[$0 % all.count] }
        }
    }

    /// Every sentence of the text files at `url`, in order.
    public static func fileSentences(_ url: URL) throws -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw EvalError.badInput("haystack '\(url.path)' does not exist")
        }
        let files: [URL]
        if isDir.boolValue {
            files = try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
                .filter { ["txt", "md"].contains($0.pathExtension.lowercased()) }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        } else {
            files = [url]
        }
        var result: [String] = []
        for f in files {
            guard let text = try? String(contentsOf: f, encoding: .utf8) else {
                throw EvalError.badInput("haystack file '\(f.path)' is not readable UTF-8 text")
            }
            result += splitSentences(text)
        }
        guard !result.isEmpty else { throw EvalError.badInput("haystack '\(url.path)' has no .txt/.md text") }
        return result
    }

    /// Splits prose into sentences at '.', '!' or '?' followed by whitespace; whitespace runs collapse
    /// to one space (paragraph structure does not matter for a haystack).
    public static func splitSentences(_ text: String) -> [String] {
        var sentences: [String] = []
        var current = ""
        var lastWasSpace = true
        let chars = Array(text)
        for (i, c) in chars.enumerated() {
            if c.isWhitespace {
                if !lastWasSpace { current.append(" ") }
                lastWasSpace = true
            } else {
                current.append(c)
                lastWasSpace = false
            }
            let atEnd = i + 1 == chars.count || chars[i + 1].isWhitespace
            if (c == "." || c == "!" || c == "?"), atEnd {
                let s = current.trimmingCharacters(in: .whitespaces)
                if !s.isEmpty { sentences.append(s) }
                current = ""
                lastWasSpace = true
            }
        }
        let rest = current.trimmingCharacters(in: .whitespaces)
        if !rest.isEmpty { sentences.append(rest) }
        return sentences
    }
}

/// Errors of the evaluation harness; every message names the offending input.
public enum EvalError: Error, CustomStringConvertible, Equatable {
    case badInput(String)
    case cannotFit(String)

    public var description: String {
        switch self {
        case .badInput(let why): why
        case .cannotFit(let why): why
        }
    }
}
