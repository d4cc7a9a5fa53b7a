import Foundation

/// One calibration text and where it came from.
public struct CorpusDocument: Sendable, Equatable {
    /// File path, or `built-in/<title>` for the fallback corpus.
    public var source: String
    public var text: String

    public init(source: String, text: String) {
        self.source = source
        self.text = text
    }
}

/// Calibration text: files and directories given by the user, or the built-in corpus.
public enum CalibrationCorpus {
    /// Reads `paths` (text files, or directories whose regular files are read, recursively, in sorted
    /// path order, hidden files skipped). An empty list gives `BuiltInCorpus.documents`.
    public static func load(paths: [String]) throws -> [CorpusDocument] {
        if paths.isEmpty { return BuiltInCorpus.documents }
        let fm = FileManager.default
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw CalibrationError.invalidInput("data path '\(path)' does not exist")
            }
            if isDirectory.boolValue {
                let found = try filesUnder(path)
                guard !found.isEmpty else { throw CalibrationError.invalidInput("data directory '\(path)' holds no files") }
                files += found
            } else {
                files.append(path)
            }
        }
        return try files.map { file in
            guard let data = fm.contents(atPath: file) else { throw CalibrationError.invalidInput("cannot read data file '\(file)'") }
            guard let text = String(data: data, encoding: .utf8) else {
                throw CalibrationError.invalidInput("data file '\(file)' is not UTF-8 text")
            }
            return CorpusDocument(source: file, text: text)
        }
    }

    private static func filesUnder(_ directory: String) throws -> [String] {
        let root = URL(fileURLWithPath: directory)
        guard let walker = FileManager.default.enumerator(
            at: root, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles])
        else { throw CalibrationError.invalidInput("cannot list data directory '\(directory)'") }
        var files: [String] = []
        for case let url as URL in walker {
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true { files.append(url.path) }
        }
        return files.sorted()
    }
}

/// Token windows cut from a corpus for calibration.
public enum CalibrationSamples {
    /// `count` samples of exactly `tokens` tokens. The documents are tokenized in order and joined by a
    /// blank line into one stream that is cut into consecutive windows; each sample starts with the
    /// model's BOS token when it uses one (as any prompt would).
    /// - Parameters:
    ///   - encode: text -> token ids, no BOS (e.g. `tokenizer.encode(_:parseSpecial: false)`).
    ///   - bos: the BOS id to put first, or nil.
    public static func make(
        documents: [CorpusDocument], count: Int, tokens: Int, bos: Int?, encode: (String) -> [Int]
    ) throws -> [[Int]] {
        guard count >= 1, tokens >= 2 else {
            throw CalibrationError.invalidOption("need at least one sample of at least 2 tokens (got \(count) x \(tokens))")
        }
        let body = tokens - (bos == nil ? 0 : 1)
        let needed = count * body
        var stream: [Int] = []
        for (i, doc) in documents.enumerated() where stream.count < needed {
            stream += encode(i == 0 ? doc.text : "\n\n" + doc.text)
        }
        guard stream.count >= needed else {
            throw CalibrationError.invalidInput(
                "the calibration text has \(stream.count) tokens, fewer than \(count) samples x \(body) tokens = \(needed); add --data or lower --samples/--tokens")
        }
        return (0..<count).map { k in (bos.map { [$0] } ?? []) + Array(stream[(k * body)..<((k + 1) * body)]) }
    }
}
