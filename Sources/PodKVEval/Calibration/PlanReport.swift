import Foundation
import PodKVCache

/// The text summary of a plan printed by `podkv calibrate --report`: the model, how the plan was made,
/// the blocks of every KV head and the expected KV saving per context length.
public enum PlanReport {
    /// The report, lines ending in newlines.
    public static func render(_ plan: PoDPlan) -> String {
        var out = "PoD plan for \(plan.model)\n"
        let keys = ["rule", "delta", "target-saving", "context-length", "chosen-delta", "samples", "tokens", "queries",
                    "queries-scored", "sink", "window", "data", "group-size"]
        let made = keys.compactMap { k in plan.settings[k].map { "\(k)=\($0)" } }
        if !made.isEmpty { out += "made with: " + made.joined(separator: " ") + "\n" }
        if let sim = plan.similarity {
            let q = GreedyGrouping.meanOwnerSimilarity(owners: plan.owners, similarity: sim)
            out += String(format: "mean similarity of sharing layers to their owner: %.3f (loss proxy 1 - that: %.3f)\n", q, 1 - q)
        }
        out += "\n"
        var table = [["KV head", "blocks", "layer groups (owner first; mean similarity to owner)"]]
        for h in plan.owners.indices {
            let groups = plan.blocks(kvHead: h).map { b -> String in
                guard b.count > 1 else { return String(b.lowerBound) }
                var s = "\(b.lowerBound)-\(b.upperBound)"
                if let sim = plan.similarity?[h] {
                    let m = b.dropFirst().reduce(0) { $0 + sim[b.lowerBound][$1] } / Double(b.count - 1)
                    s += String(format: " (%.2f)", m)
                }
                return s
            }
            table.append([String(h), String(groups.count), groups.joined(separator: " | ")])
        }
        out += format(table)
        out += "\n"
        if let savings = plan.savings, !savings.isEmpty {
            var rows = [["context", "expected KV saving"]]
            for s in savings { rows.append([String(s.contextLength), String(format: "%.1f%%", s.saving * 100)]) }
            out += format(rows)
        } else {
            out += "expected saving: not recorded in this plan\n"
        }
        return out
    }

    /// Left-aligned columns separated by two spaces, a dashed rule under the header row.
    static func format(_ rows: [[String]]) -> String {
        guard let header = rows.first else { return "" }
        var widths = header.map(\.count)
        for r in rows { for (i, v) in r.enumerated() { widths[i] = max(widths[i], v.count) } }
        func line(_ r: [String]) -> String {
            r.enumerated().map { i, v in i == r.count - 1 ? v : v.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ") + "\n"
        }
        return line(header) + line(widths.map { String(repeating: "-", count: $0) }) + rows.dropFirst().map(line).joined()
    }
}
