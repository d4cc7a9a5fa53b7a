import ArgumentParser
import Foundation
import PodKV
import PodKVGGUF
import PodKVTokenizer

/// `podkv tokenize`: prints the token ids of a text as a JSON array.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokenize", abstract: "Print the token ids of a text as a JSON array.")

    @Option(name: .long, help: "Known model name or path to a GGUF file.")
    var model: String = "smollm2-135m"
    @Option(name: .long, help: "Text to tokenize.")
    var text: String?
    @Option(name: .long, help: "Read the text from this file.")
    var file: String?
    @Flag(name: .long, help: "Turn special-token text such as <|im_start|> into special tokens.")
    var parseSpecial = false
    @Flag(name: .long, help: "Add BOS when the model asks for it.")
    var addBOS = false

    func run() throws {
        let input: String
        if let t = text { input = t } else if let f = file {
            do { input = try String(contentsOfFile: f, encoding: .utf8) } catch {
                throw ValidationError("cannot read --file '\(f)': \(error.localizedDescription)")
            }
        } else {
            input = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        let url = try ModelStore().resolve(model) { Terminal.status($0) }
        Terminal.clearStatus()
        let tokenizer = try loadTokenizer(from: try GGUFFile(path: url.path))
        let ids = addBOS ? tokenizer.encodePrompt(input, parseSpecial: parseSpecial) : tokenizer.encode(input, parseSpecial: parseSpecial)
        Terminal.out("[" + ids.map(String.init).joined(separator: ", ") + "]\n")
    }
}
