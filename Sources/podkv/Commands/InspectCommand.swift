import ArgumentParser
import PodKV
import PodKVGGUF

/// `podkv inspect`: metadata and tensor table of a GGUF file.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show the metadata and tensors of a GGUF file.")

    @Argument(help: "Known model name or path to a GGUF file.")
    var model: String = "smollm2-135m"
    @Option(name: .long, help: "Array items shown per metadata value.")
    var maxArrayItems: Int = 8

    func run() throws {
        let url = try ModelStore().resolve(model) { Terminal.status($0) }
        Terminal.clearStatus()
        Terminal.out(try GGUFFile(path: url.path).describe(maxArrayItems: maxArrayItems) + "\n")
    }
}
