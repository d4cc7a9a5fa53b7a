import Foundation
import PodKV

/// The resumable state of a distillation run, kept in a directory: `state.json` (run key, step, curve,
/// optimizer moments and parameters). Written with `AtomicFile`, so an interrupted write leaves the
/// previous checkpoint intact. A checkpoint whose key differs (other settings, model, plan or
/// data) is refused rather than silently mixed in.
struct AdaptationCheckpoint {
    struct State: Codable {
        var key: String
        var step: Int
        var layers: [[Float]]
        var optimizers: [AdamOptimizer]
        var curve: [AdaptationCurvePoint]
    }

    let directory: String
    let key: String
    var path: String { (directory as NSString).appendingPathComponent("state.json") }

    /// The saved state, nil when there is none; throws when it belongs to another run or is damaged.
    func load() throws -> State? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw AdaptationError.checkpoint("cannot read \(path)") }
        let state: State
        do { state = try JSONDecoder().decode(State.self, from: data) } catch {
            throw AdaptationError.checkpoint("\(path) is damaged (\(error)); delete the directory to start over")
        }
        guard state.key == key else {
            throw AdaptationError.checkpoint(
                "\(path) belongs to a run with other settings, model, plan or data; use another --checkpoint-dir or delete it")
        }
        return state
    }

    func save(_ state: State) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try AtomicFile.write(try JSONEncoder().encode(state), to: path)
        } catch {
            throw AdaptationError.checkpoint("cannot write \(path): \(error.localizedDescription)")
        }
    }
}
