import Foundation

/// An append-only JSONL file of finished trials: one JSON object per line, each with a `trial_key`.
/// Re-opening the file finds the keys already done, so an interrupted run resumes where it stopped; a
/// truncated last line (a crash mid-write) is ignored and that trial is run again.
public final class TrialLog {
    public let url: URL
    /// Keys of the trials already in the file.
    public private(set) var completed: Set<String> = []
    private let encoder: JSONEncoder

    private struct KeyOnly: Decodable {
        var trial_key: String
    }

    /// Opens (creating if needed) the log at `url`.
    public init(url: URL) throws {
        self.url = url
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let fm = FileManager.default
        try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if fm.fileExists(atPath: url.path) {
            for line in try Self.lines(url) {
                if let k = try? JSONDecoder().decode(KeyOnly.self, from: Data(line.utf8)) { completed.insert(k.trial_key) }
            }
        } else {
            guard fm.createFile(atPath: url.path, contents: nil) else { throw EvalError.badInput("cannot create '\(url.path)'") }
        }
    }

    /// Appends one row and flushes it to disk.
    public func append<Row: Encodable>(_ row: Row, key: String) throws {
        var data = try encoder.encode(row)
        data.append(0x0A)
        let h = try FileHandle(forUpdating: url)
        defer { try? h.close() }
        // A file cut mid-line by a crash gets a newline first so the new row starts on its own line.
        let end = try h.seekToEnd()
        if end > 0 {
            try h.seek(toOffset: end - 1)
            if try h.read(upToCount: 1) != Data([0x0A]) { data.insert(0x0A, at: 0) }
            _ = try h.seekToEnd()
        }
        try h.write(contentsOf: data)
        try h.synchronize()
        completed.insert(key)
    }

    /// Every well-formed row of type `Row` in the file at `url`, in file order.
    public static func rows<Row: Decodable>(_ type: Row.Type, at url: URL) throws -> [Row] {
        try lines(url).compactMap { try? JSONDecoder().decode(Row.self, from: Data($0.utf8)) }
    }

    private static func lines(_ url: URL) throws -> [String] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }
}
