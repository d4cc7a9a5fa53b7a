import Foundation

/// Writes `report.md` for an output directory from whichever result files it holds (`niah.jsonl`,
/// `ruler.jsonl`, `ppl.jsonl`), with a NIAH heatmap PNG per policy; every score sits next to the KV
/// bytes actually held. Rewritten after every command, so one directory gives one report.
public enum EvalReport {
    public static let niahFile = "niah.jsonl"
    public static let rulerFile = "ruler.jsonl"
    public static let pplFile = "ppl.jsonl"

    /// Regenerates the report and pictures in `dir`; returns the paths written (report first).
    @discardableResult
    public static func write(dir: URL) throws -> [String] {
        var md = "# PodKV evaluation report\n\nGenerated from the result files in this directory; field meanings are in docs/EVAL.md.\n"
        var written: [String] = []
        let fm = FileManager.default
        let niahURL = dir.appendingPathComponent(niahFile)
        if fm.fileExists(atPath: niahURL.path) {
            let rows = try TrialLog.rows(NIAHTrial.self, at: niahURL)
            let (text, images) = try niahSection(rows, dir: dir)
            md += text
            written += images
        }
        let pplURL = dir.appendingPathComponent(pplFile)
        if fm.fileExists(atPath: pplURL.path) { md += pplSection(try TrialLog.rows(PerplexityResult.self, at: pplURL)) }
        let rulerURL = dir.appendingPathComponent(rulerFile)
        if fm.fileExists(atPath: rulerURL.path) { md += rulerSection(try TrialLog.rows(RulerTrial.self, at: rulerURL)) }
        let reportURL = dir.appendingPathComponent("report.md")
        try md.write(to: reportURL, atomically: true, encoding: .utf8)
        return [reportURL.path] + written
    }

    /// Policies in first-seen order.
    private static func ordered(_ names: [String]) -> [String] {
        var seen: [String] = []
        for n in names where !seen.contains(n) { seen.append(n) }
        return seen
    }

    /// A file-name-safe form of a policy label.
    static func slug(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
    }

    static func niahSection(_ rows: [NIAHTrial], dir: URL) throws -> (String, [String]) {
        var md = "\n## Needle in a haystack\n\n"
        let models = ordered(rows.map(\.model))
        var images: [String] = []
        for model in models {
            let mr = rows.filter { $0.model == model }
            let lengths = Array(Set(mr.map(\.length))).sorted(), depths = Array(Set(mr.map(\.depth))).sorted()
            md += "Model `\(model)`; expected answers e.g. `\(mr.first?.expected ?? "")`. Score: 1 when the answer contains the expected text, else ROUGE-L recall.\n\n"
            var summary = MarkdownTable(["policy", "run as", "mean score", "found", "KV held (mean)", "formula", "saving vs full", "prefill tok/s", "note"])
            for p in ordered(mr.map(\.policy)) {
                let pr = mr.filter { $0.policy == p }
                let scored = pr.compactMap(\.score)
                let held = pr.compactMap(\.kvBytes).map(Double.init), formula = pr.compactMap(\.kvFormulaBytes).map(Double.init)
                let full = pr.compactMap(\.kvFullBytes).map(Double.init)
                let saving = (Format.mean(formula) ?? 0) / max(1, Format.mean(full) ?? 1)
                summary.add([
                    p, ordered(pr.map(\.policySpec)).joined(separator: "; "),
                    Format.mean(scored).map { Format.fixed($0, 2) } ?? "-",
                    "\(pr.filter { $0.exact == true }.count)/\(scored.count)",
                    Format.mean(held).map { Format.bytes(Int($0)) } ?? "-",
                    Format.mean(formula).map { Format.bytes(Int($0)) } ?? "-",
                    formula.isEmpty ? "-" : Format.percent(1 - saving),
                    Format.mean(pr.compactMap(\.prefillTokensPerSecond)).map { Format.fixed($0, 0) } ?? "-",
                    ordered(pr.compactMap(\.note)).joined(separator: "; "),
                ])
            }
            md += summary.text + "\n"
            for p in ordered(mr.map(\.policy)) {
                let pr = mr.filter { $0.policy == p }
                func cell(_ l: Int, _ d: Double) -> Double? { Format.mean(pr.filter { $0.length == l && $0.depth == d }.compactMap(\.score)) }
                let name = "niah-\(slug(model))-\(slug(p)).png"
                let canvas = NIAHHeatmap.draw(title: "NIAH \(p)", lengths: lengths, depths: depths, score: cell)
                let url = dir.appendingPathComponent(name)
                try canvas.write(to: url.path)
                images.append(url.path)
                md += "### `\(p)`\n\n![NIAH \(p)](\(name))\n\n"
                var grid = MarkdownTable(["depth \\ length"] + lengths.map(String.init))
                for d in depths {
                    grid.add([NIAHRunner.percent(d)] + lengths.map { l in cell(l, d).map { Format.fixed($0, 2) } ?? "-" })
                }
                md += grid.text + "\n"
                var held = MarkdownTable(["length", "prompt tokens", "KV held", "formula", "full cache", "answers (first depth)"])
                for l in lengths {
                    let lr = pr.filter { $0.length == l }
                    held.add([
                        String(l), Format.mean(lr.map { Double($0.promptTokens) }).map { String(Int($0)) } ?? "-",
                        Format.mean(lr.compactMap(\.kvBytes).map(Double.init)).map { Format.bytes(Int($0)) } ?? "-",
                        Format.mean(lr.compactMap(\.kvFormulaBytes).map(Double.init)).map { Format.bytes(Int($0)) } ?? "-",
                        Format.mean(lr.compactMap(\.kvFullBytes).map(Double.init)).map { Format.bytes(Int($0)) } ?? "-",
                        lr.first.map { "`" + $0.answer.prefix(80).replacingOccurrences(of: "\n", with: " ") + "`" } ?? "-",
                    ])
                }
                md += held.text + "\n"
            }
        }
        return (md, images)
    }

