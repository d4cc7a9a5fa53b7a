import ArgumentParser

/// The `podkv` command line tool: a thin layer over the PodKV library.
@main
struct PodKVCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "podkv",
        abstract: "Long-context LLM inference on CPUs with PoD KV-cache compression.",
        subcommands: [
            GenerateCommand.self, ChatCommand.self, TokenizeCommand.self, InspectCommand.self,
            PullCommand.self, ModelsCommand.self, PoliciesCommand.self,
            EvalCommand.self,
        ],
        defaultSubcommand: nil)
}
