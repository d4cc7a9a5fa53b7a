import ArgumentParser
import Foundation
import PodKV

/// `podkv chat`: an interactive, multi-turn conversation that keeps its KV cache between turns.
struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat", abstract: "Chat interactively (one message per line; /reset, /stats, /quit).")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var policy: PolicyFlags
    @OptionGroup var samplingFlags: SamplingFlags
    @Option(name: .long, help: "System message.")
    var system: String?
    @Option(name: .long, help: "Chat format: chatml, llama3, llama2 (default: from the model's template).")
    var chatFormat: ChatFormat?
    @Flag(name: .long, help: "Print speed and KV memory after each reply.")
    var stats = false

    func run() throws {
        let spec = try policy.spec()
        let model = try modelOptions.load()
        if chatFormat == nil, let w = model.chatFormatWarning { Terminal.error("warning: \(w)") }
        let session = try Session(model: model, policy: spec) { Terminal.error("warning: \($0)") }
        let chat = ChatSession(session: session, template: chatFormat.map { ChatTemplate(format: $0) }, system: system)
        let interactive = isatty(STDIN_FILENO) != 0
        Terminal.error("podkv chat: \(model.config.name), KV policy \(spec). Type a message; /reset, /stats, /quit.")
        while true {
            if interactive { Terminal.out("> ") }
            guard let line = readLine() else { break }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            switch text {
            case "/quit", "/exit": return
            case "/reset":
                chat.reset()
                Terminal.error("(conversation reset)")
                continue
            case "/stats":
                let kv = session.cache.memoryReport()
                Terminal.error("\(session.tokens.count) tokens in cache, KV \(Terminal.bytes(kv.allocatedBytes)) (\(Summary.f1(kv.saving * 100))% less than full)")
                continue
            default: break
            }
            do {
                let result = try chat.send(text, options: samplingFlags.generation) { event in
                    if case .token(_, let piece) = event { Terminal.out(piece) }
                }
                Terminal.out("\n")
                if stats { Terminal.error(Summary.line(result.stats)) }
            } catch {
                Terminal.error("error: \(error)")
            }
        }
    }
}
