/// A GitHub-flavoured markdown table.
public struct MarkdownTable {
    public var header: [String]
    public var rows: [[String]] = []

    public init(_ header: [String]) { self.header = header }

    public mutating func add(_ row: [String]) { rows.append(row) }

    /// The table text, cells with `|` escaped, ending with a newline.
    public var text: String {
        func line(_ cells: [String]) -> String { "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |" }
        return ([line(header), line(header.map { _ in "---" })] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}

/// Number formats shared by the reports.
enum Format {
    static func bytes(_ n: Int) -> String {
        let v = Double(n)
        if v >= Double(1 << 30) { return String(format: "%.2f GiB", v / Double(1 << 30)) }
        if v >= Double(1 << 20) { return String(format: "%.1f MiB", v / Double(1 << 20)) }
        if v >= 1024 { return String(format: "%.1f KiB", v / 1024) }
        return "\(n) B"
    }

    static func fixed(_ v: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", v) }

    static func percent(_ v: Double) -> String { String(format: "%.1f%%", 100 * v) }

    static func mean(_ v: [Double]) -> Double? { v.isEmpty ? nil : v.reduce(0, +) / Double(v.count) }
}

import Foundation
