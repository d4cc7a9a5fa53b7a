import ArgumentParser

/// The `podkv` command line tool: a thin layer over the PodKV library.
@main
struct PodKVCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "podkv",
        abstract: "Long-context LLM inference on CPUs with PoD KV-cache compression.",
        subcommands: [
            AskCommand.self, GenerateCommand.self, ChatCommand.self, BenchCommand.self, TokenizeCommand.self, InspectCommand.self,
            PullCommand.self, ModelsCommand.self, PoliciesCommand.self,
            CalibrateCommand.self, AdaptCommand.self, EvalCommand.self, ServeCommand.self,
        ],
        defaultSubcommand: nil)
}
