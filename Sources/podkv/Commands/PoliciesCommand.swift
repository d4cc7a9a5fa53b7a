import ArgumentParser
import PodKVCache

/// `podkv policies`: the registered KV-cache policies with their options.
struct PoliciesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "policies", abstract: "List KV-cache policies and their options.")

    func run() throws {
        for d in KVPolicyRegistry.all {
            Terminal.out("\(d.name): \(d.summary) [\(d.reference)]\n")
            for o in d.options {
                Terminal.out("  \(o.key)=\(o.defaultValue.isEmpty ? "-" : o.defaultValue)  \(o.help)\n")
            }
        }
    }
}
