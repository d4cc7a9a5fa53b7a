import ArgumentParser

/// `podkv eval`: quality of KV policies against the full cache (needle, perplexity/KL, synthetic tasks).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluate KV-cache policies: needle in a haystack, perplexity/KL, RULER-style tasks.",
        discussion: "Results go to --out DIR (JSONL per trial, report.md, heatmaps); runs resume. See docs/EVAL.md.",
        subcommands: [EvalNIAHCommand.self, EvalPPLCommand.self, EvalRulerCommand.self])
}
