import Foundation

/// Progress and diagnostics on stderr; a status line is redrawn in place only on a terminal.
enum Terminal {
    static let isTTY = isatty(STDERR_FILENO) != 0

    static func status(_ line: String) {
        if isTTY {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// A progress line; on a terminal redrawn in place, otherwise printed only at each quarter.
    static func progress(_ label: String, done: Int, total: Int) {
        guard total > 0 else { return }
        if isTTY {
            status("\(label) \(done)/\(total)")
        } else if done == total || (done * 4 / total) != ((done - 1) * 4 / total) && done * 4 % total < 64 * 4 {
            status("\(label) \(done)/\(total)")
        }
    }

    static func clearStatus() {
        if isTTY { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    static func error(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Human summary of KV memory, e.g. "KV 12.3 MiB, 34.8% less than full (formula 12.1 MiB)".
    static func bytes(_ n: Int) -> String {
        let v = Double(n)
        if v >= Double(1 << 30) { return String(format: "%.2f GiB", v / Double(1 << 30)) }
        if v >= Double(1 << 20) { return String(format: "%.1f MiB", v / Double(1 << 20)) }
        if v >= 1024 { return String(format: "%.1f KiB", v / 1024) }
        return "\(n) B"
    }
}
