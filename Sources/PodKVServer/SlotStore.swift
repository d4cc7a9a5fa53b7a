import Foundation
import PodKV

/// Named KV states on disk (`POST /slots/{name}/save` and `/restore`): one session state file per name
/// in one folder. Names are restricted to letters, digits, `-` and `_` so a name can never reach
/// outside the folder.
struct SlotStore: Sendable {
    let directory: String

    /// The file of slot `name`, after checking the name.
    func path(_ name: String) throws -> String {
        let allowed = name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
        }
        guard !name.isEmpty, name.count <= 64, allowed else {
            throw APIError.invalid("slot name '\(name)' is invalid: use 1 to 64 letters, digits, '-' or '_'", param: "name")
        }
        return directory + "/" + name + ".pkvstate"
    }

    /// Writes `state` as slot `name` (atomically); returns the file size.
    func save(_ state: SessionState, name: String) throws -> Int {
        let file = try path(name)
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw APIError(status: .internalServerError, type: "server_error",
                           message: "cannot create the slot folder '\(directory)': \(error.localizedDescription)")
        }
        try state.save(path: file)
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        return size
    }

    /// Reads slot `name`; 404 when it was never saved.
    func load(name: String) throws -> SessionState {
        let file = try path(name)
        guard FileManager.default.fileExists(atPath: file) else {
            throw APIError(status: .notFound, type: "not_found_error", message: "slot '\(name)' has not been saved", param: "name")
        }
        return try SessionState.load(path: file)
    }
}