    static func pplSection(_ rows: [PerplexityResult]) -> String {
        let md = "\n## Perplexity and KL divergence from the full cache\n\n"
        var t = MarkdownTable(["model", "policy", "run as", "texts", "context", "scored", "ppl", "mean KL", "KL p99", "KL max", "top-1 agree", "KV held", "saving vs full"])
        for r in rows {
            t.add([
                r.model, r.policy, r.policySpec, String(r.texts), String(r.context), String(r.tokensScored), Format.fixed(r.ppl, 2),
                Format.fixed(r.kl, 4), Format.fixed(r.klP99, 3), Format.fixed(r.klMax, 3), Format.percent(r.top1Agreement),
                Format.bytes(r.kvBytes), Format.percent(1 - Double(r.kvFormulaBytes) / Double(max(1, r.kvFullBytes))),
            ])
        }
        return md + t.text
    }

    static func rulerSection(_ rows: [RulerTrial]) -> String {
        var md = "\n## RULER-style synthetic tasks\n\nAccuracy = mean fraction of expected answers present in the reply.\n\n"
        let policies = ordered(rows.map(\.policy))
        for model in ordered(rows.map(\.model)) {
            for length in Array(Set(rows.map(\.length))).sorted() {
                let mr = rows.filter { $0.model == model && $0.length == length }
                guard !mr.isEmpty else { continue }
                md += "Model `\(model)`, length \(length):\n\n"
                var t = MarkdownTable(["task"] + policies)
                for task in ordered(mr.map(\.task)) {
                    t.add([task] + policies.map { p in
                        let s = mr.filter { $0.task == task && $0.policy == p }.compactMap(\.score)
                        return Format.mean(s).map { Format.fixed($0, 2) + " (n=\(s.count))" } ?? "-"
                    })
                }
                t.add(["**mean**"] + policies.map { p in Format.mean(mr.filter { $0.policy == p }.compactMap(\.score)).map { Format.fixed($0, 2) } ?? "-" })
                t.add(["KV held (mean)"] + policies.map { p in Format.mean(mr.filter { $0.policy == p }.compactMap(\.kvBytes).map(Double.init)).map { Format.bytes(Int($0)) } ?? "-" })
                md += t.text + "\n"
            }
        }
        return md
    }
}
